import '../src/telemetry/worker';
import { listAuditController, listAuditEndpoint, meController, meEndpoint } from '../src/api/access';
import { appServices } from '../src/app/compose';
import { defineApiRoute } from '../src/api/http';

/** Who is signed in, and the audit trail of who changed what. */
export const me = defineApiRoute(meEndpoint, meController, appServices);
export const auditList = defineApiRoute(listAuditEndpoint, listAuditController, appServices);
