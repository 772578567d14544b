import { ClientSecretCredential } from '@azure/identity';
import { TableClient, TableServiceClient } from '@azure/data-tables';
import { QueueClient } from '@azure/storage-queue';
import { KeyVaultSecretStore, secretNameOf } from '../secrets/keyvault';
import { runSync } from '../sync/runSync';
import { startFakeKeyVault, type FakeKeyVault } from '../../test/fakes/keyvault';
import { expectNoSecrets, startApi, type ApiHarness } from '../../test/api/harness';
import { portalName, startTestTenant, type TestTenant } from '../../test/api/tenant';

/**
 * The secret scan: the portal scenarios run with secrets in (a fake of) Key Vault; afterwards no log line, no
 * response body, no table entity and no queue message holds any credential that was used.
 */
describe('no secret reaches a table, a log line, a run error or a response', () => {
  let t: TestTenant;
  let vault: FakeKeyVault;
  let api: ApiHarness;

  beforeAll(async () => {
    t = await startTestTenant();
    vault = await startFakeKeyVault();
    const store = new KeyVaultSecretStore({
      vaultUrl: vault.url,
      credential: new ClientSecretCredential(vault.tenantId, vault.clientId, vault.clientSecret, {
        authorityHost: vault.authorityHost,
        disableInstanceDiscovery: true,
      }),
      disableChallengeResourceVerification: true,
      pollIntervalMs: 10,
    });
    api = await startApi(
      { simulator: { authorityHost: t.simulator.authorityHost, graphEndpoint: t.simulator.graphEndpoint } },
      (services) => ({ ...services, secrets: store }),
    );
  });
  afterAll(async () => {
    await vault?.stop();
    await t?.close();
  });

  const portalBody = (auth: Record<string, unknown>, name = portalName('Scan')) => ({
    name,
    tenantId: t.tenantId,
    clientId: t.clientId,
    cloud: 'simulated',
    auth,
  });
  const sync = async (portalId: string) => {
    const queued = await api.call('portalsSync', { params: { id: portalId } });
    return runSync(
      api.services,
      { portalId, runId: queued.body.runId, trigger: 'manual' },
      { dequeueCount: 1, maxDequeueCount: 5 },
    );
  };

  it('runs every portal scenario with Key Vault', async () => {
    const secretKind = await api.call('portalsCreate', {
      body: portalBody({ kind: 'clientSecret', clientSecret: t.clientSecret }),
    });
    const certKind = await api.call('portalsCreate', {
      body: portalBody({ kind: 'certificate', certificate: t.certificatePem }),
    });
    const passwordKind = await api.call('portalsCreate', { body: portalBody({ kind: 'password', ...t.user }) });
    const mfaKind = await api.call('portalsCreate', { body: portalBody({ kind: 'password', ...t.mfaUser }) });
    for (const created of [secretKind, certKind, passwordKind, mfaKind]) expect(created.status).toBe(201);
    expect(vault.secretNames()).toContain(secretNameOf(secretKind.body.id));

    // Sign-ins that work and that fail, dry runs, runs (a failed run records its error).
    for (const p of [secretKind, certKind, passwordKind])
      expect((await api.call('portalsVerify', { params: { id: p.body.id } })).status).toBe(200);
    expect((await api.call('portalsVerify', { params: { id: mfaKind.body.id } })).status).toBe(422);
    expect((await api.call('portalsSync', { params: { id: certKind.body.id }, query: '?dryRun=true' })).status).toBe(
      200,
    );
    expect((await sync(secretKind.body.id)).status).toBe('succeeded');
    expect((await sync(passwordKind.body.id)).status).toBe('succeeded');
    expect((await sync(mfaKind.body.id)).status).toBe('failed');

    // Credentials change: a new version; a wrong one fails its run.
    const rotated = await api.call('portalsChange', {
      params: { id: secretKind.body.id },
      body: { auth: { kind: 'clientSecret', clientSecret: t.otherClientSecret } },
    });
    expect(rotated.status).toBe(200);
    expect(vault.versionsOf(secretNameOf(secretKind.body.id))).toHaveLength(2);
    expect(
      (
        await api.call('portalsChange', {
          params: { id: passwordKind.body.id },
          body: { auth: { kind: 'certificate', certificate: t.certificatePem } },
        })
      ).status,
    ).toBe(200);
    const broken = await api.call('portalsChange', {
      params: { id: certKind.body.id },
      body: { auth: { kind: 'clientSecret', clientSecret: `${t.clientSecret}-wrong` } },
    });
    expect(broken.status).toBe(200);
    expect((await sync(certKind.body.id)).status).toBe('failed');
    expect((await api.call('portalsVerify', { params: { id: certKind.body.id } })).status).toBe(422);

    // Requests that fail while carrying secrets: the error answers never echo them.
    expect(
      (
        await api.call('portalsCreate', {
          body: portalBody({ kind: 'clientSecret', clientSecret: t.clientSecret }, secretKind.body.name),
        })
      ).status,
    ).toBe(409);
    expect(
      (
        await api.call('portalsCreate', {
          body: { ...portalBody({ kind: 'clientSecret', clientSecret: t.clientSecret }), note: t.user.password },
        })
      ).status,
    ).toBe(400);
    expect(
      (
        await api.call('portalsCreate', {
          body: portalBody({ kind: 'password', username: t.user.password, password: t.user.password }),
        })
      ).status,
    ).toBe(400);
    expect(
      (await api.call('portalsCreate', { body: `{"auth":{"kind":"clientSecret","clientSecret":"${t.clientSecret}"}` }))
        .status,
    ).toBe(400);
    expect(
      (
        await api.call('portalsChange', {
          params: { id: secretKind.body.id },
          body: { auth: { kind: 'certificate', certificate: `${t.clientSecret}` } },
        })
      ).status,
    ).toBe(400);
    expect(
      (
        await api.call('portalsCreate', {
          body: portalBody({ kind: 'clientSecret', clientSecret: `${t.clientSecret}${'x'.repeat(70_000)}` }),
        })
      ).status,
    ).toBe(413);

    for (const p of [secretKind, certKind, passwordKind, mfaKind]) {
      expect((await api.call('runsList', { params: { id: p.body.id } })).status).toBe(200);
    }

    // Deletes: the secret goes from the vault (deleted and purged).
    expect((await api.call('portalsDelete', { params: { id: mfaKind.body.id } })).status).toBe(204);
    expect(
      (await api.call('portalsDelete', { params: { id: passwordKind.body.id }, query: '?purge=true' })).status,
    ).toBe(204);
    expect(vault.secretNames()).not.toContain(secretNameOf(mfaKind.body.id));
    expect(vault.isDeleted(secretNameOf(mfaKind.body.id))).toBe(false);
  });

  it('finds none of the secrets in logs, responses, tables or queue messages', async () => {
    const tables: string[] = [];
    const connection = process.env.AzureWebJobsStorage!;
    const service = TableServiceClient.fromConnectionString(connection, { allowInsecureConnection: true });
    for await (const table of service.listTables()) {
      if (!table.name?.startsWith(api.settings.tablePrefix)) continue;
      const client = TableClient.fromConnectionString(connection, table.name, { allowInsecureConnection: true });
      for await (const entity of client.listEntities()) tables.push(JSON.stringify(entity));
    }
    expect(tables.length).toBeGreaterThan(10);
    const queue = new QueueClient(connection, api.settings.queueName);
    const messages = (await queue.peekMessages({ numberOfMessages: 32 })).peekedMessageItems.map((m) => m.messageText);
    expect(messages.length).toBeGreaterThan(0);

    const haystacks = { logs: api.logs, bodies: api.bodies, tables, messages };
    expect(api.logs.length).toBeGreaterThan(10);
    expectNoSecrets(haystacks, t.secrets);
    // The scan itself works: it finds a secret where one is.
    expect(() => expectNoSecrets({ probe: [`x${t.clientSecret}x`] }, t.secrets)).toThrow(/probe\[0\]/);
    // And the secrets did exist, in the vault.
    expect(vault.allValues().join('\n')).toContain(t.otherClientSecret);
  });
});
