import '../src/telemetry/worker';
import { appServices } from '../src/app/compose';
import { getRunController, listRunsController, syncPortalController } from '../src/api/controllers';
import { getRunEndpoint, listRunsEndpoint, syncPortalEndpoint } from '../src/api/endpoints';
import { defineApiRoute } from '../src/api/http';

/** Sync now (or dry run), run history, one run. */
export const portalsSync = defineApiRoute(syncPortalEndpoint, syncPortalController, appServices);
export const runsList = defineApiRoute(listRunsEndpoint, listRunsController, appServices);
export const runsGet = defineApiRoute(getRunEndpoint, getRunController, appServices);
