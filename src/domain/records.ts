import { z } from 'zod';
import { licenseSubscriptionSchema, noticeSchema } from './insights';

/**
 * The shapes of the ledger as the rest of the code sees them. Storage adapters map these to and from table
 * entities; the HTTP API answers with them. One schema per shape; the type is inferred from it.
 */

export const CLOUDS = ['global', 'usgov', 'usgovdod', 'china'] as const;
/** `simulated` is the built-in demo tenant of local runs; the API accepts it only when the local host enables it. */
export const cloudSchema = z.enum([...CLOUDS, 'simulated']);
export type Cloud = z.infer<typeof cloudSchema>;

/** `federated`: the operator's multi-tenant app, signed in with the function app's managed identity (no secret). */
export const AUTH_KINDS = ['clientSecret', 'certificate', 'password', 'federated'] as const;
export const authKindSchema = z.enum(AUTH_KINDS);
export type AuthKind = z.infer<typeof authKindSchema>;

export const RUN_TRIGGERS = ['schedule', 'manual', 'dryRun'] as const;
export const runTriggerSchema = z.enum(RUN_TRIGGERS);
export type RunTrigger = z.infer<typeof runTriggerSchema>;

/** `retrying`: an attempt failed with a transient error and the queue delivers the message again at nextAttemptAt. */
export const RUN_STATUSES = ['queued', 'running', 'retrying', 'succeeded', 'failed', 'skipped'] as const;
export const runStatusSchema = z.enum(RUN_STATUSES);
export type RunStatus = z.infer<typeof runStatusSchema>;

const isoDate = z.string().datetime({ offset: true });

export const runCountsSchema = z.object({
  plansRead: z.number().int().nonnegative(),
  usersRead: z.number().int().nonnegative(),
  licensesCreated: z.number().int().nonnegative(),
  licensesUpdated: z.number().int().nonnegative(),
  contactsCreated: z.number().int().nonnegative(),
  contactsUpdated: z.number().int().nonnegative(),
  consumersAdded: z.number().int().nonnegative(),
  consumersUpdated: z.number().int().nonnegative(),
  consumersRemoved: z.number().int().nonnegative(),
  conflicts: z.number().int().nonnegative(),
});
export type RunCounts = z.infer<typeof runCountsSchema>;

export function emptyCounts(): RunCounts {
  return {
    plansRead: 0,
    usersRead: 0,
    licensesCreated: 0,
    licensesUpdated: 0,
    contactsCreated: 0,
    contactsUpdated: 0,
    consumersAdded: 0,
    consumersUpdated: 0,
    consumersRemoved: 0,
    conflicts: 0,
  };
}

/** Several contacts hold addresses of one user: nothing is linked or created for that user. */
export const conflictSchema = z.object({
  objectId: z.string(),
  userPrincipalName: z.string(),
  addresses: z.array(z.string()),
  contactIds: z.array(z.string()),
});
export type Conflict = z.infer<typeof conflictSchema>;

export const runRecordSchema = z.object({
  id: z.string(),
  portalId: z.string(),
  trigger: runTriggerSchema,
  status: runStatusSchema,
  queuedAt: isoDate,
  startedAt: isoDate.optional(),
  endedAt: isoDate.optional(),
  counts: runCountsSchema,
  graphRequests: z.number().int().nonnegative(),
  throttledRetries: z.number().int().nonnegative(),
  /** How the users were read: a full read, or Graph's delta since the last run. */
  readMode: z.enum(['full', 'delta']).optional(),
  conflicts: z.array(conflictSchema),
  errorCode: z.string().optional(),
  errorMessage: z.string().optional(),
  /** Why a scheduled run was skipped (e.g. the previous run is still running). */
  skippedReason: z.string().optional(),
  attempts: z.number().int().nonnegative(),
  /** Running or retrying: the number of the attempt under way (running) or the next one (retrying). */
  attempt: z.number().int().positive().optional(),
  /** How many attempts the queue makes before it gives up on the run. */
  maxAttempts: z.number().int().positive().optional(),
  /** Retrying: when the queue delivers the run's message again (the last attempt's error is errorCode/errorMessage). */
  nextAttemptAt: isoDate.optional(),
});
export type RunRecord = z.infer<typeof runRecordSchema>;

export const lastRunSchema = runRecordSchema.pick({
  id: true,
  trigger: true,
  status: true,
  queuedAt: true,
  startedAt: true,
  endedAt: true,
  counts: true,
  errorCode: true,
  errorMessage: true,
  attempt: true,
  maxAttempts: true,
  nextAttemptAt: true,
});
export type LastRun = z.infer<typeof lastRunSchema>;

export const portalRecordSchema = z.object({
  id: z.string(),
  name: z.string(),
  tenantId: z.string(),
  clientId: z.string(),
  cloud: cloudSchema,
  authKind: authKindSchema,
  /** Only for the legacy password kind: the user's sign-in name (not a secret). */
  username: z.string().optional(),
  active: z.boolean(),
  autoSync: z.boolean(),
  hasSecret: z.boolean(),
  secretSetAt: isoDate.optional(),
  /** When the stored credential stops working: a certificate's notAfter, a client secret's expiry as entered. */
  credentialExpiresAt: isoDate.optional(),
  createdAt: isoDate,
  updatedAt: isoDate,
  lastRun: lastRunSchema.optional(),
  /** End of the last successful run: the "last seen" of every sync-owned consumer still linked. */
  lastSuccessAt: isoDate.optional(),
  /** Internal sync state (never in an API response): Graph's delta link and the last full read. */
  deltaLink: z.string().optional(),
  lastFullReadAt: isoDate.optional(),
  /** Since when the sync keeps its per-user links for this portal (written by a full read): delta runs need them. */
  userLinksAt: isoDate.optional(),
  /**
   * Set by `DELETE ?purge=true`: the portal is being deleted. No run starts, a running one stops before its next
   * write, and the record goes last, once its ledger data is purged; repeating the delete continues the purge.
   */
  deletingAt: isoDate.optional(),
  /** Read users' sign-in activity (once a UTC day) and mark holders inactive; absent means off. */
  activity: z.boolean().optional(),
  /** Days without a sign-in after which a holder is inactive (7-365; absent means 90). */
  inactiveDays: z.number().int().min(7).max(365).optional(),
  /** End of the last successful activity pass: holders' `inactive` is shown only after one. */
  activityReadAt: isoDate.optional(),
  /** Why the last activity pass could not read sign-ins (shown until a later pass succeeds). */
  activityNotice: noticeSchema.optional(),
  /** Why the last run could not read the subscriptions (the licenses keep the ones read before). */
  subscriptionsNotice: noticeSchema.optional(),
  /** Internal: the UTC day of the last activity pass, successful or not (one try a day). */
  activityTriedOn: z.string().optional(),
  /** Internal: distinct licensed users at the last full read (the day's portal snapshot). */
  licensedUsers: z.number().int().nonnegative().optional(),
  /** Internal: the UTC day and digest of the snapshots written last (an unchanged run writes none). */
  historyDigest: z.string().optional(),
  /** Internal: the rules digest of the last full run's alert evaluation since the portal's data last changed. */
  alertsDigest: z.string().optional(),
});
export type PortalRecord = z.infer<typeof portalRecordSchema>;

/** The sync's read state of a portal: it belongs to the tenant, app and cloud it was read from. */
export const PORTAL_READ_STATE_FIELDS = ['deltaLink', 'lastFullReadAt', 'userLinksAt'] as const;
/** Fields of the portal record that never leave through the API. */
export const PORTAL_INTERNAL_FIELDS = [
  ...PORTAL_READ_STATE_FIELDS,
  'activityTriedOn',
  'licensedUsers',
  'historyDigest',
  'alertsDigest',
] as const;
export const DEFAULT_INACTIVE_DAYS = 90;

/** Whether two versions of a portal point at the same tenant, app and cloud (so its read state still holds). */
export function sameTenantSource(
  a: Pick<PortalRecord, 'tenantId' | 'clientId' | 'cloud'>,
  b: Pick<PortalRecord, 'tenantId' | 'clientId' | 'cloud'>,
): boolean {
  return a.tenantId === b.tenantId && a.clientId === b.clientId && a.cloud === b.cloud;
}

export const LICENSE_STATUSES = ['current', 'goneFromPortal'] as const;

export const licenseRecordSchema = z.object({
  /** `${portalId}.${skuId}` */
  id: z.string(),
  portalId: z.string(),
  skuId: z.string(),
  skuPartNumber: z.string(),
  displayName: z.string(),
  /** `<portal name> - <plan display name>` */
  name: z.string(),
  available: z.number().int(),
  warning: z.number().int(),
  suspended: z.number().int(),
  lockedOut: z.number().int(),
  consumedUnits: z.number().int(),
  /** Consumers linked to this license, sync-owned and hand-made. */
  assigned: z.number().int(),
  capabilityStatus: z.string(),
  appliesTo: z.string(),
  overAssigned: z.boolean(),
  status: z.enum(LICENSE_STATUSES),
  statusMessage: z.string().optional(),
  /** The plan's subscriptions (Graph's companySubscription), soonest renewal first; Deleted ones too. */
  subscriptions: z.array(licenseSubscriptionSchema).optional(),
  /** The earliest nextLifecycleDateTime of the subscriptions that are not Deleted. */
  nextLifecycleAt: z.string().optional(),
  /** Any subscription that is not Deleted is a trial. */
  trial: z.boolean().optional(),
  createdAt: isoDate,
  updatedAt: isoDate,
});
export type LicenseRecord = z.infer<typeof licenseRecordSchema>;

/** Who made a contact, or owns a consumer: a person (by hand), or the sync of one portal. */
export const originSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('manual') }),
  z.object({ kind: z.literal('sync'), portalId: z.string() }),
]);

export const contactOriginSchema = originSchema;
export type ContactOrigin = z.infer<typeof contactOriginSchema>;

export const contactRecordSchema = z.object({
  id: z.string(),
  /** Primary address as entered or as Microsoft reports it; compared case-insensitively. */
  email: z.string(),
  aliases: z.array(z.string()),
  displayName: z.string(),
  origin: contactOriginSchema,
  createdAt: isoDate,
  updatedAt: isoDate,
});
export type ContactRecord = z.infer<typeof contactRecordSchema>;

export const consumerOwnerSchema = originSchema;
export type ConsumerOwner = z.infer<typeof consumerOwnerSchema>;

/** What Microsoft says about one user's assignment of one plan (sync-owned consumers only). */
export const assignmentSchema = z.object({
  objectId: z.string(),
  userPrincipalName: z.string(),
  assignedDirectly: z.boolean(),
  /** Object ids of the groups the license is inherited from. */
  assignedViaGroups: z.array(z.string()),
  /** licenseAssignmentState.state: Active, ActiveWithSolutionIssues, Error, ... */
  assignmentState: z.string(),
  /** licenseAssignmentState.error: None, CountViolation, MutuallyExclusiveViolation, ... */
  assignmentError: z.string(),
  accountEnabled: z.boolean(),
  userType: z.string(),
});
export type Assignment = z.infer<typeof assignmentSchema>;

export const consumerRecordSchema = z.object({
  licenseId: z.string(),
  portalId: z.string(),
  skuId: z.string(),
  contactId: z.string(),
  owner: consumerOwnerSchema,
  createdAt: isoDate,
  updatedAt: isoDate,
  /** Sync-owned only. */
  assignment: assignmentSchema.optional(),
  firstSeen: isoDate.optional(),
  /**
   * Sync-owned only: the user's addresses and display name as last seen, lower-cased and joined, so a run
   * notices a rename or a new alias without reading the contact.
   */
  userFingerprint: z.string().optional(),
  /**
   * Copies of the linked contact's primary address and display name, written with the link, so a page of
   * consumers needs no contact reads. A contact's primary address and name never change once it exists (the
   * sync only adds aliases and there is no contact edit): a change of either must rewrite these copies too.
   * Absent on links written before the copies existed.
   */
  contactEmail: z.string().optional(),
  contactName: z.string().optional(),
  /** Sync-owned, with activity on: the user's last sign-in (none: never signed in). */
  lastSignInAt: isoDate.optional(),
  /** Sync-owned, with activity on and after its first pass: no sign-in for the portal's inactiveDays. */
  inactive: z.boolean().optional(),
});
export type ConsumerRecord = z.infer<typeof consumerRecordSchema>;

export function licenseIdOf(portalId: string, skuId: string): string {
  return `${portalId}.${skuId}`;
}

export function parseLicenseId(id: string): { portalId: string; skuId: string } | undefined {
  const dot = id.indexOf('.');
  if (dot <= 0 || dot === id.length - 1) return undefined;
  return { portalId: id.slice(0, dot), skuId: id.slice(dot + 1) };
}

/** Addresses are compared case-insensitively everywhere. */
export function normalizeAddress(address: string): string {
  return address.trim().toLowerCase();
}
