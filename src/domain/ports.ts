import type { Settings } from '../config/settings';
import type { NotificationQueue } from './alerts';
import type { AuditTrail } from './audit';
import type { ConsentStateStore } from './consent';
import type { Ledger } from './ledger';
import type { PortalRecord } from './records';
import type { RunQueue } from './runMessage';
import type { PortalCredential, SecretStore } from './secrets';
import type { TenantReader } from './tenant';

/** Structured log lines; properties become customDimensions in Application Insights. Never pass a secret. */
export interface Logger {
  info(message: string, properties?: Record<string, unknown>): void;
  warn(message: string, properties?: Record<string, unknown>): void;
  error(message: string, properties?: Record<string, unknown>): void;
}

export interface PlanNames {
  /** Microsoft's product name of a plan, or the SKU part number when the list lacks it or is unreachable. */
  displayName(skuId: string, skuPartNumber: string): string;
}

/** The time as the use cases see it (tests and the local host may move it). */
export type Clock = () => Date;

/** Every port a use case needs, built once per process by the composition root (src/app/compose.ts). */
export interface Services {
  settings: Settings;
  ledger: Ledger;
  secrets: SecretStore;
  /** Loads (or reuses the cached) product-names list. */
  planNames(): Promise<PlanNames>;
  /** A reader for one run of one portal. */
  openTenant(portal: PortalRecord, secret: PortalCredential): TenantReader;
  runQueue: RunQueue;
  /** Deliveries of notifications, one message each. */
  notificationQueue: NotificationQueue;
  /** Who changed what. */
  audit: AuditTrail;
  /** Pending "Connect a tenant" consents. */
  consentStates: ConsentStateStore;
  logger: Logger;
  now: Clock;
  /** Resolves a notification URL's host name (tests inject one; the system resolver otherwise). */
  resolveHost?: (hostname: string) => Promise<{ address: string; family: number }[]>;
}
