import { TableClient } from '@azure/data-tables';
import { DefaultAzureCredential } from '@azure/identity';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { QueueServiceClient, type QueueClient } from '@azure/storage-queue';
import { SettingsError, type Settings, type StorageSettings } from '../config/settings';

/**
 * Storage clients from the operator's storage settings: a connection string (Azurite locally), or the
 * identity-based service URIs of Azure with the app's managed identity. Tables and the container are created on
 * first use, once per process.
 */

/** Base names of the ledger's tables; the real name is `settings.tablePrefix + base`. */
export const TABLES = {
  portals: 'portals',
  licenses: 'licenses',
  consumers: 'consumers',
  contacts: 'contacts',
  contactAddresses: 'contactaddresses',
  userLinks: 'userlinks',
  runs: 'runs',
  leases: 'leases',
  alerts: 'alerts',
  alertRules: 'alertrules',
  channels: 'channels',
  deliveries: 'deliveries',
  history: 'history',
  prices: 'prices',
  /** Right-size: terms set per subscription, and the buffer settings. */
  renewals: 'renewals',
  audit: 'audit',
  /** Pending "Connect a tenant" consents: single-use states, kept at most an hour. */
  consentStates: 'consentstates',
} as const;
export type TableBaseName = (typeof TABLES)[keyof typeof TABLES];

export const BLOB_CONTAINER = 'license-sync';

export function tableName(settings: Pick<Settings, 'tablePrefix'>, base: TableBaseName): string {
  return `${settings.tablePrefix}${base}`;
}

export function poisonQueueName(queueName: string): string {
  return `${queueName}-poison`;
}

/** The queue of notification deliveries, beside the run queue (its poison queue is `<name>-poison`). */
export function notificationQueueName(queueName: string): string {
  return `${queueName}-notifications`;
}

const credentials = new Map<string, DefaultAzureCredential>();

/** One credential per managed identity client id, so its token cache is shared by every client. */
export function storageCredential(storage: StorageSettings): DefaultAzureCredential {
  const key = storage.clientId ?? '';
  let credential = credentials.get(key);
  if (!credential) {
    // DefaultAzureCredential uses the user-assigned managed identity in Azure and a developer login elsewhere.
    credential = new DefaultAzureCredential(storage.clientId ? { managedIdentityClientId: storage.clientId } : {});
    credentials.set(key, credential);
  }
  return credential;
}

/** Azurite (and any http endpoint) needs the Tables SDK's explicit consent to send a key over plain http. */
function isInsecure(connectionString: string): boolean {
  return (
    /DefaultEndpointsProtocol=http(;|$)/i.test(connectionString) ||
    /Endpoint=http:\/\//i.test(connectionString) ||
    /UseDevelopmentStorage=true/i.test(connectionString)
  );
}

function missing(service: string): SettingsError {
  return new SettingsError(
    `No ${service} storage is configured: set AzureWebJobsStorage (a connection string) or AzureWebJobsStorage__accountName / AzureWebJobsStorage__${service}ServiceUri.`,
  );
}

/** A TableClient without creating the table. */
export function newTableClient(settings: Pick<Settings, 'storage' | 'tablePrefix'>, base: TableBaseName): TableClient {
  const { storage } = settings;
  const name = tableName(settings, base);
  if (storage.connectionString) {
    return TableClient.fromConnectionString(storage.connectionString, name, {
      allowInsecureConnection: isInsecure(storage.connectionString),
    });
  }
  if (!storage.tableServiceUri) throw missing('table');
  return new TableClient(storage.tableServiceUri, name, storageCredential(storage));
}

/**
 * Creates a storage resource once per process and key, sharing the pending creation with concurrent callers.
 * A failed creation (storage down) must not stick: the next caller tries again.
 */
function createdOnce<T>(cache: Map<string, Promise<T>>, key: string, create: () => Promise<T>): Promise<T> {
  let pending = cache.get(key);
  if (!pending) {
    pending = create();
    pending.catch(() => cache.delete(key));
    cache.set(key, pending);
  }
  return pending;
}

const tables = new Map<string, Promise<TableClient>>();

function storageKey(storage: StorageSettings, service: 'table' | 'queue' | 'blob'): string {
  const uri =
    service === 'table'
      ? storage.tableServiceUri
      : service === 'queue'
        ? storage.queueServiceUri
        : storage.blobServiceUri;
  return storage.connectionString ?? uri ?? '';
}

/** The table `tablePrefix + base`, created if missing (once per process and table). */
export function getTableClient(
  settings: Pick<Settings, 'storage' | 'tablePrefix'>,
  base: TableBaseName,
): Promise<TableClient> {
  return createdOnce(tables, `${storageKey(settings.storage, 'table')}|${tableName(settings, base)}`, async () => {
    const client = newTableClient(settings, base);
    await client.createTable();
    return client;
  });
}

function queueService(storage: StorageSettings): QueueServiceClient {
  if (storage.connectionString) return QueueServiceClient.fromConnectionString(storage.connectionString);
  if (!storage.queueServiceUri) throw missing('queue');
  return new QueueServiceClient(storage.queueServiceUri, storageCredential(storage));
}

/** The queue of portal runs, or its poison queue. Not created: see `getQueueClient`. */
export function newQueueClient(
  settings: Pick<Settings, 'storage' | 'queueName'>,
  which: 'runs' | 'poison' = 'runs',
): QueueClient {
  const name = which === 'poison' ? poisonQueueName(settings.queueName) : settings.queueName;
  return queueService(settings.storage).getQueueClient(name);
}

const queues = new Map<string, Promise<QueueClient>>();

/** The queue of portal runs (or its poison queue), created if missing (once per process and queue). */
export function getQueueClient(
  settings: Pick<Settings, 'storage' | 'queueName'>,
  which: 'runs' | 'poison' = 'runs',
): Promise<QueueClient> {
  return createdOnce(queues, `${storageKey(settings.storage, 'queue')}|${settings.queueName}|${which}`, async () => {
    const client = newQueueClient(settings, which);
    await client.createIfNotExists();
    return client;
  });
}

function blobService(storage: StorageSettings): BlobServiceClient {
  if (storage.connectionString) return BlobServiceClient.fromConnectionString(storage.connectionString);
  if (!storage.blobServiceUri) throw missing('blob');
  return new BlobServiceClient(storage.blobServiceUri, storageCredential(storage));
}

const containers = new Map<string, Promise<ContainerClient>>();

/** The app's blob container (`license-sync` unless told otherwise), created if missing (once per process). */
export function getBlobContainerClient(
  settings: Pick<Settings, 'storage'>,
  containerName: string = BLOB_CONTAINER,
): Promise<ContainerClient> {
  return createdOnce(containers, `${storageKey(settings.storage, 'blob')}|${containerName}`, async () => {
    const client = blobService(settings.storage).getContainerClient(containerName);
    await client.createIfNotExists();
    return client;
  });
}
