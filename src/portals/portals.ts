import { randomUUID } from 'node:crypto';
import type { Services } from '../domain/ports';
import { byNameThenId, pageOfSorted, type Page, type PageRequest } from '../domain/paging';
import { AppError } from '../domain/errors';
import {
  DEFAULT_INACTIVE_DAYS,
  PORTAL_READ_STATE_FIELDS,
  sameTenantSource,
  type Cloud,
  type PortalRecord,
} from '../domain/records';
import { ConflictError } from '../domain/ledger';
import { continuePurge } from '../runs/purge';
import { credentialExpiresAt, resolveClientId, storedSecret, type PortalAuthInput } from './credentials';
import { InvalidInputError } from './errors';

/**
 * The portal-access use cases behind the HTTP API. The secret goes to the secret store, never to the record:
 * the record only says that there is one (hasSecret) and when it was set.
 */

export interface NewPortal {
  name: string;
  tenantId: string;
  /** Optional for the federated kind: the operator's multi-tenant app by default. */
  clientId?: string;
  cloud: Cloud;
  active: boolean;
  autoSync: boolean;
  activity?: boolean;
  inactiveDays?: number;
  auth: PortalAuthInput;
}

export interface PortalChanges {
  name?: string;
  tenantId?: string;
  clientId?: string;
  cloud?: Cloud;
  active?: boolean;
  autoSync?: boolean;
  activity?: boolean;
  inactiveDays?: number;
  /** New credentials: a new secret version; switching the kind needs them. */
  auth?: PortalAuthInput;
}

/**
 * A page of the portal accesses, by name. They are one partition of a few hundred or thousand records: read whole
 * (one query per 1,000), sorted, and answered a page at a time.
 */
export async function listPortals(services: Services, request: PageRequest): Promise<Page<PortalRecord>> {
  const key = (portal: PortalRecord): [string, string] => [portal.name, portal.id];
  const portals = (await services.ledger.portals.list()).sort((a, b) => byNameThenId(key(a), key(b)));
  return pageOfSorted(portals, request, key, byNameThenId);
}

export async function getPortal(services: Services, portalId: string): Promise<PortalRecord> {
  const portal = await services.ledger.portals.get(portalId);
  if (!portal) throw new AppError('portal_not_found');
  return portal;
}

export async function createPortal(services: Services, input: NewPortal): Promise<PortalRecord> {
  checkCloud(services, input.cloud);
  // Checked before the secret is written, so a duplicate never leaves a secret behind; the repository's
  // unique-name index still decides a race.
  const clientId = resolveClientId(services.settings, input.clientId, input.auth);
  await assertNameFree(services, input.name);
  const id = randomUUID();
  const now = services.now().toISOString();
  const secret = storedSecret(input.auth);
  if (secret) await services.secrets.set(id, secret);
  const record = withoutUndefined<PortalRecord>({
    id,
    name: input.name,
    tenantId: input.tenantId,
    clientId,
    cloud: input.cloud,
    authKind: input.auth.kind,
    username: input.auth.kind === 'password' ? input.auth.username : undefined,
    active: input.active,
    autoSync: input.autoSync,
    activity: input.activity,
    inactiveDays: input.inactiveDays,
    hasSecret: secret !== undefined,
    secretSetAt: secret ? now : undefined,
    credentialExpiresAt: credentialExpiresAt(input.auth),
    createdAt: now,
    updatedAt: now,
  });
  try {
    await services.ledger.portals.create(record);
  } catch (error) {
    if (!secret) throw error;
    await services.secrets.delete(id).catch((cleanup: unknown) =>
      services.logger.error('could not remove the secret of a portal access that was not created', {
        portalId: id,
        error: errorName(cleanup),
      }),
    );
    throw error;
  }
  services.logger.info('portal access created', { portalId: id, authKind: record.authKind, cloud: record.cloud });
  return record;
}

export async function changePortal(
  services: Services,
  portalId: string,
  changes: PortalChanges,
): Promise<PortalRecord> {
  const current = await getPortal(services, portalId);
  assertNotDeleting(current);
  if (changes.cloud !== undefined) checkCloud(services, changes.cloud);
  checkCredentialFollows(current, changes);
  if (changes.name !== undefined && normalizeName(changes.name) !== normalizeName(current.name)) {
    await assertNameFree(services, changes.name, portalId);
  }
  const now = services.now().toISOString();
  if (changes.auth?.kind === 'federated' && changes.clientId === undefined && current.authKind !== 'federated') {
    // Switching to the federated kind: the operator's multi-tenant app signs in, unless another is named.
    changes = { ...changes, clientId: resolveClientId(services.settings, undefined, changes.auth) };
  }
  const secret = changes.auth && storedSecret(changes.auth);

  let restore: (() => Promise<void>) | undefined;
  if (secret) {
    const previous = await services.secrets.get(portalId);
    await services.secrets.set(portalId, secret);
    restore = () => (previous ? services.secrets.set(portalId, previous) : services.secrets.delete(portalId));
  }
  let changed: PortalRecord | undefined;
  try {
    // Applied to the record as stored at the write (ETag-guarded): what a run wrote meanwhile (its last-run
    // fields) stays, and only the fields this request names change.
    changed = await services.ledger.portals.modify(portalId, (stored) => {
      assertNotDeleting(stored);
      return withChanges(stored, changes, now);
    });
  } catch (error) {
    // The record still describes the old credentials: put the old secret back as the latest version.
    await restore?.().catch((cleanup: unknown) =>
      services.logger.error('could not restore the previous secret of a portal access', {
        portalId,
        error: errorName(cleanup),
      }),
    );
    throw error;
  }
  if (changed && changes.auth && !secret) {
    // Now federated: the old secret has no use any more and is not kept.
    await services.secrets.delete(portalId);
  }
  if (!changed) {
    // Deleted meanwhile (the delete removed the secret first): a secret set above must not outlive it.
    if (secret) {
      await services.secrets.delete(portalId).catch((cleanup: unknown) =>
        services.logger.error('could not remove the secret of a portal access deleted meanwhile', {
          portalId,
          error: errorName(cleanup),
        }),
      );
    }
    throw new AppError('portal_not_found');
  }
  services.logger.info('portal access changed', {
    portalId,
    fields: Object.keys(changes)
      .filter((key) => changes[key as keyof PortalChanges] !== undefined)
      .join(','),
  });
  return changed;
}

/** The stored record with the requested changes (may run more than once: derives everything from `stored`). */
function withChanges(stored: PortalRecord, changes: PortalChanges, now: string): PortalRecord {
  const next: PortalRecord = { ...stored, updatedAt: now };
  for (const key of [
    'name',
    'tenantId',
    'clientId',
    'cloud',
    'active',
    'autoSync',
    'activity',
    'inactiveDays',
  ] as const) {
    if (changes[key] !== undefined) (next as Record<string, unknown>)[key] = changes[key];
  }
  if (!next.activity) {
    // Off: holders show no activity until a pass after it is turned on again (which the next run makes).
    delete next.activityReadAt;
    delete next.activityNotice;
    delete next.activityTriedOn;
  } else if (
    !stored.activity ||
    (next.inactiveDays ?? DEFAULT_INACTIVE_DAYS) !== (stored.inactiveDays ?? DEFAULT_INACTIVE_DAYS)
  ) {
    // Turned on, or another threshold: the next full read passes again today.
    delete next.activityTriedOn;
  }
  if (!sameTenantSource(next, stored)) {
    // Graph's delta link belongs to the old tenant or app: the next run reads in full. History and ledger stay.
    for (const field of PORTAL_READ_STATE_FIELDS) delete next[field];
  }
  if (changes.auth) {
    next.authKind = changes.auth.kind;
    if (changes.auth.kind === 'password') next.username = changes.auth.username;
    else delete next.username;
    next.hasSecret = changes.auth.kind !== 'federated';
    if (next.hasSecret) next.secretSetAt = now;
    else delete next.secretSetAt;
    const expiresAt = credentialExpiresAt(changes.auth);
    if (expiresAt) next.credentialExpiresAt = expiresAt;
    else delete next.credentialExpiresAt;
  }
  return next;
}

/**
 * Deletes the portal and its secret. Its licenses, consumers and runs stay unless `purge`: then the portal is
 * marked deleting first (no run starts, a running one stops before its next write), its data is purged and the
 * record goes last. `deleting`: a run still held the portal, and a queued job finishes the purge once it stopped
 * (repeating the delete continues it too). A portal already being deleted is always purged.
 */
export async function deletePortal(
  services: Services,
  portalId: string,
  options: { purge: boolean },
): Promise<'deleted' | 'deleting'> {
  const portal = await getPortal(services, portalId);
  if (!options.purge && !portal.deletingAt) {
    // The secret first: if this fails, the portal is still there and the delete can be repeated.
    await services.secrets.delete(portalId);
    await services.ledger.portals.delete(portalId);
    services.logger.info('portal access deleted', { portalId, purge: false });
    return 'deleted';
  }
  const now = services.now().toISOString();
  const marked = await services.ledger.portals.modify(portalId, (stored) =>
    stored.deletingAt ? undefined : { ...stored, deletingAt: now },
  );
  if (!marked) throw new AppError('portal_not_found');
  await services.secrets.delete(portalId);
  if ((await continuePurge(services, portalId)) === 'purged') {
    services.logger.info('portal access deleted', { portalId, purge: true });
    return 'deleted';
  }
  await services.runQueue.send({ purge: true, portalId });
  return 'deleting';
}

/** Refuses a change to a portal that is being deleted (409 portal_deleting). */
export function assertNotDeleting(portal: PortalRecord): void {
  if (portal.deletingAt) throw new AppError('portal_deleting');
}

/**
 * The stored secret belongs to one app in one tenant: pointed at another tenant, app or cloud it would be sent
 * to whoever controls that one. A move therefore needs the credential again in the same request.
 */
function checkCredentialFollows(current: PortalRecord, changes: PortalChanges): void {
  if (changes.auth) return;
  const differs = (next: string | undefined, stored: string) =>
    next !== undefined && next.toLowerCase() !== stored.toLowerCase();
  const moved = [
    differs(changes.tenantId, current.tenantId) && 'tenantId',
    differs(changes.clientId, current.clientId) && 'clientId',
    differs(changes.cloud, current.cloud) && 'cloud',
  ].filter((field): field is string => Boolean(field));
  if (moved.length > 0) {
    throw new InvalidInputError([
      { path: 'auth', message: `is required when ${moved.join(', ')} changes: enter the credential again` },
    ]);
  }
}

export function checkCloud(services: Services, cloud: Cloud): void {
  if (cloud === 'simulated' && !services.settings.simulator) {
    throw new InvalidInputError([
      { path: 'cloud', message: 'simulated is only available in local runs (the built-in demo tenant)' },
    ]);
  }
}

function normalizeName(name: string): string {
  return name.trim().toLowerCase();
}

export async function assertNameFree(services: Services, name: string, exceptId?: string): Promise<void> {
  const key = normalizeName(name);
  const taken = (await services.ledger.portals.list()).some((p) => p.id !== exceptId && normalizeName(p.name) === key);
  if (taken)
    throw new ConflictError(`A portal access named "${name}" already exists (names are compared case-insensitively).`);
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** Only the kind of error: a message from a secret store could in theory echo what it was given. */
function errorName(error: unknown): string {
  return (error as { name?: string } | undefined)?.name ?? 'Error';
}
