import { parse } from 'csv-parse/sync';
import http from 'node:http';
import { emptyCounts, licenseIdOf, type ConsumerRecord, type ContactRecord } from '../domain/records';
import { registeredFunctions, type HttpDefinition } from '../host/registry';
import { syncContactId } from '../ledger/keys';
import { startLocalHost, type LocalHost } from '../local/host';
import { emptyPlan } from '../domain/plan';
import { parseHostJson } from '../runs/hostSettings';
import type { CallResult } from '../../test/api/harness';
import { useSyncedApi } from '../../test/api/synced';

/** The CSV's rows as objects keyed by the header (BOM and CRLF as the file has them). */
function rowsOf(res: CallResult): Record<string, string>[] {
  return parse<Record<string, string>>(res.text, { bom: true, columns: true, record_delimiter: '\r\n' });
}

const TODAY = new Date().toISOString().slice(0, 10);

describe('lists as CSV (?format=csv)', () => {
  const s = useSyncedApi('Export, "Quoted"');

  it.each([
    ['portalsList', {}, '', 'portals'],
    ['runsList', { id: 'PORTAL' }, '', 'runs'],
    ['licensesList', {}, '', 'licenses'],
    ['consumersList', { id: 'E3' }, '', 'consumers'],
    ['contactsFind', {}, '&email=g.hopper%40DOMAIN', 'contacts'],
  ])(
    '%s answers an attachment <list>-<date>.csv as text/csv in UTF-8 with a BOM',
    async (name, params, extra, file) => {
      const resolved = Object.fromEntries(
        Object.entries(params).map(([key, value]) => [key, value === 'PORTAL' ? s.portalId : s.e3.id]),
      );
      const res = await s.api.call(name, {
        params: resolved,
        query: `?format=csv${extra.replace('DOMAIN', s.domain)}`,
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
      expect(res.headers.get('content-disposition')).toBe(`attachment; filename="${file}-${TODAY}.csv"`);
      expect(res.text.charCodeAt(0)).toBe(0xfeff);
      expect(rowsOf(res).length).toBeGreaterThan(0);
    },
  );

  it('writes the same rows as the JSON, nested fields as dotted columns, secrets and internal fields left out', async () => {
    const json = await s.api.call('portalsList');
    const csv = await s.api.call('portalsList', { query: '?format=csv' });
    const header = parse(csv.text, { bom: true, to_line: 1 })[0];
    expect(header).toEqual(expect.arrayContaining(['name', 'lastRun.status', 'lastRun.counts.usersRead']));
    expect(header).not.toEqual(expect.arrayContaining(['deltaLink']));
    const mine = rowsOf(csv).find((row) => row.id === s.portalId);
    const fromJson = json.body.items.find((p: { id: string }) => p.id === s.portalId);
    expect(mine).toMatchObject({
      name: fromJson.name,
      'lastRun.status': 'succeeded',
      'lastRun.counts.usersRead': String(fromJson.lastRun.counts.usersRead),
      active: 'true',
      hasSecret: 'true',
    });
    // The name holds a comma and quotes: quoted and doubled in the file, read back whole.
    expect(csv.text).toContain(`"${fromJson.name.replace(/"/g, '""')}"`);
  });

  it("lists a license's consumers with their contact as contact.* columns", async () => {
    const res = await s.api.call('consumersList', { params: { id: s.e3.id }, query: '?format=csv' });
    const rows = rowsOf(res);
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(row).toMatchObject({ licenseId: s.e3.id, 'owner.kind': 'sync', 'owner.portalId': s.portalId });
      expect(row['contact.email']!.toLowerCase()).toBe(row['assignment.userPrincipalName']!.toLowerCase());
      expect(row['contact.displayName']).not.toBe('');
    }
    expect(res.text).not.toContain('userFingerprint');
  });

  it('neutralises a formula in a name typed by hand and keeps its commas, quotes and line breaks', async () => {
    const displayName = '=HYPERLINK("https://evil.example","Click, me")\nsecond line';
    const contact = await s.api.call('contactsCreate', { body: { email: `formula@${s.domain}`, displayName } });
    await s.api.call('consumersLink', { params: { id: s.e3.id }, body: { contactId: contact.body.id } });
    const res = await s.api.call('consumersList', { params: { id: s.e3.id }, query: '?format=csv' });
    const row = rowsOf(res).find((r) => r.contactId === contact.body.id);
    expect(row?.['contact.displayName']).toBe(`'${displayName}`);
    expect(row?.['owner.kind']).toBe('manual');
    const found = await s.api.call('contactsFind', { query: `?email=formula%40${s.domain}&format=csv` });
    expect(rowsOf(found)).toEqual([expect.objectContaining({ id: contact.body.id, displayName: `'${displayName}` })]);
  });

  it('applies the filters as the JSON does', async () => {
    const json = await s.api.call('licensesList', { query: `?portalId=${s.portalId}` });
    const csv = await s.api.call('licensesList', { query: `?portalId=${s.portalId}&format=csv` });
    expect(rowsOf(csv).map((row) => row.id)).toEqual(json.body.items.map((l: { id: string }) => l.id));
    expect(rowsOf(csv).every((row) => row.portalId === s.portalId)).toBe(true);
    const none = await s.api.call('licensesList', { query: '?portalId=no-such-portal&format=csv' });
    expect(rowsOf(none)).toEqual([]);
    expect(none.text.startsWith('\ufeffid,portalId,')).toBe(true);
    const runs = await s.api.call('runsList', { params: { id: s.portalId }, query: '?limit=1&format=csv' });
    expect(rowsOf(runs)).toHaveLength(1);
    const nobody = await s.api.call('contactsFind', { query: `?email=nobody%40${s.domain}&format=csv` });
    expect(rowsOf(nobody)).toEqual([]);
  });

  it('answers 400 naming `format` for an unknown format, and 404 (not an empty file) for an unknown license', async () => {
    const bad = await s.api.call('licensesList', { query: '?format=xlsx' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.fields).toEqual([expect.objectContaining({ in: 'query', path: 'format' })]);
    expect((await s.api.call('portalsList', { query: '?format=CSV' })).status).toBe(400);
    const missing = await s.api.call('consumersList', { params: { id: `${s.portalId}.nope` }, query: '?format=csv' });
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toContain('application/json');
    expect((await s.api.call('licensesList', { query: '?format=json' })).body.items.length).toBeGreaterThan(0);
  });

  describe('a long list through the local host', () => {
    const COUNT = 5_200;
    let host: LocalHost;
    let licenseId: string;
    let contacts: ContactRecord[];

    beforeAll(async () => {
      // 5,200 consumers of one license, written through the ledger as a sync writes them.
      const bigPortal = `big${Date.now().toString(36)}`;
      const skuId = '6fd2c87f-b296-42f0-b197-1e91e994b900';
      licenseId = licenseIdOf(bigPortal, skuId);
      const at = new Date().toISOString();
      contacts = Array.from({ length: COUNT }, (_, i) => ({
        id: syncContactId(bigPortal, `user-${i}`),
        email: `user${i}@big.example`,
        aliases: [],
        displayName: i % 2 ? `-${i}, "odd"` : `User ${i}`,
        origin: { kind: 'sync' as const, portalId: bigPortal },
        createdAt: at,
        updatedAt: at,
      }));
      const consumers: ConsumerRecord[] = contacts.map((contact) => ({
        licenseId,
        portalId: bigPortal,
        skuId,
        contactId: contact.id,
        owner: { kind: 'manual' },
        createdAt: at,
        updatedAt: at,
      }));
      const plan = emptyPlan(bigPortal, emptyCounts());
      plan.licenses.create.push({
        id: licenseId,
        portalId: bigPortal,
        skuId,
        skuPartNumber: 'ENTERPRISEPACK',
        displayName: 'Office 365 E3',
        name: 'Big - Office 365 E3',
        available: COUNT,
        warning: 0,
        suspended: 0,
        lockedOut: 0,
        consumedUnits: COUNT,
        assigned: COUNT,
        capabilityStatus: 'Enabled',
        appliesTo: 'User',
        overAssigned: false,
        status: 'current',
        createdAt: at,
        updatedAt: at,
      });
      plan.contacts.create.push(...contacts);
      plan.consumers.add.push(...consumers);
      const { syncState } = s.api.services.ledger;
      await syncState.apply(plan, await syncState.loadPortal(bigPortal));
      host = await startLocalHost({
        definitions: registeredFunctions().filter((d): d is HttpDefinition => d.kind === 'http'),
        settings: s.api.settings,
        host: parseHostJson({}),
        port: 0,
        triggers: false,
        log: () => undefined,
      });
    }, 120_000);
    afterAll(async () => {
      await host?.stop();
    });

    it('streams every consumer chunked, the first bytes sent before the whole list is read', async () => {
      const stats = (s.api.services.ledger as unknown as { stats: { entitiesRead: number } }).stats;
      const chunks: Buffer[] = [];
      let readWhenFirstBytes = -1;
      const startRead = stats.entitiesRead;
      const { headers } = await new Promise<http.IncomingMessage>((resolve, reject) => {
        http
          .get(`${host.url}/api/licenses/${licenseId}/consumers?format=csv`, (res) => {
            res.on('data', (chunk: Buffer) => {
              if (chunks.length === 0) readWhenFirstBytes = stats.entitiesRead - startRead;
              chunks.push(chunk);
            });
            res.on('end', () => resolve(res));
            res.on('error', reject);
          })
          .on('error', reject);
      });
      expect(headers['transfer-encoding']).toBe('chunked');
      expect(headers['content-length']).toBeUndefined();
      expect(headers['content-disposition']).toBe(`attachment; filename="consumers-${TODAY}.csv"`);
      // Reads: the license, its portal, then 1,000 consumers and their contacts a page at a time; a response
      // built whole would have read all 5,200 consumers (and their contacts) before its first byte.
      expect(readWhenFirstBytes).toBeLessThan(COUNT);
      expect(chunks.length).toBeGreaterThan(1);
      const rows = parse<Record<string, string>>(Buffer.concat(chunks).toString('utf8'), { bom: true, columns: true });
      expect(rows).toHaveLength(COUNT);
      const byId = new Map(contacts.map((c) => [c.id, c]));
      for (const row of rows) {
        const contact = byId.get(row.contactId!);
        expect(row['contact.email']).toBe(contact?.email);
        const name = contact?.displayName ?? '';
        expect(row['contact.displayName']).toBe(name.startsWith('-') ? `'${name}` : name);
      }
      expect(new Set(rows.map((row) => row.contactId)).size).toBe(COUNT);
    }, 120_000);
  });
});
