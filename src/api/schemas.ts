import { X509Certificate, createPrivateKey } from 'node:crypto';
import { z } from 'zod';
import { displayText } from './text';
import {
  cloudSchema,
  conflictSchema,
  consumerRecordSchema,
  contactRecordSchema,
  licenseRecordSchema,
  portalRecordSchema,
  runCountsSchema,
  runRecordSchema,
  DEFAULT_INACTIVE_DAYS,
} from '../domain/records';
import { decodeCursor, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../domain/paging';
import { noticeSchema, PRICE_PERIODS } from '../domain/insights';

/** C0 controls and DEL, which never belong in a name. */
function hasControlCharacter(value: string): boolean {
  for (const char of value) {
    const code = char.codePointAt(0)!;
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

/**
 * Every shape the HTTP API reads or writes, once. Handlers parse with these, responses are parsed through them
 * (objects strip what a schema does not list, so internal fields never leave), and the OpenAPI document is
 * generated from them (src/api/openapi.ts). `meta({ id })` names a schema in the document's components.
 */

/** Bodies larger than this are refused (413) before they are parsed; a certificate PEM is a few KB. */
export const MAX_BODY_BYTES = 64 * 1024;

// ---- ids and small values -------------------------------------------------------------------------------

const ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
export const idSchema = z.string().regex(ID, 'must be 1-64 letters, digits, - or _');
/** `${portalId}.${skuId}` */
export const licenseIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}\.[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'must be <portalId>.<skuId>');

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
const emailSchema = z.email('must be an e-mail address').max(320);

// ---- errors -----------------------------------------------------------------------------------------------

export const fieldErrorSchema = z
  .object({
    in: z.enum(['path', 'query', 'body']),
    /** Dotted path of the failing field, e.g. `auth.clientSecret`; empty for the whole body. */
    path: z.string(),
    message: z.string(),
  })
  .meta({ id: 'FieldError' });
export type FieldError = z.infer<typeof fieldErrorSchema>;

export const errorResponseSchema = z
  .strictObject({
    error: z.strictObject({
      code: z.string(),
      message: z.string(),
      fields: z.array(fieldErrorSchema).optional(),
    }),
  })
  .meta({
    id: 'Error',
    description: 'Every error: a stable code, a message a person can act on, and the failing fields of a 400.',
  });
export type ErrorResponse = z.infer<typeof errorResponseSchema>;

// ---- portals ----------------------------------------------------------------------------------------------

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

/** The `continuationToken` of a page: absent on the last page. */
const nextToken = z
  .string()
  .optional()
  .meta({ description: 'Where the next page starts: pass it as `?continuationToken=`. Absent on the last page.' });

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

// ---- runs and sync ----------------------------------------------------------------------------------------

export const runSchema = runRecordSchema.meta({ id: 'Run' });
export const runListSchema = z
  .object({ items: z.array(runSchema), continuationToken: nextToken })
  .meta({ id: 'RunList' });
export const syncQueuedSchema = z.object({ runId: z.string() }).meta({ id: 'SyncQueued' });

export const licenseSchema = licenseRecordSchema
  .extend({
    monthlyUnitPrice: z.number().optional().meta({ description: 'Per seat and month, rounded to cents.' }),
    currency: z.string().optional(),
    monthlyCost: z.number().optional().meta({ description: 'available x monthly unit price, rounded to cents.' }),
    price: z
      .object({
        amount: z.string(),
        currency: z.string(),
        period: z.enum(PRICE_PERIODS),
        source: z.enum(['license', 'plan']),
      })
      .optional()
      .meta({ description: "The price that applies: this license's own, else its plan's." }),
  })
  .meta({ id: 'License' });
export const licenseListSchema = z
  .object({ items: z.array(licenseSchema), continuationToken: nextToken })
  .meta({ id: 'LicenseList' });

export const consumerSchema = consumerRecordSchema
  .omit({ userFingerprint: true, contactEmail: true, contactName: true })
  .meta({ id: 'Consumer', description: "A contact linked to a license, owned by a portal's sync or made by hand." });
/** A consumer as listed: with its contact's address and name, and when the sync last saw it (sync-owned only). */
export const consumerListItemSchema = consumerSchema
  .extend({
    contact: z
      .object({ id: z.string(), email: z.string(), displayName: z.string() })
      .nullable()
      .meta({ description: 'The linked contact; null if it was deleted.' }),
    lastSeen: z
      .string()
      .datetime({ offset: true })
      .optional()
      .meta({ description: "Sync-owned: end of the portal's last successful run, which saw this assignment." }),
  })
  .meta({ id: 'ConsumerListItem' });
export const consumerListSchema = z
  .object({ items: z.array(consumerListItemSchema), continuationToken: nextToken })
  .meta({ id: 'ConsumerList' });

export const contactSchema = contactRecordSchema.meta({ id: 'Contact' });
export const contactListSchema = z.object({ items: z.array(contactSchema) }).meta({ id: 'ContactList' });

export const changePlanSchema = z
  .object({
    portalId: z.string(),
    licenses: z.object({ create: z.array(licenseSchema), update: z.array(licenseSchema) }),
    contacts: z.object({
      create: z.array(contactSchema),
      addAliases: z.array(z.object({ contactId: z.string(), addresses: z.array(z.string()) })),
    }),
    consumers: z.object({
      add: z.array(consumerSchema),
      update: z.array(
        consumerSchema
          .pick({ licenseId: true, portalId: true, skuId: true, contactId: true, assignment: true, updatedAt: true })
          .meta({ description: 'The new assignment of a sync-owned consumer.' }),
      ),
      remove: z.array(
        z
          .object({
            licenseId: z.string(),
            portalId: z.string(),
            skuId: z.string(),
            contactId: z.string(),
            objectId: z.string().optional(),
            userPrincipalName: z.string().optional(),
          })
          .meta({ description: 'A sync-owned consumer to unlink, and the account it stood for.' }),
      ),
    }),
    conflicts: z.array(conflictSchema),
    counts: runCountsSchema,
  })
  .meta({ id: 'ChangePlan', description: 'What a sync would change in the ledger.' });

export const syncPreviewSchema = z
  .object({
    runId: z.string(),
    summary: z.object({ headline: z.string(), lines: z.array(z.string()) }),
    plan: changePlanSchema,
    truncated: z.boolean().optional().meta({
      description: 'true: each list of the plan holds only its first 1,000 changes; the counts cover all of them.',
    }),
  })
  .meta({ id: 'SyncPreview', description: 'A dry run: the plan of changes, written nowhere.' });

// ---- contacts and consumers -------------------------------------------------------------------------------

export const contactCreateSchema = z
  .strictObject({
    email: emailSchema,
    displayName: displayText(z.string().trim().min(1, 'must not be empty').max(256)),
    aliases: z.array(emailSchema).max(50).optional(),
  })
  .meta({ id: 'ContactCreate' });
export type ContactCreate = z.infer<typeof contactCreateSchema>;

export const consumerLinkSchema = z.strictObject({ contactId: idSchema }).meta({ id: 'ConsumerLink' });

export const openApiDocumentSchema = z
  .looseObject({
    openapi: z.string(),
    info: z.looseObject({ title: z.string(), version: z.string() }),
    paths: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'OpenApiDocument', description: 'This document.' });

// ---- path and query parameters ----------------------------------------------------------------------------

const booleanQuery = z.enum(['true', 'false']).optional();

export const portalParams = z.strictObject({ id: idSchema });
export type LicenseView = z.infer<typeof licenseSchema>;
export const runParams = z.strictObject({ id: idSchema, runId: idSchema });
export const licenseParams = z.strictObject({ id: licenseIdSchema });
export const consumerParams = z.strictObject({ id: licenseIdSchema, contactId: idSchema });

export const deleteQuery = z.strictObject({
  purge: booleanQuery.meta({ description: "`true` also deletes the portal's licenses, consumers and run history." }),
});
export const syncQuery = z.strictObject({
  dryRun: booleanQuery.meta({ description: '`true`: compute and return the plan of changes now, write nothing.' }),
});
export const FORMATS = ['json', 'csv'] as const;

export const formatQuery = z.enum(FORMATS).optional().meta({
  description:
    '`csv`: the whole list as a CSV file (RFC 4180, UTF-8 with a BOM, an attachment named `<list>-<YYYY-MM-DD>.csv`), streamed; nested fields are dotted columns. `json` (default): JSON.',
});

/** The 200 response of a list with `?format=csv` (OpenAPI). */
export const csvFileSchema = z.string().meta({
  id: 'CsvFile',
  description:
    'With `?format=csv`: RFC 4180, UTF-8 with a BOM, a header row of dotted field names; arrays of values are joined with "; " in one cell, arrays of objects are JSON; text cells starting with =, +, -, @, tab or CR are prefixed with \'.',
});

/** The query of a list: its own filters, and `format`. */
export function listQuery<S extends z.ZodRawShape>(shape: S) {
  return z.strictObject({ ...shape, format: formatQuery });
}

/** `?limit=` and `?continuationToken=` of every paged list. */
function pageQuery(defaultLimit: number) {
  const range = `must be a whole number from 1 to ${MAX_PAGE_SIZE}`;
  return {
    limit: z
      .string()
      .regex(/^\d{1,4}$/, range)
      .refine((value) => Number(value) >= 1 && Number(value) <= MAX_PAGE_SIZE, range)
      .optional()
      .meta({ description: `At most this many items (1-${MAX_PAGE_SIZE}, default ${defaultLimit}).` }),
    continuationToken: z
      .string()
      .refine((value) => decodeCursor(value) !== undefined, 'is not a continuation token of this list')
      .optional()
      .meta({ description: 'The `continuationToken` of the previous page: the next page.' }),
  };
}

/** Run history pages are shorter by default: the page shows the latest runs. */
export const RUN_PAGE_SIZE = 50;
export const runListQuery = listQuery(pageQuery(RUN_PAGE_SIZE));
export const licenseListQuery = listQuery({ portalId: idSchema.optional(), ...pageQuery(DEFAULT_PAGE_SIZE) });
export const contactFindQuery = listQuery({ email: emailSchema });
export const consumerListQuery = listQuery(pageQuery(DEFAULT_PAGE_SIZE));
export const portalListQuery = listQuery(pageQuery(DEFAULT_PAGE_SIZE));
export const emptyQuery = z.strictObject({});
