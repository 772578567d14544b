import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Settings } from '../config/settings';
import {
  CONSENT_STATE_TTL_MS,
  ConsentStateError,
  type ConsentRequest,
  type ConsentStateStore,
  type PendingConsent,
} from '../domain/consent';
import { cloudSchema } from '../domain/records';
import { getTableClient, TABLES } from '../storage/clients';
import { CountingTable, newStats } from './countingTable';
import { odataString } from './keys';
import { getOrUndefined, isStatus, queryAll } from './tables';

/** Consent states in Table Storage: one partition, the row key the SHA-256 of the state (never the state). */

const PARTITION = 'state';

const entitySchema = z.object({
  name: z.string(),
  cloud: cloudSchema,
  startedByName: z.string(),
  startedByObjectId: z.string().optional(),
  createdAt: z.string(),
  expiresAt: z.string(),
  usedAt: z.string().optional(),
});
type ConsentEntity = z.infer<typeof entitySchema>;

function keyOf(state: string): string {
  return createHash('sha256').update(state).digest('hex');
}

function entityOf(pending: PendingConsent): ConsentEntity {
  const { startedBy, ...rest } = pending;
  return {
    ...rest,
    startedByName: startedBy.name,
    ...(startedBy.objectId ? { startedByObjectId: startedBy.objectId } : {}),
  };
}

function pendingOf(entity: ConsentEntity): PendingConsent {
  const { startedByName, startedByObjectId, ...rest } = entity;
  return {
    ...rest,
    startedBy: { name: startedByName, ...(startedByObjectId ? { objectId: startedByObjectId } : {}) },
  };
}

export class TableConsentStateStore implements ConsentStateStore {
  constructor(private readonly table: () => Promise<CountingTable>) {}

  async create(request: ConsentRequest, now: Date): Promise<{ state: string; expiresAt: string }> {
    const table = await this.table();
    await removeExpired(table, now);
    const state = randomBytes(32).toString('base64url');
    const expiresAt = new Date(now.getTime() + CONSENT_STATE_TTL_MS).toISOString();
    const pending: PendingConsent = { ...request, createdAt: now.toISOString(), expiresAt };
    await table.createEntity({ partitionKey: PARTITION, rowKey: keyOf(state), ...entityOf(pending) });
    return { state, expiresAt };
  }

  /** Marks the state used, ETag-guarded, so of two callbacks racing with one state only one wins. */
  async take(state: string | null, now: Date): Promise<PendingConsent> {
    if (!state) throw new ConsentStateError('missing');
    if (state.length > 200) throw new ConsentStateError('unknown');
    const table = await this.table();
    const entity = await getOrUndefined<Record<string, unknown>>(table, PARTITION, keyOf(state));
    const parsed = entity && entitySchema.safeParse(entity);
    if (!entity || !parsed?.success) throw new ConsentStateError('unknown');
    const stored = parsed.data;
    if (stored.usedAt) throw new ConsentStateError('replayed');
    if (Date.parse(stored.expiresAt) <= now.getTime()) throw new ConsentStateError('expired');
    try {
      await table.updateEntity(
        { partitionKey: PARTITION, rowKey: keyOf(state), ...stored, usedAt: now.toISOString() },
        'Replace',
        { etag: entity.etag },
      );
    } catch (error) {
      if (isStatus(error, 404, 412)) throw new ConsentStateError('replayed');
      throw error;
    }
    return pendingOf(stored);
  }
}

async function removeExpired(table: CountingTable, now: Date): Promise<void> {
  const filter = `PartitionKey eq ${odataString(PARTITION)} and expiresAt lt ${odataString(now.toISOString())}`;
  for (const entity of await queryAll<Record<string, unknown>>(table, filter)) {
    await table.deleteEntity(PARTITION, String(entity.rowKey)).catch((error: unknown) => {
      if (!isStatus(error, 404)) throw error;
    });
  }
}

export function createConsentStateStore(settings: Pick<Settings, 'storage' | 'tablePrefix'>): ConsentStateStore {
  return new TableConsentStateStore(
    async () => new CountingTable(await getTableClient(settings, TABLES.consentStates), newStats()),
  );
}
