import {
  channelRecordSchema,
  deliveryRecordSchema,
  type ChannelGateway,
  type ChannelRecord,
  type DeliveryGateway,
  type DeliveryRecord,
} from '../domain/alerts';
import { NotFoundError } from '../domain/ledger';
import type { CountingTable } from './countingTable';
import { makeCodec } from './entities';
import { encodeKey, odataString } from './keys';
import { concurrentChange, getOrUndefined, isStatus, queryAll } from './tables';

const CHANNEL = 'channel';
const MODIFY_ATTEMPTS = 5;

const channelCodec = makeCodec<ChannelRecord>(channelRecordSchema, ['to'], 'channel');
const deliveryCodec = makeCodec<DeliveryRecord>(deliveryRecordSchema, ['alert'], 'delivery');

/** Notification channels; their URLs and signing secrets are in the secret store, never here. */
export class TableChannelGateway implements ChannelGateway {
  constructor(private readonly table: CountingTable) {}

  async list(): Promise<ChannelRecord[]> {
    const rows = await queryAll(this.table, `PartitionKey eq ${odataString(CHANNEL)}`);
    return rows.map((row) => channelCodec.fromEntity(row)).sort((a, b) => a.name.localeCompare(b.name));
  }

  async get(channelId: string): Promise<ChannelRecord | undefined> {
    const row = await getOrUndefined(this.table, CHANNEL, encodeKey(channelId));
    return row && channelCodec.fromEntity(row);
  }

  async create(channel: ChannelRecord): Promise<ChannelRecord> {
    await this.table.createEntity(channelCodec.toEntity(channel, CHANNEL, encodeKey(channel.id)));
    return channel;
  }

  async delete(channelId: string): Promise<void> {
    try {
      await this.table.deleteEntity(CHANNEL, encodeKey(channelId));
    } catch (error) {
      if (isStatus(error, 404)) throw new NotFoundError(`Notification channel ${channelId} does not exist.`);
      throw error;
    }
  }

  async recordOutcome(channelId: string, outcome: { at: string; error?: string }): Promise<void> {
    for (let attempt = 0; attempt < MODIFY_ATTEMPTS; attempt += 1) {
      const row = await getOrUndefined(this.table, CHANNEL, encodeKey(channelId));
      if (!row) return;
      const current = channelCodec.fromEntity(row);
      const next: ChannelRecord = outcome.error
        ? { ...current, lastError: outcome.error, lastErrorAt: outcome.at }
        : { ...current, lastDeliveryAt: outcome.at, lastError: undefined, lastErrorAt: undefined };
      try {
        await this.table.updateEntity(channelCodec.toEntity(next, CHANNEL, encodeKey(channelId)), 'Replace', {
          etag: row.etag,
        });
        return;
      } catch (error) {
        if (isStatus(error, 404)) return;
        if (!isStatus(error, 412)) throw error;
      }
    }
    throw concurrentChange(`Notification channel ${channelId}`);
  }
}

/** Deliveries: one partition per channel. */
export class TableDeliveryGateway implements DeliveryGateway {
  constructor(private readonly table: CountingTable) {}

  async create(delivery: DeliveryRecord): Promise<void> {
    await this.table.createEntity(
      deliveryCodec.toEntity(delivery, encodeKey(delivery.channelId), encodeKey(delivery.id)),
    );
  }

  async get(channelId: string, deliveryId: string): Promise<DeliveryRecord | undefined> {
    const row = await getOrUndefined(this.table, encodeKey(channelId), encodeKey(deliveryId));
    return row && deliveryCodec.fromEntity(row);
  }

  async update(delivery: DeliveryRecord): Promise<void> {
    await this.table.upsertEntity(
      deliveryCodec.toEntity(delivery, encodeKey(delivery.channelId), encodeKey(delivery.id)),
      'Replace',
    );
  }

  async listFailed(channelId: string, limit: number): Promise<DeliveryRecord[]> {
    const rows = await queryAll(
      this.table,
      `PartitionKey eq ${odataString(encodeKey(channelId))} and state eq ${odataString('failed')}`,
    );
    return rows
      .map((row) => deliveryCodec.fromEntity(row))
      .sort((a, b) => b.updatedAt.localeCompare(a.updatedAt))
      .slice(0, limit);
  }
}
