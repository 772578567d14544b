import '../src/telemetry/worker';
import { defineHttp } from '../src/host/registry';
import { findWebRoot, serveStatic } from '../src/web/static';

/** The admin page (web/), served by the app itself. The lowest-precedence route: every API route wins over it. */
const webRoot = findWebRoot(__dirname);

export const web = defineHttp({
  name: 'web',
  route: '{*path}',
  methods: ['GET', 'HEAD'],
  authLevel: 'anonymous',
  handler: async (request) => {
    const response = await serveStatic(webRoot, {
      path: request.params.path ?? '',
      method: request.method,
      ifNoneMatch: request.headers.get('if-none-match'),
    });
    return { status: response.status, headers: response.headers, body: response.body };
  },
});
