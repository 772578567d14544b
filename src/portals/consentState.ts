import { createHash, randomBytes } from 'node:crypto';
import type { TableClient } from '@azure/data-tables';
import { z } from 'zod';
import type { Settings } from '../config/settings';
import { cloudSchema, type Cloud } from '../domain/records';
import { getOrUndefined, isStatus, newStats, queryAll } from '../ledger/tables';
import { odataString } from '../ledger/keys';
import { getTableClient, TABLES } from '../storage/clients';

/**
 * The `state` of a "Connect a tenant" consent: random, single use, kept in table storage at most an hour. Only
 * its SHA-256 is stored (whoever reads the table cannot answer a consent with it), with what the request asked
 * for: the portal's name and cloud.
 */

export const CONSENT_STATE_TTL_MS = 60 * 60_000;
const PARTITION = 'state';

const pendingSchema = z.object({
  name: z.string(),
  cloud: cloudSchema,
  createdAt: z.string(),
  expiresAt: z.string(),
  usedAt: z.string().optional(),
});
export type PendingConsent = z.infer<typeof pendingSchema>;

/** Why a state cannot be used; each answers the callback with a 400 page. */
export type StateProblem = 'missing' | 'unknown' | 'expired' | 'replayed';

export class ConsentStateError extends Error {
  constructor(readonly problem: StateProblem) {
    super(`The consent state is ${problem}.`);
    this.name = 'ConsentStateError';
  }
}

function keyOf(state: string): string {
  return createHash('sha256').update(state).digest('hex');
}

function table(settings: Settings): Promise<TableClient> {
  return getTableClient(settings, TABLES.consentStates);
}

/** A new state for a consent of `name` in `cloud`; expired states are removed on the way. */
export async function createConsentState(
  settings: Settings,
  request: { name: string; cloud: Cloud },
  now: Date,
): Promise<{ state: string; expiresAt: string }> {
  const client = await table(settings);
  await removeExpired(client, now);
  const state = randomBytes(32).toString('base64url');
  const expiresAt = new Date(now.getTime() + CONSENT_STATE_TTL_MS).toISOString();
  const pending: PendingConsent = { ...request, createdAt: now.toISOString(), expiresAt };
  await client.createEntity({ partitionKey: PARTITION, rowKey: keyOf(state), ...pending });
  return { state, expiresAt };
}

/**
 * Uses a state once: marks it used (ETag-guarded, so of two callbacks racing with one state only one wins) and
 * returns what it was made for. Throws ConsentStateError when it cannot be used.
 */
export async function takeConsentState(settings: Settings, state: string | null, now: Date): Promise<PendingConsent> {
  if (!state) throw new ConsentStateError('missing');
  if (state.length > 200) throw new ConsentStateError('unknown');
  const client = await table(settings);
  const entity = await getOrUndefined<Record<string, unknown>>(client, PARTITION, keyOf(state), newStats());
  const parsed = entity && pendingSchema.safeParse(entity);
  if (!entity || !parsed?.success) throw new ConsentStateError('unknown');
  const pending = parsed.data;
  if (pending.usedAt) throw new ConsentStateError('replayed');
  if (Date.parse(pending.expiresAt) <= now.getTime()) throw new ConsentStateError('expired');
  try {
    await client.updateEntity(
      { partitionKey: PARTITION, rowKey: keyOf(state), ...pending, usedAt: now.toISOString() },
      'Replace',
      { etag: entity.etag },
    );
  } catch (error) {
    if (isStatus(error, 404, 412)) throw new ConsentStateError('replayed');
    throw error;
  }
  return pending;
}

async function removeExpired(client: TableClient, now: Date): Promise<void> {
  const filter = `PartitionKey eq ${odataString(PARTITION)} and expiresAt lt ${odataString(now.toISOString())}`;
  const expired = await queryAll<Record<string, unknown>>(client, filter, newStats());
  for (const entity of expired) {
    await client.deleteEntity(PARTITION, String(entity.rowKey)).catch((error: unknown) => {
      if (!isStatus(error, 404)) throw error;
    });
  }
}
