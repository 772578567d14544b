import type { ApiHarness } from '../../test/api/harness';
import { useSyncedApi } from '../../test/api/synced';

describe('licenses, consumers and contacts over HTTP', () => {
  let api: ApiHarness;
  let portalId: string;
  let domain: string;
  let e3: { id: string; name: string };

  const synced = useSyncedApi('Ledger');
  beforeAll(() => ({ api, portalId, domain, e3 } = synced));

  describe('licenses', () => {
    it('lists licenses with their counts, filtered by portal, by name', async () => {
      const all = await api.call('licensesList');
      expect(all.status).toBe(200);
      const mine = await api.call('licensesList', { query: `?portalId=${portalId}` });
      expect(mine.body.items).toHaveLength(3);
      expect(e3).toMatchObject({
        portalId,
        available: 10,
        consumedUnits: 2,
        assigned: 2,
        overAssigned: false,
        status: 'current',
      });
      expect(e3.name.startsWith('Ledger')).toBe(true);
      const names = mine.body.items.map((l: { name: string }) => l.name);
      expect(names).toEqual(
        [...names].sort((a: string, b: string) => a.localeCompare(b, 'en', { sensitivity: 'base' })),
      );
      expect((await api.call('licensesList', { query: '?portalId=no-such-portal' })).body.items).toEqual([]);
    });

    it('reads one license; 404 for an unknown one, 400 for a malformed id or query', async () => {
      const one = await api.call('licensesGet', { params: { id: e3.id } });
      expect(one.status).toBe(200);
      expect(one.body).toEqual(e3);
      expect(
        (await api.call('licensesGet', { params: { id: `${portalId}.00000000-0000-0000-0000-000000000000` } })).status,
      ).toBe(404);
      expect((await api.call('licensesGet', { params: { id: 'no-dot' } })).status).toBe(400);
      expect((await api.call('licensesList', { query: '?portalId=bad id' })).status).toBe(400);
      expect((await api.call('licensesList', { query: '?sort=name' })).status).toBe(400);
    });
  });

  describe('consumers', () => {
    it('lists the consumers of a license without internal fields', async () => {
      const res = await api.call('consumersList', { params: { id: e3.id } });
      expect(res.status).toBe(200);
      expect(res.body.items).toHaveLength(2);
      expect(res.body.items[0]).toMatchObject({ licenseId: e3.id, owner: { kind: 'sync', portalId } });
      expect(res.text).not.toContain('userFingerprint');
      const portal = (await api.call('portalsGet', { params: { id: portalId } })).body;
      for (const item of res.body.items) {
        // Each consumer names its contact, and a sync-owned one when the sync last saw it.
        expect(item.contact).toMatchObject({ id: item.contactId, email: expect.stringContaining('@') });
        expect(item.contact.email.toLowerCase()).toBe(item.assignment.userPrincipalName.toLowerCase());
        expect(portal.lastSuccessAt).toEqual(expect.any(String));
        expect(item.lastSeen).toBe(portal.lastSuccessAt);
      }
      expect((await api.call('consumersList', { params: { id: `${portalId}.nope` } })).status).toBe(404);
    });

    it('links a contact by hand (201), refuses a second link (409), unlinks it (204), then 404', async () => {
      const contact = await api.call('contactsCreate', {
        body: { email: `hand.made@${domain}`, displayName: 'Hand Made' },
      });
      expect(contact.status).toBe(201);
      const linked = await api.call('consumersLink', { params: { id: e3.id }, body: { contactId: contact.body.id } });
      expect(linked.status).toBe(201);
      expect(linked.body).toMatchObject({ licenseId: e3.id, contactId: contact.body.id, owner: { kind: 'manual' } });
      expect((await api.call('licensesGet', { params: { id: e3.id } })).body.assigned).toBe(3);
      const again = await api.call('consumersLink', { params: { id: e3.id }, body: { contactId: contact.body.id } });
      expect(again.status).toBe(409);
      const unlinked = await api.call('consumersUnlink', { params: { id: e3.id, contactId: contact.body.id } });
      expect(unlinked.status).toBe(204);
      expect((await api.call('consumersUnlink', { params: { id: e3.id, contactId: contact.body.id } })).status).toBe(
        404,
      );
    });

    it('refuses to unlink a consumer the sync owns (409)', async () => {
      const consumers = (await api.call('consumersList', { params: { id: e3.id } })).body.items;
      const synced = consumers.find((c: { owner: { kind: string } }) => c.owner.kind === 'sync');
      const res = await api.call('consumersUnlink', { params: { id: e3.id, contactId: synced.contactId } });
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('conflict');
    });

    it('answers 404 for an unknown license or contact, 400 for a bad body', async () => {
      const contact = await api.call('contactsCreate', {
        body: { email: `someone@${domain}`, displayName: 'Someone' },
      });
      expect(
        (await api.call('consumersLink', { params: { id: `${portalId}.nope` }, body: { contactId: contact.body.id } }))
          .status,
      ).toBe(404);
      expect(
        (await api.call('consumersLink', { params: { id: e3.id }, body: { contactId: 'no-such-contact' } })).status,
      ).toBe(404);
      const bad = await api.call('consumersLink', { params: { id: e3.id }, body: { contactId: 'x y', owner: 'sync' } });
      expect(bad.status).toBe(400);
      expect(bad.body.error.fields.map((f: { path: string }) => f.path).sort()).toEqual(['contactId', 'owner']);
      expect((await api.call('consumersUnlink', { params: { id: e3.id, contactId: 'bad id' } })).status).toBe(400);
    });
  });

  describe('contacts', () => {
    it('creates a contact by hand and finds it by any address, case-insensitively', async () => {
      const res = await api.call('contactsCreate', {
        body: {
          email: `Mary.Major@${domain}`,
          displayName: 'Mary Major',
          aliases: [`MMajor@${domain}`, `mary.major@${domain}`],
        },
      });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        email: `Mary.Major@${domain}`,
        aliases: [`MMajor@${domain}`],
        displayName: 'Mary Major',
        origin: { kind: 'manual' },
      });
      const byAlias = await api.call('contactsFind', {
        query: `?email=${encodeURIComponent(`mmajor@${domain.toUpperCase()}`)}`,
      });
      expect(byAlias.status).toBe(200);
      expect(byAlias.body.items.map((c: { id: string }) => c.id)).toEqual([res.body.id]);
      const synced = await api.call('contactsFind', { query: `?email=${encodeURIComponent(`g.hopper@${domain}`)}` });
      expect(synced.body.items[0]).toMatchObject({ displayName: 'Grace Hopper', origin: { kind: 'sync', portalId } });
      const none = await api.call('contactsFind', { query: `?email=${encodeURIComponent(`nobody@${domain}`)}` });
      expect(none.body.items).toEqual([]);
    });

    it('refuses an address another contact holds (409)', async () => {
      const res = await api.call('contactsCreate', {
        body: { email: `someone.new@${domain}`, displayName: 'New', aliases: [`ADA@${domain}`] },
      });
      expect(res.status).toBe(409);
    });

    it('refuses bad input (400): missing or malformed addresses, unknown fields', async () => {
      expect((await api.call('contactsFind')).status).toBe(400);
      expect((await api.call('contactsFind', { query: '?email=not-an-address' })).status).toBe(400);
      const bad = await api.call('contactsCreate', {
        body: { email: 'nope', displayName: '', aliases: ['also nope'], origin: 'sync' },
      });
      expect(bad.status).toBe(400);
      expect(bad.body.error.fields.map((f: { path: string }) => f.path).sort()).toEqual([
        'aliases.0',
        'displayName',
        'email',
        'origin',
      ]);
    });
  });
});
