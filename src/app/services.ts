import type { Settings } from '../config/settings';
import { loadSettings } from '../config/settings';
import type { PortalRecord } from '../domain/records';
import type { TenantReader } from '../graph/types';
import type { Ledger } from '../ledger/types';
import type { RunQueue } from '../runs/message';
import type { PortalCredential, SecretStore } from '../secrets/types';

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

/** Everything a use case needs, built once per process from the operator settings (the composition root). */
export interface Services {
  settings: Settings;
  ledger: Ledger;
  secrets: SecretStore;
  /** Loads (or reuses the cached) product-names list. */
  planNames(): Promise<PlanNames>;
  /** A reader for one run of one portal. */
  openTenant(portal: PortalRecord, secret: PortalCredential): TenantReader;
  runQueue: RunQueue;
  logger: Logger;
  now(): Date;
}

export type ServicesFactory = (settings: Settings, logger: Logger) => Promise<Services>;

let factory: ServicesFactory | undefined;
let current: Promise<Services> | undefined;

/** The composition root registers how services are made (src/app/compose.ts). */
export function setServicesFactory(next: ServicesFactory): void {
  factory = next;
}

/** Replace the process's services (the local host and tests do this before serving). */
export function useServices(services: Services | Promise<Services>): void {
  current = Promise.resolve(services);
}

export const consoleLogger: Logger = {
  info: (message, properties) => console.info(message, properties ?? ''),
  warn: (message, properties) => console.warn(message, properties ?? ''),
  error: (message, properties) => console.error(message, properties ?? ''),
};

export function getServices(): Promise<Services> {
  if (!current) {
    // The real composition root registers itself when loaded; loaded lazily here to keep this module light.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    if (!factory) require('./compose');
    if (!factory) throw new Error('No services factory registered.');
    const made = factory(loadSettings(process.env), consoleLogger);
    // A failed start (e.g. bad settings) must not stick: the next invocation tries again.
    made.catch(() => {
      if (current === made) current = undefined;
    });
    current = made;
  }
  return current;
}
