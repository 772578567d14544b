// The composition root registers how the services are made (in Azure nothing else does before a request).
import '../src/app/compose';
import { listAuditController, listAuditEndpoint, meController, meEndpoint } from '../src/api/access';
import { defineApiRoute } from '../src/api/http';

/** Who is signed in, and the audit trail of who changed what. */
export const me = defineApiRoute(meEndpoint, meController);
export const auditList = defineApiRoute(listAuditEndpoint, listAuditController);
