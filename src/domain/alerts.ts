import { z } from 'zod';
import { alertRuleSchema, SEVERITIES, type AlertRules } from './alertRules';

/**
 * Alerts, notification channels and their deliveries as the ledger stores them, and the gateways that store
 * them. Layout (table names get the settings' tablePrefix):
 *
 * | table      | PartitionKey | RowKey                                  | what                                      |
 * |------------|--------------|-----------------------------------------|-------------------------------------------|
 * | alertrules | "rules"      | "rules"                                 | the rules document (one entity)           |
 * | alerts     | "open"       | rule + hash of the subject              | open alerts: one per (rule, subject)      |
 * | alerts     | "resolved"   | inverted resolvedAt + alert id          | resolved alerts, newest first; 13 months  |
 * | channels   | "channel"    | channelId                               | channels (URL and secret in the store)    |
 * | deliveries | channelId    | deliveryId                              | one per event and channel                 |
 */

const isoDate = z.string().datetime({ offset: true });
const detailValue = z.union([z.string(), z.number(), z.boolean()]);

export const ALERT_STATES = ['open', 'resolved'] as const;
export const severitySchema = z.enum(SEVERITIES);

export const alertRecordSchema = z.object({
  id: z.string(),
  rule: alertRuleSchema,
  /** The condition's subject within its rule (see src/alerts/evaluate.ts): one open alert per (rule, subject). */
  subject: z.string(),
  portalId: z.string(),
  licenseId: z.string().optional(),
  state: z.enum(ALERT_STATES),
  severity: severitySchema,
  message: z.string(),
  details: z.record(z.string(), detailValue),
  raisedAt: isoDate,
  updatedAt: isoDate,
  resolvedAt: isoDate.optional(),
});
export type AlertRecord = z.infer<typeof alertRecordSchema>;

export const CHANNEL_KINDS = ['webhook', 'teams', 'email'] as const;
export const channelKindSchema = z.enum(CHANNEL_KINDS);
export type ChannelKind = z.infer<typeof channelKindSchema>;

export const channelRecordSchema = z.object({
  id: z.string(),
  kind: channelKindSchema,
  name: z.string(),
  /** E-mail channels: the recipients (not secret). */
  to: z.array(z.string()).optional(),
  /** Webhook and Teams channels: the URL is in the secret store. */
  hasUrl: z.boolean(),
  hasSigningSecret: z.boolean(),
  createdAt: isoDate,
  lastDeliveryAt: isoDate.optional(),
  /** The last delivery that finally failed (or the last test that failed); cleared by a delivery that works. */
  lastError: z.string().optional(),
  lastErrorAt: isoDate.optional(),
});
export type ChannelRecord = z.infer<typeof channelRecordSchema>;

export const DELIVERY_STATES = ['pending', 'delivered', 'failed'] as const;
export const ALERT_EVENT_NAMES = ['alert.raised', 'alert.resolved', 'test'] as const;

/** The alert as a notification shows it (no subject: that is the store's key). */
export const alertViewSchema = alertRecordSchema.omit({ subject: true, updatedAt: true });
export type AlertViewRecord = z.infer<typeof alertViewSchema>;

export const deliveryRecordSchema = z.object({
  id: z.string(),
  channelId: z.string(),
  event: z.enum(ALERT_EVENT_NAMES),
  /** The alert as it was when the event happened: a retry sends the very same body. */
  alert: alertViewSchema,
  state: z.enum(DELIVERY_STATES),
  attempts: z.number().int().nonnegative(),
  createdAt: isoDate,
  updatedAt: isoDate,
  lastError: z.string().optional(),
});
export type DeliveryRecord = z.infer<typeof deliveryRecordSchema>;

/** One queue message per delivery: ids only. */
export const deliveryMessageSchema = z.strictObject({
  channelId: z.string().min(1).max(64),
  deliveryId: z.string().min(1).max(64),
});
export type DeliveryMessage = z.infer<typeof deliveryMessageSchema>;

export interface NotificationQueue {
  send(message: DeliveryMessage): Promise<void>;
}

export interface AlertPage {
  items: AlertRecord[];
  continuationToken?: string;
}

export interface AlertGateway {
  /** The stored rules document as stored (validated by the caller), or undefined before the first PUT. */
  getRules(): Promise<unknown>;
  putRules(rules: AlertRules): Promise<void>;
  /** Every open alert (they are few: one per condition that holds). */
  listOpen(): Promise<AlertRecord[]>;
  /** Open ones first, then resolved ones newest first; paged by the store's continuation token. */
  list(query: {
    state: 'open' | 'resolved' | 'all';
    portalId?: string;
    limit: number;
    continuationToken?: string;
  }): Promise<AlertPage>;
  /** Opens an alert; false when one is open already for its (rule, subject). */
  open(alert: AlertRecord): Promise<boolean>;
  /** New figures of an open alert. */
  update(alert: AlertRecord): Promise<void>;
  /** Moves an open alert to the resolved ones. */
  resolve(alert: AlertRecord, resolvedAt: string): Promise<AlertRecord>;
  /** Deletes resolved alerts resolved before `before` (they are kept 13 months); answers how many. */
  purgeResolved(before: Date): Promise<number>;
}

export interface ChannelGateway {
  list(): Promise<ChannelRecord[]>;
  get(channelId: string): Promise<ChannelRecord | undefined>;
  create(channel: ChannelRecord): Promise<ChannelRecord>;
  delete(channelId: string): Promise<void>;
  /** Records a delivery's outcome on the channel (read-modify-write; a channel deleted meanwhile stays gone). */
  recordOutcome(channelId: string, outcome: { at: string; error?: string }): Promise<void>;
}

export interface DeliveryGateway {
  create(delivery: DeliveryRecord): Promise<void>;
  get(channelId: string, deliveryId: string): Promise<DeliveryRecord | undefined>;
  update(delivery: DeliveryRecord): Promise<void>;
  /** The channel's deliveries that finally failed, newest first. */
  listFailed(channelId: string, limit: number): Promise<DeliveryRecord[]>;
}
