import type { TransactionAction } from '@azure/data-tables';
import { z } from 'zod';
import type { HolderGateway, HolderActivity } from '../domain/ledger';
import type { HolderFacts } from '../domain/insights';
import { consumerRecordSchema } from '../domain/records';
import type { CountingTable } from './countingTable';
import { consumerRowKey, encodeKey } from './keys';
import { forEachPage, partitionFilter, submitInBatches } from './tables';

/** Just the consumer properties the insights read: a portal's holders are read page by page, a few fields each. */
const HOLDER_SELECT = ['skuId', 'contactId', 'owner', 'assignment', 'lastSignInAt', 'inactive'];

const holderRowSchema = consumerRecordSchema
  .pick({ skuId: true, contactId: true, lastSignInAt: true, inactive: true })
  .extend({ owner: z.string(), assignment: z.string().optional() });

/** The sync-owned consumers of a portal (its "holders") and the sign-in facts the activity pass writes on them. */
export class TableHolderGateway implements HolderGateway {
  constructor(private readonly consumers: CountingTable) {}

  async forEachHolder(portalId: string, visit: (holder: HolderFacts) => void): Promise<void> {
    await forEachPage<Record<string, unknown>>(
      this.consumers,
      partitionFilter(encodeKey(portalId)),
      (rows) => {
        for (const row of rows) {
          const holder = holderOf(row, portalId);
          if (holder) visit(holder);
        }
      },
      HOLDER_SELECT,
    );
  }

  async writeActivity(portalId: string, updates: HolderActivity[]): Promise<number> {
    const partitionKey = encodeKey(portalId);
    await submitInBatches(
      this.consumers,
      updates.map((update): TransactionAction => [
        'update',
        {
          partitionKey,
          rowKey: consumerRowKey(update.skuId, update.contactId),
          inactive: update.inactive,
          ...(update.lastSignInAt ? { lastSignInAt: update.lastSignInAt } : {}),
        },
        'Merge',
      ]),
    );
    return updates.length;
  }
}

function holderOf(row: Record<string, unknown>, portalId: string): HolderFacts | undefined {
  const parsed = holderRowSchema.safeParse(row);
  if (!parsed.success) return undefined;
  const owner = JSON.parse(parsed.data.owner) as { kind?: string; portalId?: string };
  if (owner.kind !== 'sync' || owner.portalId !== portalId || !parsed.data.assignment) return undefined;
  const assignment = JSON.parse(parsed.data.assignment) as {
    objectId: string;
    accountEnabled: boolean;
    userType: string;
  };
  return {
    skuId: parsed.data.skuId,
    contactId: parsed.data.contactId,
    objectId: assignment.objectId,
    accountEnabled: assignment.accountEnabled,
    userType: assignment.userType,
    ...(parsed.data.lastSignInAt ? { lastSignInAt: parsed.data.lastSignInAt } : {}),
    ...(parsed.data.inactive !== undefined ? { inactive: parsed.data.inactive } : {}),
  };
}
