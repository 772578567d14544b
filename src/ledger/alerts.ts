import { createHash } from 'node:crypto';
import type { AlertRules } from '../domain/alertRules';
import { alertRecordSchema, type AlertGateway, type AlertPage, type AlertRecord } from '../domain/alerts';
import type { CountingTable } from './countingTable';
import { makeCodec } from './entities';
import { encodeKey, odataString } from './keys';
import { getOrUndefined, isStatus, queryAll, submitInBatches } from './tables';

const OPEN = 'open';
const RESOLVED = 'resolved';
const RULES = 'rules';
const MAX_TIME = 9_999_999_999_999;

const alertCodec = makeCodec<AlertRecord>(alertRecordSchema, ['details'], 'alert');

/** One open alert per (rule, subject): the key is derived from them, so a second create of it fails (409). */
function openKey(alert: Pick<AlertRecord, 'rule' | 'subject'>): string {
  return `${alert.rule}_${createHash('sha256').update(alert.subject).digest('hex').slice(0, 40)}`;
}

/** Resolved alerts sort newest first: the inverted time of resolution, then the id. */
function resolvedKey(resolvedAt: string, id: string): string {
  return `${String(MAX_TIME - Date.parse(resolvedAt)).padStart(13, '0')}_${encodeKey(id)}`;
}

/** The alerts and the rules document in Table Storage. */
export class TableAlertGateway implements AlertGateway {
  constructor(private readonly tables: { alerts: CountingTable; rules: CountingTable }) {}

  async getRules(): Promise<unknown> {
    const entity = await getOrUndefined<{ document?: string }>(this.tables.rules, RULES, RULES);
    if (!entity?.document) return undefined;
    try {
      return JSON.parse(entity.document) as unknown;
    } catch {
      return undefined;
    }
  }

  async putRules(rules: AlertRules): Promise<void> {
    await this.tables.rules.upsertEntity(
      { partitionKey: RULES, rowKey: RULES, document: JSON.stringify(rules) },
      'Replace',
    );
  }

  async listOpen(): Promise<AlertRecord[]> {
    const rows = await queryAll(this.tables.alerts, `PartitionKey eq ${odataString(OPEN)}`);
    return rows.map((row) => alertCodec.fromEntity(row));
  }

  async list(query: Parameters<AlertGateway['list']>[0]): Promise<AlertPage> {
    const filters: string[] = [];
    if (query.state !== 'all') filters.push(`PartitionKey eq ${odataString(query.state)}`);
    if (query.portalId) filters.push(`portalId eq ${odataString(query.portalId)}`);
    // 'open' sorts before 'resolved': the open alerts come first, then the resolved ones newest first.
    const { rows, continuationToken } = await this.tables.alerts.page(
      filters.length ? { filter: filters.join(' and ') } : {},
      query.limit,
      query.continuationToken,
    );
    return {
      items: rows.map((row) => alertCodec.fromEntity(row)),
      ...(continuationToken ? { continuationToken } : {}),
    };
  }

  async open(alert: AlertRecord): Promise<boolean> {
    try {
      await this.tables.alerts.createEntity(alertCodec.toEntity(alert, OPEN, openKey(alert)));
      return true;
    } catch (error) {
      if (isStatus(error, 409)) return false;
      throw error;
    }
  }

  async update(alert: AlertRecord): Promise<void> {
    await this.tables.alerts.updateEntity(alertCodec.toEntity(alert, OPEN, openKey(alert)), 'Replace', { etag: '*' });
  }

  async resolve(alert: AlertRecord, resolvedAt: string): Promise<AlertRecord> {
    const resolved: AlertRecord = { ...alert, state: 'resolved', resolvedAt, updatedAt: resolvedAt };
    // The resolved copy first: a crash in between leaves the alert open, and the next evaluation resolves it.
    await this.tables.alerts.upsertEntity(
      alertCodec.toEntity(resolved, RESOLVED, resolvedKey(resolvedAt, alert.id)),
      'Replace',
    );
    try {
      await this.tables.alerts.deleteEntity(OPEN, openKey(alert));
    } catch (error) {
      if (!isStatus(error, 404)) throw error;
    }
    return resolved;
  }

  async purgeResolved(before: Date): Promise<number> {
    // Keys invert time: "resolved before `before`" is a key above that of `before`.
    const from = String(MAX_TIME - before.getTime()).padStart(13, '0');
    const rows = await queryAll(
      this.tables.alerts,
      `PartitionKey eq ${odataString(RESOLVED)} and RowKey gt ${odataString(from)}`,
      ['RowKey'],
    );
    await submitInBatches(
      this.tables.alerts,
      rows.map((row) => ['delete', { partitionKey: RESOLVED, rowKey: row.rowKey as string }]),
    );
    return rows.length;
  }
}
