import '../src/telemetry/worker';
import { appServices } from '../src/app/compose';
import { openApiController } from '../src/api/controllers';
import { openApiEndpoint } from '../src/api/endpoints';
import { defineApiRoute } from '../src/api/http';

/** GET /api/openapi.json: the OpenAPI 3 document, generated from the same zod schemas the routes parse with. */
export const openapi = defineApiRoute(openApiEndpoint, openApiController, appServices);
