import type { TableClient } from '@azure/data-tables';
import { randomUUID } from 'node:crypto';
import type { Settings } from '../config/settings';
import { getTableClient } from '../storage/clients';

import {
  InvalidContinuationTokenError,
  type AuditEntry,
  type AuditPage,
  type AuditQuery,
  type AuditTrail,
} from '../domain/audit';

/**
 * The audit trail in Table Storage: its own table, one partition (changes come at a person's pace), row keys in
 * reverse time order so a plain query reads newest first.
 */

const PARTITION = 'audit';
/** Larger than any millisecond timestamp until the year 33658, 15 digits. */
const MAX_MS = 999_999_999_999_999;
const ROW_KEY = /^\d{15}-[0-9a-f-]{36}$/;

function invertedTime(ms: number): string {
  return String(MAX_MS - ms).padStart(15, '0');
}

function escape(value: string): string {
  return value.replace(/'/g, "''");
}

interface AuditEntity {
  partitionKey: string;
  rowKey: string;
  at: string;
  principalName: string;
  principalObjectId?: string;
  action: string;
  target: string;
  summary: string;
}

export class TableAuditTrail implements AuditTrail {
  constructor(private readonly table: () => Promise<TableClient>) {}

  async record(entry: AuditEntry): Promise<void> {
    const entity: AuditEntity = {
      partitionKey: PARTITION,
      rowKey: `${invertedTime(Date.parse(entry.at))}-${randomUUID()}`,
      at: entry.at,
      principalName: entry.principal.name,
      ...(entry.principal.objectId ? { principalObjectId: entry.principal.objectId } : {}),
      action: entry.action,
      target: entry.target,
      summary: entry.summary,
    };
    await (await this.table()).createEntity(entity);
  }

  /** Newest first; the token is the last row key handed out, so the next page starts right after it. */
  async list(query: AuditQuery): Promise<AuditPage> {
    const filters = [`PartitionKey eq '${PARTITION}'`];
    // Row keys are `<inverted ms>-<uuid>`: `to` is exclusive, `from` inclusive ('~' sorts after '-').
    if (query.to) filters.push(`RowKey ge '${invertedTime(query.to.getTime() - 1)}'`);
    if (query.from) filters.push(`RowKey lt '${invertedTime(query.from.getTime())}~'`);
    if (query.continuationToken !== undefined)
      filters.push(`RowKey gt '${escape(decodeToken(query.continuationToken))}'`);
    const entities = (await this.table()).listEntities<AuditEntity>({
      queryOptions: { filter: filters.join(' and ') },
    });
    const rows: AuditEntity[] = [];
    // One more than asked tells whether another page exists.
    for await (const page of entities.byPage({ maxPageSize: Math.min(query.limit + 1, 1000) })) {
      rows.push(...page);
      if (rows.length > query.limit) break;
    }
    const items = rows.slice(0, query.limit);
    const last = items.at(-1);
    return {
      items: items.map(entryOf),
      ...(rows.length > query.limit && last
        ? { continuationToken: Buffer.from(last.rowKey).toString('base64url') }
        : {}),
    };
  }
}

function decodeToken(token: string): string {
  const rowKey = Buffer.from(token, 'base64url').toString('utf8');
  if (!ROW_KEY.test(rowKey)) throw new InvalidContinuationTokenError();
  return rowKey;
}

function entryOf(entity: AuditEntity): AuditEntry {
  return {
    at: entity.at,
    principal: {
      name: entity.principalName,
      ...(entity.principalObjectId ? { objectId: entity.principalObjectId } : {}),
    },
    action: entity.action,
    target: entity.target,
    summary: entity.summary,
  };
}

export function createAuditTrail(settings: Pick<Settings, 'storage' | 'tablePrefix'>): AuditTrail {
  return new TableAuditTrail(() => getTableClient(settings, 'audit'));
}
