import path from 'node:path';
import { z } from 'zod';
import { federationEnv, federationSettings, type FederationSettings } from './federation';

/**
 * Operator settings: app settings in Azure, environment variables locally. Never API input: a portal can never
 * point its credentials at an address of its own choosing.
 */
export const DEFAULT_SCHEDULE = '0 0 * * * *';
/** The daily pass of the alert rules that depend on the date (expiry, credentials, renewals). */
export const DEFAULT_ALERTS_SCHEDULE = '0 30 5 * * *';
export const DEFAULT_SKU_NAMES_URL =
  'https://download.microsoft.com/download/e/3/e/e3e9faf2-f28b-490a-9ada-c6089a1fc5b0/Product%20names%20and%20service%20plan%20identifiers%20for%20licensing.csv';

/** Who may call the API: the platform's signed-in principal, function keys (every caller admin), or nobody checks. */
export const AUTH_MODES = ['easyauth', 'key', 'none'] as const;
export type AuthMode = (typeof AUTH_MODES)[number];

const httpsUrl = z
  .string()
  .url()
  .refine((value) => value.startsWith('https://'), { message: 'must be an https:// address' });

const envSchema = z.object({
  AzureWebJobsStorage: z.string().min(1).optional(),
  AzureWebJobsStorage__accountName: z.string().min(1).optional(),
  AzureWebJobsStorage__tableServiceUri: httpsUrl.optional(),
  AzureWebJobsStorage__queueServiceUri: httpsUrl.optional(),
  AzureWebJobsStorage__blobServiceUri: httpsUrl.optional(),
  AzureWebJobsStorage__clientId: z.string().min(1).optional(),
  LICENSE_SYNC_SCHEDULE: z.string().min(1).default(DEFAULT_SCHEDULE),
  LICENSE_SYNC_KEY_VAULT_URL: httpsUrl.optional(),
  LICENSE_SYNC_AUTHORITY_HOST: httpsUrl.optional(),
  LICENSE_SYNC_GRAPH_ENDPOINT: httpsUrl.optional(),
  LICENSE_SYNC_SKU_NAMES_URL: z.string().url().default(DEFAULT_SKU_NAMES_URL),
  LICENSE_SYNC_DATA_DIR: z.string().min(1).default('.data'),
  LICENSE_SYNC_DEMO: z.enum(['on', 'off']).default('on'),
  LICENSE_SYNC_TABLE_PREFIX: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9]{0,20}$/)
    .default(''),
  LICENSE_SYNC_QUEUE_NAME: z
    .string()
    .regex(/^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,50}$/)
    .default('portal-runs'),
  LICENSE_SYNC_ALERTS_SCHEDULE: z.string().min(1).default(DEFAULT_ALERTS_SCHEDULE),
  LICENSE_SYNC_ALLOW_PRIVATE_WEBHOOKS: z.enum(['true', 'false']).default('false'),
  LICENSE_SYNC_MAIL_PORTAL_ID: z.string().min(1).optional(),
  LICENSE_SYNC_MAIL_FROM: z.email().optional(),
  AZURE_CLIENT_ID: z.string().min(1).optional(),
  LICENSE_SYNC_AUTH: z.enum(AUTH_MODES).optional(),
  /** Set by the platform on every instance: only this makes a run an Azure one (IDENTITY_ENDPOINT does not). */
  WEBSITE_INSTANCE_ID: z.string().optional(),
  ...federationEnv,
  PORT: z.coerce.number().int().min(0).max(65535).default(7071),
});

export interface StorageSettings {
  /** A connection string (Azurite locally), or the identity-based service URIs of Azure. */
  connectionString?: string;
  tableServiceUri?: string;
  queueServiceUri?: string;
  blobServiceUri?: string;
  /** Client id of the user-assigned managed identity used for storage. */
  clientId?: string;
}

export interface Settings {
  storage: StorageSettings;
  /** Prefix of every table name, so tests (and several installations) can share one storage account. */
  tablePrefix: string;
  /** The queue of portal runs; its poison queue is `<name>-poison`. */
  queueName: string;
  schedule: string;
  /** The queue of notification deliveries (`<queueName>-notifications`). */
  notificationQueueName: string;
  alerts: {
    schedule: string;
    /** LICENSE_SYNC_ALLOW_PRIVATE_WEBHOOKS: channel URLs may point at private addresses (tests, internal receivers). */
    allowPrivateWebhooks: boolean;
    /** E-mail channels send from this mailbox, signed in as this portal's app (it needs Mail.Send). */
    mailPortalId?: string;
    mailFrom?: string;
  };
  keyVaultUrl?: string;
  authorityHostOverride?: string;
  graphEndpointOverride?: string;
  skuNamesUrl: string;
  dataDir: string;
  demo: boolean;
  port: number;
  /** Client id of the app's user-assigned managed identity (Key Vault, storage). */
  managedIdentityClientId?: string;
  /** LICENSE_SYNC_AUTH: easyauth in Azure by default, none (local runs only) otherwise. */
  auth: AuthMode;
  /** WEBSITE_INSTANCE_ID is set: the platform runs this process. */
  runningInAzure: boolean;
  /** Secretless tenants: the multi-tenant app, the managed identity it trusts, and this app's public URL. */
  federation: FederationSettings;
  /** Set only by the local host: where the simulated demo tenant answers. */
  simulator?: { authorityHost: string; graphEndpoint: string };
}

export class SettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SettingsError';
  }
}

export function loadSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new SettingsError(`Invalid settings: ${problems}`);
  }
  const e = parsed.data;
  const runningInAzure = Boolean(e.WEBSITE_INSTANCE_ID);
  const auth = e.LICENSE_SYNC_AUTH ?? (runningInAzure ? 'easyauth' : 'none');
  if (auth === 'none' && runningInAzure) {
    // Without this check one wrong app setting would open the whole API to the internet.
    throw new SettingsError(
      'LICENSE_SYNC_AUTH=none is for local runs only; in Azure set it to easyauth (App Service Authentication) or key.',
    );
  }
  const accountName = e.AzureWebJobsStorage__accountName;
  const storage: StorageSettings = e.AzureWebJobsStorage
    ? { connectionString: e.AzureWebJobsStorage }
    : {
        tableServiceUri:
          e.AzureWebJobsStorage__tableServiceUri ?? (accountName && `https://${accountName}.table.core.windows.net`),
        queueServiceUri:
          e.AzureWebJobsStorage__queueServiceUri ?? (accountName && `https://${accountName}.queue.core.windows.net`),
        blobServiceUri:
          e.AzureWebJobsStorage__blobServiceUri ?? (accountName && `https://${accountName}.blob.core.windows.net`),
        clientId: e.AzureWebJobsStorage__clientId ?? e.AZURE_CLIENT_ID,
      };
  return {
    storage,
    tablePrefix: e.LICENSE_SYNC_TABLE_PREFIX,
    queueName: e.LICENSE_SYNC_QUEUE_NAME,
    schedule: e.LICENSE_SYNC_SCHEDULE,
    notificationQueueName: `${e.LICENSE_SYNC_QUEUE_NAME}-notifications`,
    alerts: {
      schedule: e.LICENSE_SYNC_ALERTS_SCHEDULE,
      allowPrivateWebhooks: e.LICENSE_SYNC_ALLOW_PRIVATE_WEBHOOKS === 'true',
      mailPortalId: e.LICENSE_SYNC_MAIL_PORTAL_ID,
      mailFrom: e.LICENSE_SYNC_MAIL_FROM,
    },
    keyVaultUrl: e.LICENSE_SYNC_KEY_VAULT_URL,
    authorityHostOverride: e.LICENSE_SYNC_AUTHORITY_HOST,
    graphEndpointOverride: e.LICENSE_SYNC_GRAPH_ENDPOINT,
    skuNamesUrl: e.LICENSE_SYNC_SKU_NAMES_URL,
    dataDir: path.resolve(e.LICENSE_SYNC_DATA_DIR),
    demo: e.LICENSE_SYNC_DEMO === 'on',
    port: e.PORT,
    managedIdentityClientId: e.AZURE_CLIENT_ID,
    auth,
    runningInAzure,
    federation: federationSettings(e, { runningInAzure, port: e.PORT }),
  };
}
