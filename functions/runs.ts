import '../src/telemetry/worker';
// The composition root registers how the services are made (in Azure nothing else does before a request).
import '../src/app/compose';
import { getRunController, listRunsController, syncPortalController } from '../src/api/controllers';
import { getRunEndpoint, listRunsEndpoint, syncPortalEndpoint } from '../src/api/endpoints';
import { defineApiRoute } from '../src/api/http';

/** Sync now (or dry run), run history, one run. */
export const portalsSync = defineApiRoute(syncPortalEndpoint, syncPortalController);
export const runsList = defineApiRoute(listRunsEndpoint, listRunsController);
export const runsGet = defineApiRoute(getRunEndpoint, getRunController);
