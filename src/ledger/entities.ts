import type { TableEntity } from '@azure/data-tables';
import { z } from 'zod';
import { AppError } from '../domain/errors';
import { consumerRowKey, contactKeys, encodeKey } from './keys';
import {
  consumerRecordSchema,
  contactRecordSchema,
  licenseRecordSchema,
  portalRecordSchema,
  runRecordSchema,
  type ConsumerRecord,
  type ContactRecord,
  type LicenseRecord,
  type PortalRecord,
  type RunRecord,
} from '../domain/records';

/**
 * Records <-> table entities. Scalars are stored as properties of their own; objects and arrays as JSON strings.
 * A string property holds at most 64 KiB (32K UTF-16 characters), so a long JSON value is split over numbered
 * properties. What is read back is validated with the record's schema.
 */

type Entity = TableEntity<Record<string, unknown>>;

/** Characters per stored string part: below the 32K UTF-16 limit of one property. */
const PART_CHARS = 30_000;
const SYSTEM_PROPERTIES = new Set([
  'partitionKey',
  'rowKey',
  'etag',
  'timestamp',
  'Timestamp',
  'PartitionKey',
  'RowKey',
]);

export interface Codec<T> {
  toEntity(record: T, partitionKey: string, rowKey: string): Entity;
  fromEntity(entity: Record<string, unknown>): T;
}

function partsKey(field: string): string {
  return `${field}__parts`;
}

export function makeCodec<T extends object>(
  schema: z.ZodType<T>,
  jsonFields: readonly (keyof T & string)[],
  what: string,
): Codec<T> {
  const json = new Set<string>(jsonFields);
  return {
    toEntity(record, partitionKey, rowKey) {
      const entity: Entity = { partitionKey, rowKey };
      for (const [field, value] of Object.entries(record)) {
        if (value === undefined || value === null) continue;
        if (!json.has(field)) {
          entity[field] = value;
          continue;
        }
        const text = JSON.stringify(value);
        if (text.length <= PART_CHARS) {
          entity[field] = text;
        } else {
          const parts = Math.ceil(text.length / PART_CHARS);
          entity[partsKey(field)] = parts;
          for (let i = 0; i < parts; i += 1)
            entity[`${field}__${i}`] = text.slice(i * PART_CHARS, (i + 1) * PART_CHARS);
        }
      }
      return entity;
    },
    fromEntity(entity) {
      const raw: Record<string, unknown> = {};
      for (const [property, value] of Object.entries(entity)) {
        if (SYSTEM_PROPERTIES.has(property) || property.startsWith('odata.') || property.includes('__')) continue;
        raw[property] = json.has(property) && typeof value === 'string' ? safeJson(value) : value;
      }
      for (const field of json) {
        const parts = entity[partsKey(field)];
        if (typeof parts !== 'number') continue;
        let text = '';
        for (let i = 0; i < parts; i += 1) text += String((entity[`${field}__${i}`] as string | undefined) ?? '');
        raw[field] = safeJson(text);
      }
      const parsed = schema.safeParse(raw);
      if (!parsed.success) {
        const fields = parsed.error.issues.map((issue) => issue.path.join('.') || '(record)').join(', ');
        throw new AppError('internal_error', {
          detail: `a stored ${what} (${String(entity.partitionKey)}/${String(entity.rowKey)}) is not valid: ${fields}`,
        });
      }
      return parsed.data;
    },
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export const portalCodec = makeCodec<PortalRecord>(
  portalRecordSchema,
  ['lastRun', 'activityNotice', 'subscriptionsNotice'],
  'portal',
);
export const runCodec = makeCodec<RunRecord>(runRecordSchema, ['counts', 'conflicts'], 'run');
export const licenseCodec = makeCodec<LicenseRecord>(licenseRecordSchema, ['subscriptions'], 'license');
export const contactCodec = makeCodec<ContactRecord>(contactRecordSchema, ['aliases', 'origin'], 'contact');
export const consumerCodec = makeCodec<ConsumerRecord>(consumerRecordSchema, ['owner', 'assignment'], 'consumer');
/** One bucket of the sync's user links (checked in full by the ledger). */
export const userLinkBucketCodec = makeCodec<{ links: Record<string, unknown> }>(
  z.object({ links: z.record(z.string(), z.unknown()) }),
  ['links'],
  'user link bucket',
);

/** An entity's stored size is at most 1 MiB; stay well below it (strings count two bytes a character). */
export const MAX_JSON_CHARS = 300_000;

export function licenseEntity(license: LicenseRecord): Entity {
  return licenseCodec.toEntity(license, encodeKey(license.portalId), encodeKey(license.skuId));
}

export function consumerEntity(consumer: ConsumerRecord): Entity {
  return consumerCodec.toEntity(
    consumer,
    encodeKey(consumer.portalId),
    consumerRowKey(consumer.skuId, consumer.contactId),
  );
}

export function contactEntity(contact: ContactRecord): Entity {
  const keys = contactKeys(contact.id);
  return contactCodec.toEntity(contact, keys.partitionKey, keys.rowKey);
}
