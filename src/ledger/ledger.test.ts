import { randomUUID } from 'node:crypto';
import { AppError } from '../domain/errors';
import {
  emptyCounts,
  licenseIdOf,
  type Assignment,
  type ConsumerRecord,
  type ContactRecord,
  type LicenseRecord,
} from '../domain/records';
import type { ChangePlan, ConsumerRemoval, ConsumerUpdate } from '../domain/plan';
import { assignmentDigest, fingerprintDigest } from '../domain/digests';
import { testSettings } from '../../test/support/env';
import { ConflictError, createLedger, NotFoundError, type TableLedger } from './index';
import { userLinkBucket } from './keys';
import { consumerKey, type PortalLedgerState } from '../domain/ledger';

const T0 = '2025-03-01T08:00:00.000Z';
const T1 = '2025-03-01T09:00:00.000Z';
const E3 = '6fd2c87f-b296-42f0-b197-1e91e994b900';
const E1 = '18181a46-0d4e-45cd-891e-60aabd171b4e';

function license(portalId: string, skuId: string, overrides: Partial<LicenseRecord> = {}): LicenseRecord {
  return {
    id: licenseIdOf(portalId, skuId),
    portalId,
    skuId,
    skuPartNumber: 'ENTERPRISEPACK',
    displayName: 'Office 365 E3',
    name: `${portalId} - Office 365 E3`,
    available: 25,
    warning: 0,
    suspended: 0,
    lockedOut: 0,
    consumedUnits: 3,
    assigned: 0,
    capabilityStatus: 'Enabled',
    appliesTo: 'User',
    overAssigned: false,
    status: 'current',
    createdAt: T0,
    updatedAt: T0,
    ...overrides,
  };
}

function contact(email: string, aliases: string[] = [], overrides: Partial<ContactRecord> = {}): ContactRecord {
  return {
    id: randomUUID(),
    email,
    aliases,
    displayName: email.split('@')[0] ?? email,
    origin: { kind: 'manual' },
    createdAt: T0,
    updatedAt: T0,
    ...overrides,
  };
}

function assignment(objectId: string): Assignment {
  return {
    objectId,
    userPrincipalName: `${objectId}@contoso.com`,
    assignedDirectly: true,
    assignedViaGroups: [],
    assignmentState: 'Active',
    assignmentError: 'None',
    accountEnabled: true,
    userType: 'Member',
  };
}

function syncConsumer(lic: LicenseRecord, contactId: string, overrides: Partial<ConsumerRecord> = {}): ConsumerRecord {
  return {
    licenseId: lic.id,
    portalId: lic.portalId,
    skuId: lic.skuId,
    contactId,
    owner: { kind: 'sync', portalId: lic.portalId },
    createdAt: T0,
    updatedAt: T0,
    assignment: assignment(`obj-${contactId}`),
    firstSeen: T0,
    userFingerprint: `${contactId}@contoso.com|${contactId}`,
    ...overrides,
  };
}

function toUpdate(c: ConsumerRecord): ConsumerUpdate {
  return {
    licenseId: c.licenseId,
    portalId: c.portalId,
    skuId: c.skuId,
    contactId: c.contactId,
    assignment: c.assignment as Assignment,
    userFingerprint: c.userFingerprint as string,
    updatedAt: c.updatedAt,
  };
}

function toRemoval(c: ConsumerRecord): ConsumerRemoval {
  return { licenseId: c.licenseId, portalId: c.portalId, skuId: c.skuId, contactId: c.contactId };
}

function emptyState(): PortalLedgerState {
  return {
    licenses: [],
    licenseEtags: new Map(),
    consumers: new Map(),
    userLinks: new Map(),
    userLinkEtags: new Map(),
    scope: 'full',
  };
}

function plan(
  portalId: string,
  parts: {
    licenses?: Partial<ChangePlan['licenses']>;
    contacts?: Partial<ChangePlan['contacts']>;
    consumers?: Partial<ChangePlan['consumers']>;
    userLinks?: Partial<ChangePlan['userLinks']>;
  } = {},
): ChangePlan {
  return {
    portalId,
    licenses: { create: [], update: [], ...parts.licenses },
    contacts: { create: [], addAliases: [], ...parts.contacts },
    consumers: { add: [], update: [], remove: [], ...parts.consumers },
    userLinks: { put: [], remove: [], ...parts.userLinks },
    conflicts: [],
    counts: emptyCounts(),
  };
}

function portalId(): string {
  return `p${randomUUID().slice(0, 8)}`;
}

let store: TableLedger;

beforeAll(async () => {
  store = await createLedger(testSettings());
});

describe('contacts', () => {
  it('finds a contact by its primary address or any alias, whatever the case', async () => {
    const c = await store.contacts.create(
      contact('Ada.Lovelace@Contoso.com', ['ada@contoso.co.uk', "o'hara#1/x?y@contoso.com"]),
    );
    expect((await store.contacts.findByAddress('ada.lovelace@contoso.com'))?.id).toBe(c.id);
    expect((await store.contacts.findByAddress('  ADA@CONTOSO.CO.UK '))?.id).toBe(c.id);
    expect((await store.contacts.findByAddress("O'HARA#1/X?Y@contoso.com"))?.id).toBe(c.id);
    expect(await store.contacts.findByAddress('nobody@contoso.com')).toBeUndefined();
    expect(await store.contacts.get(c.id)).toEqual(c);
  });

  it('refuses a contact with an address another contact holds, and keeps none of its addresses', async () => {
    await store.contacts.create(contact('grace@contoso.com'));
    const clash = contact('hopper@contoso.com', ['GRACE@contoso.com']);
    await expect(store.contacts.create(clash)).rejects.toBeInstanceOf(ConflictError);
    expect(await store.contacts.get(clash.id)).toBeUndefined();
    expect(await store.contacts.findByAddress('hopper@contoso.com')).toBeUndefined();
  });

  it('looks addresses up with point reads, never reading the rest of the index', async () => {
    const wanted = await store.contacts.create(contact('point-a@fabrikam.com', ['point-b@fabrikam.com']));
    for (let i = 0; i < 20; i += 1) await store.contacts.create(contact(`bystander${i}@fabrikam.com`));
    const before = store.stats.entitiesRead;
    const found = await store.contacts.findIdsByAddress([
      'Point-A@fabrikam.com',
      'point-b@fabrikam.com',
      'missing@fabrikam.com',
    ]);
    expect(found).toEqual(
      new Map([
        ['point-a@fabrikam.com', wanted.id],
        ['point-b@fabrikam.com', wanted.id],
      ]),
    );
    expect(store.stats.entitiesRead - before).toBe(2);
  });

  it('scans the index once instead of point reads when asked for very many addresses', async () => {
    const wanted = await store.contacts.create(contact('scan-me@fabrikam.com'));
    for (let i = 0; i < 3; i += 1) await store.contacts.create(contact(`scanned${i}@fabrikam.com`));
    const addresses = Array.from({ length: 5_001 }, (_, i) => `not-there-${i}@fabrikam.com`).concat(
      'SCAN-ME@fabrikam.com',
    );
    const before = store.stats.entitiesRead;
    const found = await store.contacts.findIdsByAddress(addresses);
    expect(found).toEqual(new Map([['scan-me@fabrikam.com', wanted.id]]));
    // The scan read the whole index (point reads would have read the one row that exists).
    expect(store.stats.entitiesRead - before).toBeGreaterThanOrEqual(4);
  });
});

describe('loading and applying a plan', () => {
  it('creates exactly the licenses, contacts and consumers of a plan, then loads them with their ETags', async () => {
    const p = portalId();
    const lic = license(p, E3, { assigned: 2 });
    const alice = contact('alice@contoso.com', ['a.smith@contoso.com'], { origin: { kind: 'sync', portalId: p } });
    const bob = contact('bob@contoso.com', [], { origin: { kind: 'sync', portalId: p } });
    const result = await store.syncState.apply(
      plan(p, {
        licenses: { create: [lic] },
        contacts: { create: [alice, bob] },
        consumers: { add: [syncConsumer(lic, alice.id), syncConsumer(lic, bob.id)] },
      }),
      emptyState(),
    );

    expect(result.contactsMerged).toBe(0);
    const state = await store.syncState.loadPortal(p);
    expect(state.licenses).toEqual([lic]);
    expect(state.consumers.size).toBe(2);
    expect(state.consumers.get(consumerKey(E3, alice.id))).toEqual({
      skuId: E3,
      contactId: alice.id,
      sync: true,
      objectId: `obj-${alice.id}`,
      digest: assignmentDigest(assignment(`obj-${alice.id}`)),
      fingerprintDigest: fingerprintDigest(`${alice.id}@contoso.com|${alice.id}`),
      etag: expect.any(String),
    });
    expect(state.consumers.get(consumerKey(E3, bob.id))?.objectId).toBe(`obj-${bob.id}`);
    expect(state.licenseEtags.get(E3)).toBeTruthy();
    expect(await store.contacts.get(alice.id)).toEqual(alice);
    expect((await store.contacts.findByAddress('A.Smith@contoso.com'))?.id).toBe(alice.id);
    expect(await store.licenses.get(lic.id)).toEqual(lic);
    // 1 license + 2 contacts + 3 addresses + 2 consumers
    expect(result.entitiesWritten).toBe(8);
  });

  it('writes 250 new consumers in 3 transactions', async () => {
    const p = portalId();
    const lic = license(p, E3);
    await store.syncState.apply(plan(p, { licenses: { create: [lic] } }), await store.syncState.loadPortal(p));
    const consumers = Array.from({ length: 250 }, () => syncConsumer(lic, randomUUID()));
    const result = await store.syncState.apply(
      plan(p, { consumers: { add: consumers } }),
      await store.syncState.loadPortal(p),
    );
    expect(result).toEqual({ contactsMerged: 0, entitiesWritten: 250, transactions: 3 });
    expect(await store.licenses.listConsumers(lic.id)).toHaveLength(250);
  });

  it('writes nothing for an empty plan', async () => {
    const p = portalId();
    const before = { ...store.stats };
    const result = await store.syncState.apply(plan(p), emptyState());
    expect(result).toEqual({ contactsMerged: 0, entitiesWritten: 0, transactions: 0 });
    expect(store.stats.entitiesWritten).toBe(before.entitiesWritten);
  });

  it('updates and removes only the consumers the plan names, leaving hand-made ones alone', async () => {
    const p = portalId();
    const lic = license(p, E3);
    const [a, b, c, manual] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    await store.syncState.apply(
      plan(p, {
        licenses: { create: [lic] },
        consumers: {
          add: [syncConsumer(lic, a), syncConsumer(lic, b), syncConsumer(lic, c)],
        },
      }),
      emptyState(),
    );
    const person = await store.contacts.create(contact(`manual-${manual}@contoso.com`, [], { id: manual }));
    await store.licenses.addManualConsumer(lic.id, person.id, T1);

    const state = await store.syncState.loadPortal(p);
    const changedA = {
      ...syncConsumer(lic, a),
      updatedAt: T1,
      assignment: { ...assignment(`obj-${a}`), accountEnabled: false },
    };
    const result = await store.syncState.apply(
      plan(p, {
        licenses: { update: [{ ...(state.licenses[0] as LicenseRecord), assigned: 3, updatedAt: T1 }] },
        consumers: { update: [toUpdate(changedA)], remove: [toRemoval(syncConsumer(lic, b))] },
      }),
      state,
    );

    expect(result.entitiesWritten).toBe(3);
    const after = await store.licenses.listConsumers(lic.id);
    expect(after.map((x) => x.contactId).sort()).toEqual([a, c, manual].sort());
    expect(after.find((x) => x.contactId === a)).toEqual(changedA);
    expect(after.find((x) => x.contactId === c)).toEqual(syncConsumer(lic, c as string));
    expect(after.find((x) => x.contactId === manual)?.owner).toEqual({ kind: 'manual' });
    expect((await store.licenses.get(lic.id))?.assigned).toBe(3);
  });

  it('links to the contact another writer created meanwhile instead of creating a second one', async () => {
    const p = portalId();
    const lic = license(p, E3);
    await store.syncState.apply(plan(p, { licenses: { create: [lic] } }), emptyState());
    const state = await store.syncState.loadPortal(p);

    // This portal's plan was made while nobody held carol's address...
    const planned = contact('carol@contoso.com', ['carol.w@contoso.com'], { origin: { kind: 'sync', portalId: p } });
    // ...then another portal's sync created her contact first.
    const theirs = contact('CAROL@contoso.com', [], { origin: { kind: 'sync', portalId: 'other-portal' } });
    await store.contacts.create(theirs);

    const result = await store.syncState.apply(
      plan(p, {
        contacts: { create: [planned] },
        consumers: { add: [syncConsumer(lic, planned.id)] },
      }),
      state,
    );

    expect(result.contactsMerged).toBe(1);
    expect(await store.contacts.get(planned.id)).toBeUndefined();
    expect((await store.licenses.listConsumers(lic.id)).map((x) => x.contactId)).toEqual([theirs.id]);
    expect((await store.contacts.findByAddress('carol@contoso.com'))?.id).toBe(theirs.id);
    // The dropped contact's other address was released, not left pointing at a contact that does not exist.
    expect(await store.contacts.findByAddress('carol.w@contoso.com')).toBeUndefined();
  });

  it('merges only the contact whose address was taken when it creates hundreds of contacts at once', async () => {
    const p = portalId();
    const lic = license(p, E3);
    await store.syncState.apply(plan(p, { licenses: { create: [lic] } }), emptyState());
    const state = await store.syncState.loadPortal(p);
    const planned = Array.from({ length: 600 }, (_, i) =>
      contact(`bulk${i}-${p}@contoso.com`, [`b${i}-${p}@contoso.com`], {
        origin: { kind: 'sync', portalId: p },
      }),
    );
    const taken = planned[123] as ContactRecord;
    const theirs = await store.contacts.create(contact(taken.aliases[0] as string));

    const result = await store.syncState.apply(
      plan(p, {
        contacts: { create: planned },
        consumers: { add: planned.map((c) => syncConsumer(lic, c.id)) },
      }),
      state,
    );

    expect(result.contactsMerged).toBe(1);
    expect(result.transactions).toBeGreaterThan(0);
    expect(await store.contacts.get(taken.id)).toBeUndefined();
    expect(await store.contacts.findByAddress(taken.email)).toBeUndefined();
    expect((await store.contacts.findByAddress(`bulk7-${p}@contoso.com`))?.id).toBe(planned[7]?.id);
    expect((await store.contacts.findByAddress(`B599-${p}@contoso.com`))?.id).toBe(planned[599]?.id);
    const linked = new Set((await store.licenses.listConsumers(lic.id)).map((x) => x.contactId));
    expect(linked.size).toBe(600);
    expect(linked.has(theirs.id)).toBe(true);
    expect(linked.has(taken.id)).toBe(false);
  });

  it("ends with one contact when two portals' syncs create the same person at the same time", async () => {
    const [p, q] = [portalId(), portalId()];
    const [pl, ql] = [license(p, E3), license(q, E3)];
    const empty = emptyState;
    await store.syncState.apply(plan(p, { licenses: { create: [pl] } }), empty());
    await store.syncState.apply(plan(q, { licenses: { create: [ql] } }), empty());
    // Several people, each created by both syncs at once with the addresses in opposite order.
    for (let i = 0; i < 8; i += 1) {
      const [first, second] = [`kim${i}-${p}@contoso.com`, `kim.lee${i}-${p}@contoso.com`];
      const fromP = contact(first, [second], { origin: { kind: 'sync', portalId: p } });
      const fromQ = contact(second.toUpperCase(), [first], { origin: { kind: 'sync', portalId: q } });
      const [statesP, statesQ] = [await store.syncState.loadPortal(p), await store.syncState.loadPortal(q)];

      const [rp, rq] = await Promise.all([
        store.syncState.apply(
          plan(p, { contacts: { create: [fromP] }, consumers: { add: [syncConsumer(pl, fromP.id)] } }),
          statesP,
        ),
        store.syncState.apply(
          plan(q, { contacts: { create: [fromQ] }, consumers: { add: [syncConsumer(ql, fromQ.id)] } }),
          statesQ,
        ),
      ]);

      const survivors = [await store.contacts.get(fromP.id), await store.contacts.get(fromQ.id)].filter(Boolean);
      expect(survivors).toHaveLength(1);
      expect(rp.contactsMerged + rq.contactsMerged).toBe(1);
      const survivor = (survivors[0] as ContactRecord).id;
      expect((await store.contacts.findByAddress(first))?.id).toBe(survivor);
      expect((await store.contacts.findByAddress(second))?.id).toBe(survivor);
      const [linksP, linksQ] = [await store.licenses.listConsumers(pl.id), await store.licenses.listConsumers(ql.id)];
      expect(
        linksP.filter((x) => x.contactId === fromP.id || x.contactId === fromQ.id).map((x) => x.contactId),
      ).toEqual([survivor]);
      expect(
        linksQ.filter((x) => x.contactId === fromP.id || x.contactId === fromQ.id).map((x) => x.contactId),
      ).toEqual([survivor]);
    }
  });

  it('adds aliases to a contact, skipping an address another contact holds', async () => {
    const p = portalId();
    const dan = await store.contacts.create(contact('dan@contoso.com'));
    const eve = await store.contacts.create(contact('eve@contoso.com'));
    await store.syncState.apply(
      plan(p, {
        contacts: { addAliases: [{ contactId: dan.id, addresses: ['Daniel@contoso.com', 'eve@contoso.com'] }] },
      }),
      emptyState(),
    );
    expect((await store.contacts.get(dan.id))?.aliases).toEqual(['daniel@contoso.com']);
    expect((await store.contacts.findByAddress('DANIEL@contoso.com'))?.id).toBe(dan.id);
    expect((await store.contacts.findByAddress('eve@contoso.com'))?.id).toBe(eve.id);
  });

  it('fails with a transient error when a license changed since the state was read', async () => {
    const p = portalId();
    const lic = license(p, E3);
    await store.syncState.apply(plan(p, { licenses: { create: [lic] } }), emptyState());
    const state = await store.syncState.loadPortal(p);
    // A person links someone meanwhile: the license's `assigned` changes.
    const person = await store.contacts.create(contact(`frank-${p}@contoso.com`));
    await store.licenses.addManualConsumer(lic.id, person.id, T1);

    const stale = plan(p, { licenses: { update: [{ ...lic, available: 30, updatedAt: T1 }] } });
    const error = await store.syncState.apply(stale, state).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: 'storage_error', transient: true });
    expect((await store.licenses.get(lic.id))?.available).toBe(25);
  });

  it('fails with a transient error when a consumer changed since the state was read', async () => {
    const p = portalId();
    const lic = license(p, E3);
    const id = randomUUID();
    await store.syncState.apply(
      plan(p, { licenses: { create: [lic] }, consumers: { add: [syncConsumer(lic, id)] } }),
      emptyState(),
    );
    const state = await store.syncState.loadPortal(p);
    await store.syncState.apply(
      plan(p, { consumers: { update: [toUpdate(syncConsumer(lic, id, { updatedAt: T1 }))] } }),
      state,
    );

    const error = await store.syncState
      .apply(plan(p, { consumers: { update: [toUpdate(syncConsumer(lic, id, { userFingerprint: 'stale' }))] } }), state)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'storage_error', transient: true });
    expect((await store.licenses.listConsumers(lic.id))[0]?.updatedAt).toBe(T1);
  });

  it('leaves a link a person made meanwhile as theirs when the plan adds the same link', async () => {
    const p = portalId();
    const lic = license(p, E3);
    const state = emptyState();
    await store.syncState.apply(plan(p, { licenses: { create: [lic] } }), state);
    const gina = await store.contacts.create(contact(`gina-${p}@contoso.com`));
    const others = Array.from({ length: 3 }, () => syncConsumer(lic, randomUUID()));
    const loaded = await store.syncState.loadPortal(p);
    await store.licenses.addManualConsumer(lic.id, gina.id, T1);

    await store.syncState.apply(plan(p, { consumers: { add: [syncConsumer(lic, gina.id), ...others] } }), loaded);
    const after = await store.licenses.listConsumers(lic.id);
    expect(after).toHaveLength(4);
    expect(after.find((x) => x.contactId === gina.id)?.owner).toEqual({ kind: 'manual' });
  });
});

describe("the sync's user links", () => {
  it('keeps user links in buckets of their own table and reads just the named users back', async () => {
    const p = portalId();
    const [e3, e1] = [license(p, E3), license(p, E1)];
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
    const consumers = [syncConsumer(e3, a), syncConsumer(e1, a), syncConsumer(e3, b), syncConsumer(e3, c)];
    await store.syncState.apply(
      plan(p, {
        licenses: { create: [e3, e1] },
        consumers: { add: consumers },
        userLinks: {
          put: [
            { objectId: `obj-${a}`, contactId: a, skuIds: [E1, E3].sort() },
            { objectId: `obj-${b}`, contactId: b, skuIds: [E3] },
            { objectId: `obj-${c}`, contactId: c, skuIds: [E3] },
          ],
        },
      }),
      emptyState(),
    );

    const whole = await store.syncState.loadPortal(p);
    expect(whole.consumers.size).toBe(4);
    expect([...whole.userLinks.keys()].sort()).toEqual([`obj-${a}`, `obj-${b}`, `obj-${c}`].sort());
    expect(whole.userLinks.get(`obj-${a}`)).toMatchObject({ contactId: a, skuIds: [E1, E3].sort() });
    // A consumer listing never shows them either.
    expect((await store.licenses.listConsumers(e3.id)).map((x) => x.contactId).sort()).toEqual([a, b, c].sort());

    const before = store.stats.entitiesRead;
    const some = await store.syncState.loadUsers(p, [`obj-${a}`, 'obj-not-linked']);
    expect(some.scope).toBe('partial');
    expect(some.licenses.map((l) => l.skuId).sort()).toEqual([E1, E3].sort());
    expect(some.userLinks.get(`obj-${a}`)).toMatchObject({ contactId: a, skuIds: [E1, E3].sort() });
    expect(some.userLinks.has('obj-not-linked')).toBe(false);
    expect([...some.consumers.keys()].sort()).toEqual([consumerKey(E1, a), consumerKey(E3, a)].sort());
    // 2 licenses + the link buckets of the two users that hold links + 2 consumers: point reads, not the partition.
    const stored = new Set([a, b, c].map((id) => userLinkBucket(`obj-${id}`)));
    const buckets = new Set([`obj-${a}`, 'obj-not-linked'].map(userLinkBucket).filter((bucket) => stored.has(bucket)));
    expect(store.stats.entitiesRead - before).toBe(2 + buckets.size + 2);
    // A user link bucket is one row for many users.
    expect(whole.userLinks.size).toBe(3);

    // Removing a user's link and its consumers in one plan.
    await store.syncState.apply(
      plan(p, {
        consumers: { remove: [toRemoval(syncConsumer(e3, b))] },
        userLinks: { remove: [`obj-${b}`] },
      }),
      whole,
    );
    const after = await store.syncState.loadPortal(p);
    expect(after.userLinks.has(`obj-${b}`)).toBe(false);
    expect(after.consumers.has(consumerKey(E3, b))).toBe(false);
  });

  it('carries a merged contact from one part of a plan to the next', async () => {
    const p = portalId();
    const lic = license(p, E3);
    const state = emptyState();
    await store.syncState.apply(plan(p, { licenses: { create: [lic] } }), state);
    const theirs = await store.contacts.create(contact(`mo-${p}@contoso.com`));
    const planned = contact(`MO-${p}@contoso.com`, [], { origin: { kind: 'sync', portalId: p } });
    const carry = { mergedInto: new Map<string, string>() };
    const first = await store.syncState.apply(plan(p, { contacts: { create: [planned] } }), state, carry);
    expect(first.contactsMerged).toBe(1);
    // A later part links the planned contact (a user sharing its address on a later page).
    await store.syncState.apply(
      plan(p, {
        consumers: { add: [syncConsumer(lic, planned.id)] },
        userLinks: { put: [{ objectId: `obj-${planned.id}`, contactId: planned.id, skuIds: [E3] }] },
      }),
      state,
      carry,
    );
    expect((await store.licenses.listConsumers(lic.id)).map((x) => x.contactId)).toEqual([theirs.id]);
    expect((await store.syncState.loadPortal(p)).userLinks.get(`obj-${planned.id}`)?.contactId).toBe(theirs.id);
  });

  it('reads the whole address index at once', async () => {
    const c = await store.contacts.create(contact(`index-${randomUUID()}@contoso.com`, ['Index-Alias@Fabrikam.com']));
    const index = (await store.contacts.loadAddressIndex())!;
    expect(index.get(c.email.toLowerCase())).toBe(c.id);
    expect(index.get('index-alias@fabrikam.com')).toBe(c.id);
  });
});

describe('hand-made consumers', () => {
  it("links and unlinks a contact by hand, keeping the license's assigned count", async () => {
    const p = portalId();
    const lic = license(p, E3, { assigned: 1 });
    const synced = randomUUID();
    await store.syncState.apply(
      plan(p, { licenses: { create: [lic] }, consumers: { add: [syncConsumer(lic, synced)] } }),
      emptyState(),
    );
    const helen = await store.contacts.create(contact(`helen-${p}@contoso.com`));

    const linked = await store.licenses.addManualConsumer(lic.id, helen.id, T1);
    expect(linked).toEqual({
      licenseId: lic.id,
      portalId: p,
      skuId: E3,
      contactId: helen.id,
      owner: { kind: 'manual' },
      createdAt: T1,
      updatedAt: T1,
      // Copied from the contact, so a page of consumers needs no contact reads.
      contactEmail: helen.email,
      contactName: helen.displayName,
    });
    expect((await store.licenses.get(lic.id))?.assigned).toBe(2);
    await expect(store.licenses.addManualConsumer(lic.id, helen.id, T1)).rejects.toBeInstanceOf(ConflictError);

    await store.licenses.removeManualConsumer(lic.id, helen.id);
    expect((await store.licenses.get(lic.id))?.assigned).toBe(1);
    expect((await store.licenses.listConsumers(lic.id)).map((x) => x.contactId)).toEqual([synced]);
    await expect(store.licenses.removeManualConsumer(lic.id, helen.id)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('refuses to link by hand what the sync already linked, and to unlink a sync-owned link', async () => {
    const p = portalId();
    const lic = license(p, E3);
    const ivan = await store.contacts.create(contact(`ivan-${p}@contoso.com`));
    await store.syncState.apply(
      plan(p, { licenses: { create: [lic] }, consumers: { add: [syncConsumer(lic, ivan.id)] } }),
      emptyState(),
    );
    await expect(store.licenses.addManualConsumer(lic.id, ivan.id, T1)).rejects.toBeInstanceOf(ConflictError);
    await expect(store.licenses.removeManualConsumer(lic.id, ivan.id)).rejects.toBeInstanceOf(ConflictError);
    await expect(store.licenses.addManualConsumer(licenseIdOf(p, E1), ivan.id, T1)).rejects.toBeInstanceOf(
      NotFoundError,
    );
    await expect(store.licenses.addManualConsumer(lic.id, randomUUID(), T1)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('counts every one of several links made at the same time', async () => {
    const p = portalId();
    const lic = license(p, E3);
    await store.syncState.apply(plan(p, { licenses: { create: [lic] } }), emptyState());
    const people = await Promise.all(
      Array.from({ length: 6 }, (_, i) => store.contacts.create(contact(`crowd${i}-${p}@contoso.com`))),
    );
    await Promise.all(people.map((person) => store.licenses.addManualConsumer(lic.id, person.id, T1)));
    expect((await store.licenses.get(lic.id))?.assigned).toBe(6);
  });
});

describe('listing and purging', () => {
  it("lists all licenses or one portal's, and one license's consumers", async () => {
    const [p, q] = [portalId(), portalId()];
    const [pe3, pe1, qe3] = [license(p, E3), license(p, E1), license(q, E3)];
    await store.syncState.apply(
      plan(p, {
        licenses: { create: [pe3, pe1] },
        consumers: { add: [syncConsumer(pe3, 'c1'), syncConsumer(pe1, 'c1'), syncConsumer(pe1, 'c2')] },
      }),
      emptyState(),
    );
    await store.syncState.apply(plan(q, { licenses: { create: [qe3] } }), emptyState());

    expect((await store.licenses.list(p)).map((l) => l.id).sort()).toEqual([pe1.id, pe3.id].sort());
    expect((await store.licenses.list()).map((l) => l.id)).toEqual(expect.arrayContaining([pe3.id, pe1.id, qe3.id]));
    expect((await store.licenses.listConsumers(pe1.id)).map((c) => c.contactId).sort()).toEqual(['c1', 'c2']);
    expect((await store.licenses.listConsumers(pe3.id)).map((c) => c.contactId)).toEqual(['c1']);
  });

  it("purges one portal's licenses and consumers, leaving contacts and other portals alone", async () => {
    const [p, q] = [portalId(), portalId()];
    const jo = await store.contacts.create(contact(`jo-${p}@contoso.com`));
    const [pl, ql] = [license(p, E3), license(q, E3)];
    const many = Array.from({ length: 150 }, () => syncConsumer(pl, randomUUID()));
    await store.syncState.apply(
      plan(p, { licenses: { create: [pl] }, consumers: { add: [syncConsumer(pl, jo.id), ...many] } }),
      emptyState(),
    );
    await store.syncState.apply(
      plan(q, { licenses: { create: [ql] }, consumers: { add: [syncConsumer(ql, jo.id)] } }),
      emptyState(),
    );

    await store.purge.purgePortal(p);
    const purged = await store.syncState.loadPortal(p);
    expect([purged.licenses.length, purged.consumers.size, purged.userLinks.size]).toEqual([0, 0, 0]);
    expect((await store.syncState.loadPortal(q)).consumers.size).toBe(1);
    expect(await store.contacts.get(jo.id)).toEqual(jo);
  });
});
