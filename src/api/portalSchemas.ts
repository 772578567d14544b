import { X509Certificate, createPrivateKey } from 'node:crypto';
import { z } from 'zod';
import { noticeSchema } from '../domain/insights';
import { cloudSchema, DEFAULT_INACTIVE_DAYS, portalRecordSchema } from '../domain/records';
import { emailSchema, nextToken } from './fields';
import { displayText } from './text';

/** The shapes of the portal access routes, their verification and Connect a tenant. */

/** C0 controls and DEL, which never belong in a name. */
function hasControlCharacter(value: string): boolean {
  for (const char of value) {
    const code = char.codePointAt(0)!;
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const DOMAIN = /^(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/;
const guidSchema = z.string().regex(GUID, 'must be a GUID');
const tenantSchema = z
  .string()
  .refine((value) => GUID.test(value) || DOMAIN.test(value), 'must be the tenant GUID or a verified domain')
  .meta({ description: 'The tenant GUID or one of its verified domains (e.g. contoso.onmicrosoft.com).' });
const nameSchema = displayText(
  z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(80, 'must be at most 80 characters')
    .refine((value) => !hasControlCharacter(value), 'must not contain control characters'),
).meta({ description: "Unique (case-insensitive); prefixes the names of the portal's licenses." });

const ACTIVITY_DESCRIPTION =
  "Read users' sign-in activity once a day (needs AuditLog.Read.All and Entra ID P1) and flag inactive holders.";
const inactiveDaysSchema = z
  .number()
  .int('must be a whole number of days')
  .min(7, 'must be from 7 to 365')
  .max(365, 'must be from 7 to 365')
  .meta({ description: 'Days without a sign-in after which a holder is inactive (7-365, default 90).' });

function isUsablePem(pem: string): boolean {
  try {
    const key = createPrivateKey(pem);
    return new X509Certificate(pem).checkPrivateKey(key);
  } catch {
    return false;
  }
}

export const portalAuthSchema = z
  .discriminatedUnion('kind', [
    z
      .strictObject({
        kind: z.literal('clientSecret'),
        clientSecret: z.string().min(1, 'must not be empty').max(1024),
        expiresAt: z
          .string()
          .datetime({ offset: true, message: 'must be an ISO date-time, e.g. 2027-01-31T00:00:00Z' })
          .optional()
          .meta({
            description: "When the secret expires (as shown in Entra ID); shown as the portal's credentialExpiresAt.",
          }),
      })
      .meta({ id: 'ClientSecretAuth', description: 'App registration with a client secret (recommended).' }),
    z
      .strictObject({
        kind: z.literal('certificate'),
        certificate: z
          .string()
          .max(32 * 1024)
          .refine(
            isUsablePem,
            'must be a PEM with the certificate and its unencrypted private key, matching each other',
          ),
      })
      .meta({
        id: 'CertificateAuth',
        description: 'App registration with a certificate: PEM with the certificate and its private key (recommended).',
      }),
    z
      .strictObject({
        kind: z.literal('password'),
        username: emailSchema,
        password: z.string().min(1, 'must not be empty').max(256),
      })
      .meta({
        id: 'PasswordAuth',
        description: "Legacy: a user's e-mail and password. Fails under MFA; Microsoft deprecates it.",
      }),
    z.strictObject({ kind: z.literal('federated') }).meta({
      id: 'FederatedAuth',
      description:
        "Secretless: the operator's multi-tenant app, signed in with the function app's managed identity (nothing is stored).",
    }),
  ])
  .meta({ id: 'PortalAuth', description: 'Credentials; write-only (responses show hasSecret and secretSetAt only).' });
export type PortalAuth = z.infer<typeof portalAuthSchema>;

export const portalCreateSchema = z
  .strictObject({
    name: nameSchema,
    tenantId: tenantSchema,
    clientId: guidSchema.optional().meta({
      description:
        'Application (client) id of the app registration. Required, except for the federated kind (default LICENSE_SYNC_MULTITENANT_CLIENT_ID).',
    }),
    cloud: cloudSchema.default('global').meta({ description: '`simulated` only in local runs (the demo tenant).' }),
    active: z.boolean().default(true),
    autoSync: z.boolean().default(true),
    activity: z.boolean().default(false).meta({ description: ACTIVITY_DESCRIPTION }),
    inactiveDays: inactiveDaysSchema.default(DEFAULT_INACTIVE_DAYS),
    auth: portalAuthSchema,
  })
  .meta({ id: 'PortalCreate' });
export type PortalCreate = z.infer<typeof portalCreateSchema>;

export const portalChangeSchema = z
  .strictObject({
    name: nameSchema.optional(),
    tenantId: tenantSchema.optional(),
    clientId: guidSchema.optional(),
    cloud: cloudSchema.optional(),
    active: z.boolean().optional(),
    autoSync: z.boolean().optional(),
    activity: z.boolean().optional().meta({ description: ACTIVITY_DESCRIPTION }),
    inactiveDays: inactiveDaysSchema.optional(),
    auth: portalAuthSchema.optional(),
  })
  .refine((change) => Object.values(change).some((value) => value !== undefined), {
    message: 'must change at least one field',
    // Only for an otherwise valid body: unknown fields are reported as such, not as "nothing to change".
    when: (payload) => payload.issues.length === 0,
  })
  .meta({
    id: 'PortalChange',
    description:
      'Only the fields to change. New credentials (auth) write a new secret version; switching the kind needs the new secret.',
  });
export type PortalChange = z.infer<typeof portalChangeSchema>;

export const portalSchema = portalRecordSchema
  .omit({
    deltaLink: true,
    lastFullReadAt: true,
    userLinksAt: true,
    activityTriedOn: true,
    licensedUsers: true,
    historyDigest: true,
    alertsDigest: true,
  })
  .extend({
    activity: z.boolean().meta({ description: ACTIVITY_DESCRIPTION }),
    inactiveDays: inactiveDaysSchema,
    activityNotice: noticeSchema
      .optional()
      .meta({ description: 'Why the last activity pass could not read sign-ins, and what to do; until one succeeds.' }),
    subscriptionsNotice: noticeSchema
      .optional()
      .meta({ description: 'Why the last run could not read the subscriptions (the licenses keep theirs).' }),
    legacy: z.literal(true).optional().meta({ description: 'Set for the legacy password kind.' }),
  })
  .meta({ id: 'Portal', description: 'A portal access (one tenant login). Never shows a secret.' });
export type PortalView = z.infer<typeof portalSchema>;
export const portalListSchema = z
  .object({ items: z.array(portalSchema), continuationToken: nextToken })
  .meta({ id: 'PortalList' });

export const tenantPlanSchema = z
  .object({
    skuId: z.string(),
    skuPartNumber: z.string(),
    capabilityStatus: z.string(),
    appliesTo: z.string(),
    consumedUnits: z.number().int(),
    prepaidUnits: z.object({
      enabled: z.number().int(),
      warning: z.number().int(),
      suspended: z.number().int(),
      lockedOut: z.number().int(),
    }),
  })
  .meta({ id: 'TenantPlan' });

export const verifyResultSchema = z
  .object({ portalId: z.string(), ok: z.literal(true), plans: z.array(tenantPlanSchema) })
  .meta({ id: 'VerifyResult', description: 'The sign-in worked and these plans were read.' });

export const portalConnectSchema = z
  .strictObject({
    name: nameSchema,
    cloud: cloudSchema.default('global').meta({ description: '`simulated` only in local runs (the demo tenant).' }),
  })
  .meta({ id: 'PortalConnect', description: 'Connect a tenant: its portal access is made when its admin consents.' });

export const consentStartSchema = z
  .object({
    consentUrl: z.string().url().meta({ description: "Microsoft's admin-consent page; open it in the browser." }),
    expiresAt: z.string().datetime({ offset: true }).meta({ description: 'The consent must be given before this.' }),
  })
  .meta({ id: 'ConsentStart' });
