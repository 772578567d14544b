import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadSettings, type Settings } from '../../src/config/settings';

/** What scripts/test.mjs prepared for the suite: Azurite and a certificate trusted through NODE_EXTRA_CA_CERTS. */
export function testTls(): { cert: string; key: string } {
  const certPath = process.env.LICENSE_SYNC_TEST_CERT;
  const keyPath = process.env.LICENSE_SYNC_TEST_KEY;
  if (!certPath || !keyPath)
    throw new Error('Run the tests with `npm test` (scripts/test.mjs prepares TLS and Azurite).');
  return { cert: readFileSync(certPath, 'utf8'), key: readFileSync(keyPath, 'utf8') };
}

/** Settings for one test file: the suite's Azurite, tables and queue of its own (a unique prefix). */
export function testSettings(overrides: Partial<Settings> = {}): Settings {
  if (!process.env.AzureWebJobsStorage) throw new Error('Run the tests with `npm test` (it starts Azurite).');
  const prefix = `t${randomBytes(5).toString('hex')}`;
  const base = loadSettings({
    ...process.env,
    LICENSE_SYNC_SCHEDULE: undefined,
    LICENSE_SYNC_DATA_DIR: process.env.LICENSE_SYNC_TEST_WORK_DIR,
  });
  return {
    ...base,
    tablePrefix: prefix,
    queueName: `${prefix}-runs`,
    notificationQueueName: `${prefix}-runs-notifications`,
    ...overrides,
  };
}
