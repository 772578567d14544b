import type { HttpHandler } from '@azure/functions';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { tracer } from './spans';
import { telemetryMode } from './start';

/**
 * The request's span carries its route (`http.route`, e.g. `/api/portals/{id}`): locally the HTTP server span
 * of the http instrumentation; in the Functions worker, where the request arrives over the host's channel and
 * not as an HTTP server request, a server span of its own under the invocation.
 */
export function withRequestTelemetry(route: string, handler: HttpHandler): HttpHandler {
  if (telemetryMode() === 'off') return handler;
  return async (request, invocation) => {
    const httpRoute = `/${route}`;
    const name = `${request.method} ${httpRoute}`;
    const active = trace.getActiveSpan();
    if (active?.isRecording()) {
      active.setAttribute('http.route', httpRoute);
      active.updateName(name);
      return handler(request, invocation);
    }
    const span = tracer().startSpan(name, {
      kind: SpanKind.SERVER,
      attributes: {
        'http.route': httpRoute,
        'http.request.method': request.method,
        'url.path': new URL(request.url).pathname,
      },
    });
    try {
      const response = await context.with(trace.setSpan(context.active(), span), () => handler(request, invocation));
      const status = (response as { status?: number } | undefined)?.status ?? 200;
      span.setAttribute('http.response.status_code', status);
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      return response;
    } catch (error) {
      span.setAttribute('http.response.status_code', 500);
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw error;
    } finally {
      span.end();
    }
  };
}

/**
 * Adds who called to the current request's span: the caller's Entra object id only (`enduser.id`), never a
 * name, an address or a token. For access control (x-ms-client-principal) to call once it knows the caller.
 */
export function annotateRequest(caller: { objectId?: string }): void {
  if (caller.objectId) trace.getActiveSpan()?.setAttribute('enduser.id', caller.objectId);
}
