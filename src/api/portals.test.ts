import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { MAX_BODY_BYTES } from './schemas';
import { expectNoSecrets, startApi, type ApiHarness } from '../../test/api/harness';
import { portalBody, portalName, startTestTenant, type TestTenant } from '../../test/api/tenant';

describe('portal accesses over HTTP', () => {
  let t: TestTenant;
  let api: ApiHarness;
  const harnesses: ApiHarness[] = [];
  const start = async (withSimulator: boolean) => {
    const harness = await startApi(
      withSimulator
        ? { simulator: { authorityHost: t.simulator.authorityHost, graphEndpoint: t.simulator.graphEndpoint } }
        : {},
    );
    harnesses.push(harness);
    return harness;
  };

  const body = (overrides: Record<string, unknown> = {}) => portalBody(t, overrides);
  const create = async (overrides: Record<string, unknown> = {}) => {
    const res = await api.call('portalsCreate', { body: body(overrides) });
    expect(res.status).toBe(201);
    return res.body as { id: string; name: string; secretSetAt: string; [key: string]: unknown };
  };
  const storedSecret = async (portalId: string) => api.services.secrets.get(portalId);
  const fieldsOf = (res: { body: { error: { fields?: { path: string }[] } } }) =>
    (res.body.error.fields ?? []).map((f) => f.path);

  beforeAll(async () => {
    t = await startTestTenant();
    api = await start(true);
  });
  afterAll(async () => {
    await t?.close();
  });
  afterAll(() => {
    // The secret scan of this file's scenarios: no log line and no response body holds a credential.
    expectNoSecrets({ logs: harnesses.flatMap((h) => h.logs), bodies: harnesses.flatMap((h) => h.bodies) }, t.secrets);
  });

  describe('create', () => {
    it('creates a portal: the secret goes to the store, the response shows only that there is one', async () => {
      const res = await api.call('portalsCreate', { body: body({ active: false }) });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        tenantId: t.tenantId,
        clientId: t.clientId,
        cloud: 'simulated',
        authKind: 'clientSecret',
        active: false,
        autoSync: true,
        hasSecret: true,
      });
      expect(Date.parse(res.body.secretSetAt)).not.toBeNaN();
      expect(res.body).not.toHaveProperty('legacy');
      expect(res.text).not.toContain(t.clientSecret);
      expect(await storedSecret(res.body.id)).toEqual({ kind: 'clientSecret', clientSecret: t.clientSecret });
    });

    it('keeps the local secret store readable by its owner only', async () => {
      await create();
      const file = path.join(api.settings.dataDir, 'secrets.json');
      if (process.platform !== 'win32') expect((await stat(file)).mode & 0o777).toBe(0o600);
      expect(await readFile(file, 'utf8')).toContain(t.clientSecret);
    });

    it('labels the password kind legacy and shows its user name, never the password', async () => {
      const res = await api.call('portalsCreate', { body: body({ auth: { kind: 'password', ...t.user } }) });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        authKind: 'password',
        username: t.user.username,
        legacy: true,
        hasSecret: true,
      });
      expect(res.text).not.toContain(t.user.password);
    });

    it('accepts a certificate PEM with its private key', async () => {
      const res = await api.call('portalsCreate', {
        body: body({ auth: { kind: 'certificate', certificate: t.certificatePem } }),
      });
      expect(res.status).toBe(201);
      expect(res.body.authKind).toBe('certificate');
      expect(await storedSecret(res.body.id)).toEqual({ kind: 'certificate', certificate: t.certificatePem });
    });

    it('refuses a duplicate name, compared case-insensitively (409), and leaves no secret behind', async () => {
      const first = await create();
      const before = Object.keys(
        JSON.parse(await readFile(path.join(api.settings.dataDir, 'secrets.json'), 'utf8')).portals,
      ).length;
      const res = await api.call('portalsCreate', { body: body({ name: `  ${first.name.toUpperCase()} ` }) });
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('conflict');
      const after = Object.keys(
        JSON.parse(await readFile(path.join(api.settings.dataDir, 'secrets.json'), 'utf8')).portals,
      ).length;
      expect(after).toBe(before);
    });

    it('names every failing field of a bad body (400)', async () => {
      const res = await api.call('portalsCreate', {
        body: {
          name: '',
          tenantId: 'not a tenant',
          clientId: 'nope',
          cloud: 'mars',
          auth: { kind: 'clientSecret', clientSecret: '' },
          extra: 1,
        },
      });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('bad_request');
      expect(fieldsOf(res)).toEqual(
        expect.arrayContaining(['name', 'tenantId', 'clientId', 'cloud', 'auth.clientSecret', 'extra']),
      );
    });

    it('rejects unknown fields inside the credentials and a missing secret', async () => {
      const unknown = await api.call('portalsCreate', {
        body: body({ auth: { kind: 'clientSecret', clientSecret: t.clientSecret, tenant: 'x' } }),
      });
      expect(unknown.status).toBe(400);
      expect(fieldsOf(unknown)).toContain('auth.tenant');
      const missing = await api.call('portalsCreate', {
        body: body({ auth: { kind: 'password', username: t.user.username } }),
      });
      expect(missing.status).toBe(400);
      expect(fieldsOf(missing)).toContain('auth.password');
      const badKind = await api.call('portalsCreate', { body: body({ auth: { kind: 'kerberos' } }) });
      expect(badKind.status).toBe(400);
      expect(fieldsOf(badKind)).toContain('auth.kind');
    });

    it('refuses a PEM without a matching private key', async () => {
      const certOnly = t.certificatePem.slice(0, t.certificatePem.indexOf('-----END CERTIFICATE-----') + 25);
      const res = await api.call('portalsCreate', {
        body: body({ auth: { kind: 'certificate', certificate: certOnly } }),
      });
      expect(res.status).toBe(400);
      expect(fieldsOf(res)).toEqual(['auth.certificate']);
    });

    it('refuses invalid JSON, an empty body, a body that is not JSON and an oversized one', async () => {
      const invalid = await api.call('portalsCreate', {
        body: `{"name": "x", "auth": {"clientSecret": "${t.clientSecret}"`,
      });
      expect(invalid.status).toBe(400);
      expect(invalid.body.error.code).toBe('invalid_json');
      expect(invalid.text).not.toContain(t.clientSecret);
      expect((await api.call('portalsCreate', { body: '' })).status).toBe(400);
      expect((await api.call('portalsCreate', { body: '[]' })).status).toBe(400);
      const xml = await api.call('portalsCreate', {
        body: '<portal/>',
        headers: { 'content-type': 'application/xml' },
      });
      expect(xml.status).toBe(415);
      const huge = await api.call('portalsCreate', { body: body({ name: 'x'.repeat(MAX_BODY_BYTES) }) });
      expect(huge.status).toBe(413);
      expect(huge.body.error.code).toBe('payload_too_large');
    });
  });

  describe('read and list', () => {
    it('reads one portal and lists all by name', async () => {
      const a = await create({ name: portalName('Alpha') });
      const read = await api.call('portalsGet', { params: { id: a.id } });
      expect(read.status).toBe(200);
      expect(read.body).toEqual(a);
      const list = await api.call('portalsList');
      expect(list.status).toBe(200);
      expect(list.body.items.map((p: { id: string }) => p.id)).toContain(a.id);
      const names = list.body.items.map((p: { name: string }) => p.name.toLowerCase());
      expect(names).toEqual([...names].sort((x: string, y: string) => x.localeCompare(y)));
    });

    it('answers 404 for an unknown id and 400 for a malformed one', async () => {
      const missing = await api.call('portalsGet', { params: { id: 'no-such-portal' } });
      expect(missing.status).toBe(404);
      expect(missing.body.error.code).toBe('portal_not_found');
      const bad = await api.call('portalsGet', { params: { id: 'bad id!' } });
      expect(bad.status).toBe(400);
      expect(bad.body.error.fields).toEqual([expect.objectContaining({ in: 'path', path: 'id' })]);
    });

    it('rejects unknown query parameters but ignores the function key', async () => {
      const a = await create();
      expect((await api.call('portalsGet', { params: { id: a.id }, query: '?code=function-key' })).status).toBe(200);
      const res = await api.call('portalsGet', { params: { id: a.id }, query: '?expand=secret' });
      expect(res.status).toBe(400);
      expect(res.body.error.fields).toEqual([expect.objectContaining({ in: 'query', path: 'expand' })]);
    });
  });

  describe('change', () => {
    it('renames and changes flags, keeping the secret and its timestamp', async () => {
      const a = await create();
      const newName = portalName('Renamed');
      const res = await api.call('portalsChange', {
        params: { id: a.id },
        body: { name: newName, autoSync: false, active: false },
      });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        id: a.id,
        name: newName,
        autoSync: false,
        active: false,
        secretSetAt: a.secretSetAt,
        createdAt: a.createdAt,
      });
      expect(await storedSecret(a.id)).toEqual({ kind: 'clientSecret', clientSecret: t.clientSecret });
    });

    it('writes new credentials as a new secret and switches the kind only with the new secret', async () => {
      const a = await create();
      const rotated = await api.call('portalsChange', {
        params: { id: a.id },
        body: { auth: { kind: 'clientSecret', clientSecret: t.otherClientSecret } },
      });
      expect(rotated.status).toBe(200);
      expect(Date.parse(rotated.body.secretSetAt)).toBeGreaterThanOrEqual(Date.parse(a.secretSetAt));
      expect(await storedSecret(a.id)).toEqual({ kind: 'clientSecret', clientSecret: t.otherClientSecret });

      const noSecret = await api.call('portalsChange', {
        params: { id: a.id },
        body: { auth: { kind: 'password', username: t.user.username } },
      });
      expect(noSecret.status).toBe(400);
      expect(noSecret.body.error.fields.map((f: { path: string }) => f.path)).toContain('auth.password');

      const switched = await api.call('portalsChange', {
        params: { id: a.id },
        body: { auth: { kind: 'password', ...t.user } },
      });
      expect(switched.status).toBe(200);
      expect(switched.body).toMatchObject({ authKind: 'password', username: t.user.username, legacy: true });
      const back = await api.call('portalsChange', {
        params: { id: a.id },
        body: { auth: { kind: 'certificate', certificate: t.certificatePem } },
      });
      expect(back.body.authKind).toBe('certificate');
      expect(back.body).not.toHaveProperty('username');
      expect(back.body).not.toHaveProperty('legacy');
    });

    it('refuses a name another portal has (409) and keeps the old one', async () => {
      const a = await create();
      const b = await create();
      const res = await api.call('portalsChange', { params: { id: b.id }, body: { name: a.name.toLowerCase() } });
      expect(res.status).toBe(409);
      expect((await api.call('portalsGet', { params: { id: b.id } })).body.name).toBe(b.name);
    });

    it('refuses an empty change, unknown fields and read-only fields (400)', async () => {
      const a = await create();
      const empty = await api.call('portalsChange', { params: { id: a.id }, body: {} });
      expect(empty.status).toBe(400);
      const readOnly = await api.call('portalsChange', {
        params: { id: a.id },
        body: { hasSecret: false, id: 'x', deltaLink: 'https://evil.example' },
      });
      expect(readOnly.status).toBe(400);
      expect(readOnly.body.error.fields.map((f: { path: string }) => f.path).sort()).toEqual([
        'deltaLink',
        'hasSecret',
        'id',
      ]);
      const simulated = await api.call('portalsChange', {
        params: { id: a.id },
        body: { cloud: 'usgov', auth: { kind: 'clientSecret', clientSecret: 'new-secret' } },
      });
      expect(simulated.status).toBe(200);
    });

    it('answers 404 for an unknown portal', async () => {
      const res = await api.call('portalsChange', { params: { id: 'no-such-portal' }, body: { active: false } });
      expect(res.status).toBe(404);
    });
  });

  describe('delete', () => {
    it('deletes the portal and its secret (204), then 404', async () => {
      const a = await create();
      const res = await api.call('portalsDelete', { params: { id: a.id } });
      expect(res.status).toBe(204);
      expect(res.text).toBe('');
      expect(await storedSecret(a.id)).toBeUndefined();
      expect((await api.call('portalsGet', { params: { id: a.id } })).status).toBe(404);
      expect((await api.call('portalsDelete', { params: { id: a.id } })).status).toBe(404);
    });

    it('frees the name of a deleted portal', async () => {
      const a = await create();
      await api.call('portalsDelete', { params: { id: a.id } });
      const again = await api.call('portalsCreate', { body: body({ name: a.name }) });
      expect(again.status).toBe(201);
    });

    it('refuses a malformed purge flag (400)', async () => {
      const a = await create();
      const res = await api.call('portalsDelete', { params: { id: a.id }, query: '?purge=yes' });
      expect(res.status).toBe(400);
      expect(res.body.error.fields).toEqual([expect.objectContaining({ in: 'query', path: 'purge' })]);
    });
  });

  describe('verify', () => {
    it('signs in and reads the plans (200)', async () => {
      const a = await create();
      const res = await api.call('portalsVerify', { params: { id: a.id } });
      expect(res.status).toBe(200);
      expect(res.body.ok).toBe(true);
      expect(res.body.plans.map((p: { skuPartNumber: string }) => p.skuPartNumber).sort()).toEqual([
        'ENTERPRISEPACK',
        'POWER_BI_PRO',
        'STANDARDPACK',
      ]);
    });

    it('works with the certificate and the password kind', async () => {
      const cert = await create({ auth: { kind: 'certificate', certificate: t.certificatePem } });
      expect((await api.call('portalsVerify', { params: { id: cert.id } })).status).toBe(200);
      const password = await create({ auth: { kind: 'password', ...t.user } });
      expect((await api.call('portalsVerify', { params: { id: password.id } })).status).toBe(200);
    });

    it('maps a wrong client secret and an account under MFA to their codes (422)', async () => {
      const wrong = await create({ auth: { kind: 'clientSecret', clientSecret: 'wrong-secret-value-123' } });
      const res = await api.call('portalsVerify', { params: { id: wrong.id } });
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe('invalid_client_secret');
      const mfa = await create({ auth: { kind: 'password', ...t.mfaUser } });
      const mfaRes = await api.call('portalsVerify', { params: { id: mfa.id } });
      expect(mfaRes.status).toBe(422);
      expect(mfaRes.body.error.code).toBe('mfa_required');
      expect(mfaRes.body.error.message).toMatch(/legacy/i);
    });

    it('answers 404 for an unknown portal and 400 for a malformed id', async () => {
      expect((await api.call('portalsVerify', { params: { id: 'no-such-portal' } })).status).toBe(404);
      expect((await api.call('portalsVerify', { params: { id: '../etc' } })).status).toBe(400);
    });
  });

  // Last: it replaces the process's services.
  describe('the simulated cloud', () => {
    it('is accepted only when the local host runs the simulator (400 otherwise)', async () => {
      const withoutSimulator = await start(false);
      const res = await withoutSimulator.call('portalsCreate', { body: body() });
      expect(res.status).toBe(400);
      expect(fieldsOf(res)).toEqual(['cloud']);
      const other = await withoutSimulator.call('portalsCreate', { body: body({ cloud: 'global' }) });
      expect(other.status).toBe(201);
    });
  });
});
