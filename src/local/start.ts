// First: the telemetry distro must start before what it instruments is loaded (when a connection string is set).
import '../telemetry/local';
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadSettings, SettingsError, type Settings } from '../config/settings';
import { LocalSecretStore } from '../secrets/local';
import { poisonQueueName } from '../storage/clients';
import { LocalStartError, startLocalApp, type LocalApp } from './app';
import { PortInUseError } from './host';
import { ensureLocalCertificate, type LocalCertificate } from './tls';

export { startLocalApp } from './app';
export type { LocalApp, LocalAppOptions } from './app';

/**
 * `npm start`: the app on this machine. See src/local/app.ts for what it starts and its local-only settings.
 *
 * The simulated demo tenant speaks HTTPS with a certificate made here; Node reads the extra CA certificates it
 * trusts (NODE_EXTRA_CA_CERTS) only at process start, so when they do not include that certificate this process
 * starts itself again with them set, and relays signals and the exit code.
 */

const RESPAWNED = 'LICENSE_SYNC_LOCAL_RESPAWNED';

async function readIfAny(file: string | undefined): Promise<string | undefined> {
  if (!file) return undefined;
  return readFile(file, 'utf8').catch(() => undefined);
}

/** The CA file to restart with, or undefined when this process already trusts the local certificate. */
async function caFileToTrust(cert: LocalCertificate): Promise<string | undefined> {
  const current = process.env.NODE_EXTRA_CA_CERTS;
  const content = await readIfAny(current);
  if (content?.includes(cert.cert.trim())) return undefined;
  if (!content?.trim()) return cert.certPath;
  // Keep the CA certificates already configured (e.g. a company proxy's) and add the local one first: OpenSSL
  // picks the first certificate of a matching name, and another local "localhost" certificate may be there.
  const bundle = path.join(path.dirname(cert.certPath), 'ca-bundle.pem');
  await writeFile(bundle, `${cert.cert.trim()}\n${content.trim()}\n`, { mode: 0o644 });
  return bundle;
}

function respawn(caFile: string): void {
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    // The IPC channel closes when this process dies, however it dies: the app then stops too (see main).
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, NODE_EXTRA_CA_CERTS: caFile, [RESPAWNED]: '1' },
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (child.exitCode === null) child.kill(signal);
    });
  }
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

function describeStorage(app: LocalApp): string {
  if (app.storage.kind === 'configured') {
    const account = /AccountName=([^;]+)/i.exec(app.settings.storage.connectionString ?? '')?.[1];
    return `the storage of AzureWebJobsStorage${account ? ` (account ${account})` : ''}; no Azurite started`;
  }
  return app.storage.inMemory
    ? 'Azurite, in memory (gone when the app stops)'
    : `Azurite, data in ${app.storage.location} (kept across restarts)`;
}

function describeSecrets(app: LocalApp): string {
  if (app.settings.keyVaultUrl) return `Key Vault ${app.settings.keyVaultUrl}`;
  const file = app.services.secrets instanceof LocalSecretStore ? app.services.secrets.filePath : app.settings.dataDir;
  return `local store ${file} (no LICENSE_SYNC_KEY_VAULT_URL set)`;
}

function banner(app: LocalApp, settings: Settings): string[] {
  const { queues } = app.hostSettings;
  // The sync's timer by name: the daily alerts pass is a timer too, and comes first.
  const timer = app.host.timers().find((t) => t.name === 'scheduledSync');
  const lines = [
    '',
    `Listening on ${app.url}`,
    'm365-license-sync is running on this machine (local Functions host)',
    `  Web page:   ${app.url}/`,
    `  API:        ${app.url}/api/portals   (OpenAPI: ${app.url}/api/openapi.json)`,
    `  Storage:    ${describeStorage(app)}`,
    `  Secrets:    ${describeSecrets(app)}`,
    `  Schedule:   ${settings.schedule} (NCRONTAB, UTC)${timer ? `, next run ${timer.next.toISOString()}` : ''}`,
    `  Queue:      ${settings.queueName}: up to ${queues.maxDequeueCount} attempts, ${Math.round(queues.visibilityTimeoutMs / 1000)} s apart, then ${poisonQueueName(settings.queueName)}`,
  ];
  if (app.demo) {
    const portal = app.demo.portal
      ? `created "${app.demo.portal.name}"${app.demo.secretlessPortal ? ` and "${app.demo.secretlessPortal.name}" (federated, no secret)` : ''}; first runs queued`
      : 'portals exist already, so no demo portal was created';
    lines.push(`  Demo:       simulated Microsoft tenant at ${app.demo.simulatorUrl}; ${portal}`);
  } else {
    lines.push('  Demo:       off (LICENSE_SYNC_DEMO=off)');
  }
  lines.push(
    `  Auth:       ${AUTH_LINES[app.settings.auth](Boolean(process.env.LICENSE_SYNC_FUNCTION_KEY))}`,
    'Press Ctrl+C to stop.',
    '',
  );
  return lines;
}

const AUTH_LINES: Record<Settings['auth'], (hasKey: boolean) => string> = {
  none: () => 'none (LICENSE_SYNC_AUTH=none): every caller is an admin, as "local"; only 127.0.0.1 is served',
  key: (hasKey) =>
    hasKey
      ? 'function key (LICENSE_SYNC_FUNCTION_KEY): API calls need the x-functions-key header'
      : 'key mode without LICENSE_SYNC_FUNCTION_KEY: no key is checked locally',
  easyauth: () => 'easyauth: each request names its principal in x-ms-client-principal (base64 JSON); without one, 401',
};

function explain(error: unknown): string {
  if (error instanceof PortInUseError || error instanceof SettingsError || error instanceof LocalStartError)
    return error.message;
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

async function main(): Promise<void> {
  let settings: Settings;
  try {
    settings = loadSettings(process.env);
  } catch (error) {
    console.error(`Cannot start: ${explain(error)}`);
    process.exit(1);
  }

  let tls: LocalCertificate | undefined;
  if (settings.demo) {
    tls = await ensureLocalCertificate(path.join(settings.dataDir, 'tls'));
    const caFile = await caFileToTrust(tls);
    if (caFile && !process.env[RESPAWNED]) return respawn(caFile);
    if (caFile)
      console.warn(`Warning: this process does not trust ${tls.certPath}; the demo tenant will not be reachable.`);
  }

  console.log(`Starting m365-license-sync (data folder ${settings.dataDir})...`);
  let app: LocalApp;
  try {
    app = await startLocalApp({ tls });
  } catch (error) {
    console.error(`Cannot start: ${explain(error)}`);
    process.exit(1);
  }
  for (const line of banner(app, app.settings)) console.log(line);

  let firstSignalAt = 0;
  const shutdown = (signal: NodeJS.Signals) => {
    const now = Date.now();
    if (firstSignalAt) {
      // A second Ctrl+C quits at once (the same Ctrl+C relayed by a parent process within a moment does not).
      if (now - firstSignalAt > 500) {
        console.error('Stopped without waiting for running work.');
        process.exit(130);
      }
      return;
    }
    firstSignalAt = now;
    console.log(`${signal}: stopping (running syncs get up to 10 s to finish; press Ctrl+C again to quit at once)...`);
    app.stop().then(
      () => {
        console.log('Stopped.');
        process.exit(0);
      },
      (error: unknown) => {
        console.error(`Stopping failed: ${explain(error)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  // Started by start.ts itself (to trust the certificate): when that parent is gone, nobody can stop this one.
  process.on('disconnect', () => shutdown('SIGTERM'));
}

if (require.main === module) {
  process.on('unhandledRejection', (reason) => console.error('Unhandled rejection:', reason));
  main().catch((error: unknown) => {
    console.error(`Cannot start: ${explain(error)}`);
    process.exit(1);
  });
}
