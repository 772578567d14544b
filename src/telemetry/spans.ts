import { context, SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';
import type { TenantReader } from '../domain/tenant';
import { SPANS } from './names';
import { telemetryMode } from './start';

export const tracer = () => trace.getTracer('m365-license-sync');

function endSpan(span: Span, error?: unknown): void {
  if (error !== undefined) {
    const code = (error as { code?: unknown }).code;
    span.setStatus({ code: SpanStatusCode.ERROR, message: typeof code === 'string' ? code : 'error' });
  }
  span.end();
}

/** Runs `work` in a child span of the current one (the run): the tenant read, a reconciliation step, an apply. */
export function traceStep<T>(step: 'reconcile' | 'apply', work: () => T, attributes: Attributes = {}): T {
  if (telemetryMode() === 'off') return work();
  const span = tracer().startSpan(step === 'apply' ? SPANS.apply : SPANS.reconcile, { attributes });
  const inSpan = trace.setSpan(context.active(), span);
  let result: T;
  try {
    result = context.with(inSpan, work);
  } catch (error) {
    endSpan(span, error);
    throw error;
  }
  if (result instanceof Promise) {
    return result.then(
      (value: unknown) => (endSpan(span), value),
      (error: unknown) => {
        endSpan(span, error);
        throw error;
      },
    ) as T;
  }
  endSpan(span);
  return result;
}

/** A span around one read from the tenant; Graph's HTTP calls made inside it become its dependencies. */
interface ReadSpan {
  span: Span;
  run: <T>(work: () => Promise<T>) => Promise<T>;
}
function readSpan(read: string): ReadSpan {
  const span = tracer().startSpan(SPANS.tenantRead, { attributes: { read } });
  const inSpan = trace.setSpan(context.active(), span);
  return { span, run: (work) => context.with(inSpan, work) };
}

async function* tracedPages<T, R>(
  read: string,
  source: AsyncIterator<T, R>,
  count: (page: T) => number,
): AsyncGenerator<T, R, undefined> {
  const { span, run } = readSpan(read);
  let ended = false;
  const end = (error?: unknown) => {
    if (ended) return;
    ended = true;
    endSpan(span, error);
  };
  let pages = 0;
  let items = 0;
  try {
    for (;;) {
      const step = await run(() => source.next());
      if (step.done) {
        span.setAttributes({ pages, users: items });
        end();
        return step.value;
      }
      pages += 1;
      items += count(step.value);
      yield step.value;
    }
  } catch (error) {
    end(error);
    throw error;
  } finally {
    end(); // the consumer stopped early
  }
}

/** The reader with a `licensesync.tenant.read` span per read (plans, the users' pages, a delta round). */
export function tracedReader(reader: TenantReader): TenantReader {
  if (telemetryMode() === 'off') return reader;
  const once = async <T>(read: string, work: () => Promise<T>): Promise<T> => {
    const { span, run } = readSpan(read);
    try {
      const value = await run(work);
      endSpan(span);
      return value;
    } catch (error) {
      endSpan(span, error);
      throw error;
    }
  };
  const latestDeltaLink = reader.latestDeltaLink?.bind(reader);
  return {
    readPlans: () => once('plans', () => reader.readPlans()),
    readUsers: () => tracedPages('users', reader.readUsers()[Symbol.asyncIterator](), (page) => page.length),
    readUserDelta: (deltaLink) =>
      tracedPages('delta', reader.readUserDelta(deltaLink), (page) => page.users.length + page.removedObjectIds.length),
    ...(latestDeltaLink ? { latestDeltaLink: () => once('deltaLink', latestDeltaLink) } : {}),
    readSubscriptions: () => once('subscriptions', () => reader.readSubscriptions()),
    readSignInActivity: () =>
      tracedPages('signInActivity', reader.readSignInActivity()[Symbol.asyncIterator](), (page) => page.length),
    stats: () => reader.stats(),
  };
}
