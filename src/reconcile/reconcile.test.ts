import type { LicenseRecord } from '../domain/records';
import type { TenantPlan, TenantUser } from '../domain/tenant';
import { consumerKey, type PortalLedgerState } from '../domain/ledger';
import { assignmentDigest, fingerprintDigest, userFingerprint } from '../domain/digests';
import type { PlanNames } from '../domain/ports';
import { Reconciliation } from './reconcile';
import { appendPlan, type ChangePlan } from '../domain/plan';

/** A tenant read whole, as the tests state it. */
interface TenantSnapshot {
  plans: TenantPlan[];
  /**
   * `full`: every user of the tenant (a complete read; sync-owned consumers not seen are removed).
   * `delta`: only users changed since the last read, plus the ids of users removed from the tenant; consumers of
   * users not mentioned stay as they are.
   */
  mode: 'full' | 'delta';
  users: TenantUser[];
  removedObjectIds?: string[];
}

interface ReconcileInput {
  portal: { id: string; name: string };
  snapshot: TenantSnapshot;
  state: PortalLedgerState;
  /** Which contact holds each address, for the addresses of users that must be matched by address. */
  contactIdsByAddress: ReadonlyMap<string, string>;
  planNames: PlanNames;
  now: string;
  newContactId: (objectId: string) => string;
}

/** The whole reconciliation at once: (tenant snapshot, this portal's ledger state) -> plan of changes. */
function reconcile(input: ReconcileInput): ChangePlan {
  const reconciliation = new Reconciliation({
    portal: input.portal,
    plans: input.snapshot.plans,
    mode: input.snapshot.mode,
    removedObjectIds: input.snapshot.removedObjectIds,
    state: input.state,
    planNames: input.planNames,
    now: input.now,
    newContactId: input.newContactId,
  });
  const plan = reconciliation.addUsers(input.snapshot.users, input.contactIdsByAddress);
  appendPlan(plan, reconciliation.finish());
  plan.counts = reconciliation.currentCounts();
  return plan;
}

const E3 = '6fd2c87f-b296-42f0-b197-1e91e994b900';
const E1 = '18181a46-0d4e-45cd-891e-60aabd171b4e';
const portal = { id: 'p1', name: 'Contoso' };
const now = '2026-11-23T10:00:00.000Z';
const later = '2026-11-23T11:00:00.000Z';
const names = {
  displayName: (_id: string, part: string) =>
    (({ ENTERPRISEPACK: 'Office 365 E3' }) as Record<string, string>)[part] ?? part,
};

function plan(skuId: string, part: string, enabled: number, consumed: number): TenantPlan {
  return {
    skuId,
    skuPartNumber: part,
    capabilityStatus: 'Enabled',
    appliesTo: 'User',
    consumedUnits: consumed,
    prepaidUnits: { enabled, warning: 0, suspended: 0, lockedOut: 0 },
  };
}

function user(id: string, mail: string, skus: string[], extra: Partial<TenantUser> = {}): TenantUser {
  return {
    objectId: id,
    displayName: `User ${id}`,
    userPrincipalName: mail,
    addresses: [mail.toLowerCase()],
    primaryEmail: mail,
    accountEnabled: true,
    userType: 'Member',
    plans: skus.map((skuId) => ({
      skuId,
      assignedDirectly: true,
      assignedViaGroups: [],
      state: 'Active',
      error: 'None',
    })),
    ...extra,
  };
}

const emptyState = (): PortalLedgerState => ({
  licenses: [],
  licenseEtags: new Map(),
  consumers: new Map(),
  userLinks: new Map(),
  userLinkEtags: new Map(),
  scope: 'full',
});

let contactSeq = 0;
function run(
  snapshot: Partial<TenantSnapshot>,
  state: PortalLedgerState,
  lookup: Record<string, string> = {},
  at = now,
): ChangePlan {
  const input: ReconcileInput = {
    portal,
    state,
    now: at,
    planNames: names,
    snapshot: { mode: 'full', plans: [], users: [], ...snapshot },
    contactIdsByAddress: new Map(Object.entries(lookup)),
    newContactId: () => `c${++contactSeq}`,
  };
  return reconcile(input);
}

/** What the ledger holds after applying a plan (enough for the next run's state). */
function applyToState(state: PortalLedgerState, p: ChangePlan): PortalLedgerState {
  const licenses = new Map(state.licenses.map((l) => [l.skuId, l]));
  for (const l of [...p.licenses.create, ...p.licenses.update]) licenses.set(l.skuId, l);
  const consumers = new Map(state.consumers);
  for (const c of p.consumers.add) {
    consumers.set(consumerKey(c.skuId, c.contactId), {
      skuId: c.skuId,
      contactId: c.contactId,
      sync: c.owner.kind === 'sync',
      objectId: c.assignment?.objectId,
      digest: c.assignment && assignmentDigest(c.assignment),
      fingerprintDigest: c.userFingerprint && fingerprintDigest(c.userFingerprint),
    });
  }
  for (const c of p.consumers.update) {
    const key = consumerKey(c.skuId, c.contactId);
    consumers.set(key, {
      ...consumers.get(key)!,
      objectId: c.assignment.objectId,
      digest: assignmentDigest(c.assignment),
      fingerprintDigest: fingerprintDigest(c.userFingerprint),
    });
  }
  for (const c of p.consumers.remove) consumers.delete(consumerKey(c.skuId, c.contactId));
  const userLinks = new Map(state.userLinks);
  for (const link of p.userLinks.put) userLinks.set(link.objectId, { contactId: link.contactId, skuIds: link.skuIds });
  for (const objectId of p.userLinks.remove) userLinks.delete(objectId);
  return { ...state, licenses: [...licenses.values()], consumers, userLinks };
}

/** A person's link of a contact to a license. */
function addManual(state: PortalLedgerState, skuId: string, contactId: string): void {
  state.consumers.set(consumerKey(skuId, contactId), { skuId, contactId, sync: false });
}

describe('reconcile', () => {
  test('a first run creates a license per plan with available = enabled units and links each user', () => {
    const p = run(
      {
        plans: [plan(E3, 'ENTERPRISEPACK', 10, 2), plan(E1, 'STANDARDPACK', 5, 6)],
        users: [user('u1', 'Ann@contoso.com', [E3]), user('u2', 'bob@contoso.com', [E3, E1])],
      },
      emptyState(),
    );
    expect(p.licenses.create.map((l) => [l.name, l.available, l.assigned, l.overAssigned])).toEqual([
      ['Contoso - Office 365 E3', 10, 2, false],
      ['Contoso - STANDARDPACK', 5, 1, true],
    ]);
    expect(p.contacts.create.map((c) => [c.email, c.origin])).toEqual([
      ['Ann@contoso.com', { kind: 'sync', portalId: 'p1' }],
      ['bob@contoso.com', { kind: 'sync', portalId: 'p1' }],
    ]);
    expect(p.consumers.add).toHaveLength(3);
    expect(p.counts).toMatchObject({
      plansRead: 2,
      usersRead: 2,
      licensesCreated: 2,
      contactsCreated: 2,
      consumersAdded: 3,
    });
  });

  test('a second run over unchanged data plans no change at all', () => {
    const snap = {
      plans: [plan(E3, 'ENTERPRISEPACK', 10, 2)],
      users: [user('u1', 'ann@contoso.com', [E3]), user('u2', 'bob@contoso.com', [E3])],
    };
    const first = run(snap, emptyState());
    const state = applyToState(emptyState(), first);
    const second = run(snap, state, {}, later);
    expect(
      second.licenses.create.length +
        second.licenses.update.length +
        second.consumers.add.length +
        second.consumers.update.length +
        second.consumers.remove.length +
        second.contacts.create.length +
        second.contacts.addAliases.length,
    ).toBe(0);
  });

  test('users already linked and unchanged need no address look-up', () => {
    const snap: TenantSnapshot = {
      mode: 'full',
      plans: [plan(E3, 'ENTERPRISEPACK', 10, 2)],
      users: [user('u1', 'ann@contoso.com', [E3]), user('u2', 'new@contoso.com', [E3])],
    };
    const state = applyToState(emptyState(), run({ ...snap, users: [snap.users[0]!] }, emptyState()));
    const reconciliation = new Reconciliation({
      portal,
      plans: snap.plans,
      mode: 'full',
      state,
      planNames: names,
      now: later,
      newContactId: () => 'unused',
    });
    expect([...reconciliation.addressesToLookUp(snap.users)]).toEqual(['new@contoso.com']);
  });

  test('matches an existing contact by any address, case-insensitively via the lookup', () => {
    const p = run(
      {
        plans: [plan(E3, 'X', 1, 1)],
        users: [user('u1', 'Ann@Contoso.com', [E3], { addresses: ['ann@contoso.com', 'a.smith@contoso.com'] })],
      },
      emptyState(),
      { 'a.smith@contoso.com': 'existing' },
    );
    expect(p.contacts.create).toHaveLength(0);
    expect(p.consumers.add[0]!.contactId).toBe('existing');
  });

  test("two contacts holding the user's addresses give a conflict: nothing linked, nothing created", () => {
    const p = run(
      {
        plans: [plan(E3, 'X', 1, 1)],
        users: [user('u1', 'ann@contoso.com', [E3], { addresses: ['ann@contoso.com', 'anna@contoso.com'] })],
      },
      emptyState(),
      { 'ann@contoso.com': 'c-a', 'anna@contoso.com': 'c-b' },
    );
    expect(p.conflicts).toEqual([
      {
        objectId: 'u1',
        userPrincipalName: 'ann@contoso.com',
        addresses: ['ann@contoso.com', 'anna@contoso.com'],
        contactIds: ['c-a', 'c-b'],
      },
    ]);
    expect(p.contacts.create).toHaveLength(0);
    expect(p.consumers.add).toHaveLength(0);
    expect(p.counts.conflicts).toBe(1);
  });

  test('a renamed user keeps the contact and the new address becomes an alias', () => {
    const first = run({ plans: [plan(E3, 'X', 1, 1)], users: [user('u1', 'ann@contoso.com', [E3])] }, emptyState());
    const state = applyToState(emptyState(), first);
    const contactId = first.contacts.create[0]!.id;
    const renamed = user('u1', 'ann.smith@contoso.com', [E3], {
      displayName: 'Ann Smith',
      addresses: ['ann.smith@contoso.com', 'ann@contoso.com'],
    });
    const p = run({ plans: [plan(E3, 'X', 1, 1)], users: [renamed] }, state, { 'ann@contoso.com': contactId }, later);
    expect(p.contacts.create).toHaveLength(0);
    expect(p.contacts.addAliases).toEqual([{ contactId, addresses: ['ann.smith@contoso.com'] }]);
    expect(p.consumers.update).toHaveLength(1);
    expect(p.consumers.update[0]!).toMatchObject({
      contactId,
      userFingerprint: userFingerprint(renamed),
      assignment: { userPrincipalName: 'ann.smith@contoso.com' },
    });
    expect(p.consumers.add).toHaveLength(0);
    expect(p.consumers.remove).toHaveLength(0);
  });

  test('a new address held by another contact is not taken as an alias', () => {
    const first = run({ plans: [plan(E3, 'X', 1, 1)], users: [user('u1', 'ann@contoso.com', [E3])] }, emptyState());
    const state = applyToState(emptyState(), first);
    const contactId = first.contacts.create[0]!.id;
    const p = run(
      {
        plans: [plan(E3, 'X', 1, 1)],
        users: [user('u1', 'ann@contoso.com', [E3], { addresses: ['ann@contoso.com', 'shared@contoso.com'] })],
      },
      state,
      { 'ann@contoso.com': contactId, 'shared@contoso.com': 'someone-else' },
      later,
    );
    expect(p.contacts.addAliases).toEqual([]);
  });

  test('removes sync-owned consumers whose license was taken away, and leaves hand-made ones', () => {
    const first = run(
      {
        plans: [plan(E3, 'X', 2, 2)],
        users: [user('u1', 'ann@contoso.com', [E3]), user('u2', 'bob@contoso.com', [E3])],
      },
      emptyState(),
    );
    const state = applyToState(emptyState(), first);
    addManual(state, E3, 'hand-made-contact');
    const p = run(
      { plans: [plan(E3, 'X', 2, 1)], users: [user('u1', 'ann@contoso.com', [E3]), user('u2', 'bob@contoso.com', [])] },
      state,
      {},
      later,
    );
    expect(p.consumers.remove.map((c) => c.contactId)).toEqual([first.contacts.create[1]!.id]);
    expect(p.licenses.update[0]).toMatchObject({ consumedUnits: 1, assigned: 2 });
  });

  test("a person's link of the same contact to the same license is left alone", () => {
    const state = emptyState();
    addManual(state, E3, 'c-ann');
    const p = run({ plans: [plan(E3, 'X', 2, 1)], users: [user('u1', 'ann@contoso.com', [E3])] }, state, {
      'ann@contoso.com': 'c-ann',
    });
    expect(p.consumers.add).toHaveLength(0);
    expect(p.consumers.update).toHaveLength(0);
    expect(p.consumers.remove).toHaveLength(0);
    expect(p.licenses.create[0]!.assigned).toBe(1);
  });

  test('guests and disabled accounts are linked and flagged, with group assignments and errors', () => {
    const guest = user('g', 'guest_ext#EXT#@contoso.onmicrosoft.com', [E3], {
      userType: 'Guest',
      accountEnabled: false,
    });
    guest.plans = [
      {
        skuId: E3,
        assignedDirectly: false,
        assignedViaGroups: ['grp-b', 'grp-a'],
        state: 'Error',
        error: 'CountViolation',
      },
    ];
    const p = run({ plans: [plan(E3, 'X', 1, 1)], users: [guest] }, emptyState());
    expect(p.consumers.add[0]!.assignment).toEqual({
      objectId: 'g',
      userPrincipalName: 'guest_ext#EXT#@contoso.onmicrosoft.com',
      assignedDirectly: false,
      assignedViaGroups: ['grp-a', 'grp-b'],
      assignmentState: 'Error',
      assignmentError: 'CountViolation',
      accountEnabled: false,
      userType: 'Guest',
    });
  });

  test('a plan gone from the portal keeps its license with available 0 and a status saying so', () => {
    const first = run({ plans: [plan(E3, 'X', 5, 1)], users: [user('u1', 'ann@contoso.com', [E3])] }, emptyState());
    const state = applyToState(emptyState(), first);
    const p = run({ plans: [], users: [user('u1', 'ann@contoso.com', [])] }, state, {}, later);
    expect(p.licenses.update).toHaveLength(1);
    expect(p.licenses.update[0]).toMatchObject({ available: 0, status: 'goneFromPortal', assigned: 0 });
    const again = run({ plans: [], users: [user('u1', 'ann@contoso.com', [])] }, applyToState(state, p), {}, later);
    expect(again.licenses.update).toHaveLength(0);
  });

  test('two users sharing an address in one run get one contact', () => {
    const p = run(
      {
        plans: [plan(E3, 'X', 5, 2)],
        users: [
          user('u1', 'ann@contoso.com', [E3]),
          user('u2', 'ann-admin@contoso.com', [E3], { addresses: ['ann-admin@contoso.com', 'ann@contoso.com'] }),
        ],
      },
      emptyState(),
    );
    expect(p.contacts.create).toHaveLength(1);
    expect(p.consumers.add).toHaveLength(1);
  });

  test('a delta read only touches the users it mentions', () => {
    const full = run(
      {
        plans: [plan(E3, 'X', 5, 2)],
        users: [user('u1', 'ann@contoso.com', [E3]), user('u2', 'bob@contoso.com', [E3])],
      },
      emptyState(),
    );
    const state = applyToState(emptyState(), full);
    const delta = run(
      { mode: 'delta', plans: [plan(E3, 'X', 5, 2)], users: [], removedObjectIds: ['u2'] },
      state,
      {},
      later,
    );
    expect(delta.consumers.remove.map((c) => c.objectId)).toEqual(['u2']);
    const untouched = run(
      { mode: 'delta', plans: [plan(E3, 'X', 5, 2)], users: [user('u3', 'cy@contoso.com', [E3])] },
      state,
      {},
      later,
    );
    expect(untouched.consumers.remove).toHaveLength(0);
    expect(untouched.consumers.add).toHaveLength(1);
  });

  test('licenses of other owners in the state are counted, never changed', () => {
    const state = emptyState();
    const existing: LicenseRecord = {
      id: `p1.${E3}`,
      portalId: 'p1',
      skuId: E3,
      skuPartNumber: 'X',
      displayName: 'X',
      name: 'Contoso - X',
      available: 5,
      warning: 0,
      suspended: 0,
      lockedOut: 0,
      consumedUnits: 0,
      assigned: 0,
      capabilityStatus: 'Enabled',
      appliesTo: 'User',
      overAssigned: false,
      status: 'current',
      createdAt: now,
      updatedAt: now,
    };
    state.licenses.push(existing);
    addManual(state, E3, 'c1');
    const p = run({ plans: [plan(E3, 'X', 5, 0)], users: [] }, state);
    expect(p.licenses.update).toEqual([{ ...existing, assigned: 1, updatedAt: now }]);
    expect(p.consumers.remove).toHaveLength(0);
  });

  test('users fed a page at a time give the same plan as all at once', () => {
    const plans = [plan(E3, 'ENTERPRISEPACK', 10, 4), plan(E1, 'STANDARDPACK', 5, 1)];
    const users = [
      user('u1', 'ann@contoso.com', [E3]),
      user('u2', 'bob@contoso.com', [E3, E1]),
      // shares an address with u1 (made on the first page): the same contact, one link
      user('u3', 'ann-admin@contoso.com', [E3], { addresses: ['ann-admin@contoso.com', 'ann@contoso.com'] }),
      user('u4', 'dee@contoso.com', []),
    ];
    const before = applyToState(
      emptyState(),
      run({ plans, users: [user('u9', 'gone@contoso.com', [E1])] }, emptyState()),
    );
    let seq = 0;
    const setup = {
      portal,
      plans,
      mode: 'full' as const,
      state: before,
      planNames: names,
      now: later,
      newContactId: () => `n${++seq}`,
    };
    const paged = new Reconciliation(setup);
    const whole = paged.addUsers(users.slice(0, 2), new Map());
    appendPlan(whole, paged.addUsers(users.slice(2), new Map()));
    appendPlan(whole, paged.finish());
    seq = 0;
    const once = reconcile({
      portal,
      state: before,
      now: later,
      planNames: names,
      snapshot: { mode: 'full', plans, users },
      contactIdsByAddress: new Map(),
      newContactId: () => `n${++seq}`,
    });
    expect(paged.currentCounts()).toEqual(once.counts);
    expect(whole.contacts.create.map((c) => c.email)).toEqual(['ann@contoso.com', 'bob@contoso.com']);
    expect(whole.consumers.add.map((c) => [c.skuId, c.contactId])).toEqual(
      once.consumers.add.map((c) => [c.skuId, c.contactId]),
    );
    expect(whole.consumers.remove.map((c) => c.objectId)).toEqual(['u9']);
    // E3: u1 and u3 are one contact, plus u2; E1: u9's link went, u2's came, so its license stays as it was.
    expect(whole.licenses.create).toEqual([]);
    expect(whole.licenses.update.map((l) => [l.skuId, l.assigned])).toEqual([[E3, 2]]);
    expect(() => paged.addUsers([], new Map())).toThrow(/finished/);
  });

  test('keeps one user link per linked user, written only when its contact or plans change', () => {
    const plans = [plan(E3, 'X', 5, 2), plan(E1, 'Y', 5, 1)];
    const first = run(
      {
        plans,
        users: [
          user('u1', 'ann@contoso.com', [E3, E1]),
          user('u2', 'bob@contoso.com', [E3]),
          user('u3', 'cy@contoso.com', []),
        ],
      },
      emptyState(),
    );
    const ann = first.contacts.create[0]!.id;
    expect(first.userLinks.put.map((l) => [l.objectId, l.contactId === ann, l.skuIds])).toEqual([
      ['u1', true, [E1, E3].sort()],
      ['u2', false, [E3]],
    ]);
    const state = applyToState(emptyState(), first);
    const same = run(
      { plans, users: [user('u1', 'ann@contoso.com', [E3, E1]), user('u2', 'bob@contoso.com', [E3])] },
      state,
      {},
      later,
    );
    expect(same.userLinks).toEqual({ put: [], remove: [] });
    const changed = run(
      { plans, users: [user('u1', 'ann@contoso.com', [E3]), user('u2', 'bob@contoso.com', [])] },
      state,
      {},
      later,
    );
    expect(changed.userLinks.put).toEqual([{ objectId: 'u1', contactId: ann, skuIds: [E3] }]);
    expect(changed.userLinks.remove).toEqual(['u2']);
  });

  test('a delta run on the state of just the users it names moves the stored counts by what it changed', () => {
    const plans = [plan(E3, 'X', 50, 40)];
    const full = run(
      { plans, users: [user('u1', 'ann@contoso.com', [E3]), user('u2', 'bob@contoso.com', [E3])] },
      emptyState(),
    );
    const after = applyToState(emptyState(), full);
    // The license says 40 assigned (most consumers are not in this partial state); u2 loses E3, u5 gets it.
    const partial: PortalLedgerState = {
      ...after,
      scope: 'partial',
      licenses: after.licenses.map((l) => ({ ...l, assigned: 40 })),
      consumers: new Map([...after.consumers].filter(([, c]) => c.objectId === 'u2')),
      userLinks: new Map([...after.userLinks].filter(([objectId]) => objectId === 'u2')),
    };
    const delta = run(
      { mode: 'delta', plans, users: [user('u2', 'bob@contoso.com', []), user('u5', 'eve@contoso.com', [E3])] },
      partial,
      {},
      later,
    );
    expect(delta.consumers.remove.map((c) => c.objectId)).toEqual(['u2']);
    expect(delta.consumers.add.map((c) => c.assignment?.objectId)).toEqual(['u5']);
    expect(delta.licenses.update.map((l) => l.assigned)).toEqual([]); // 40 - 1 + 1: unchanged
    expect(delta.userLinks.remove).toEqual(['u2']);
    expect(delta.userLinks.put.map((l) => l.objectId)).toEqual(['u5']);
    const gained = run({ mode: 'delta', plans, users: [user('u6', 'fay@contoso.com', [E3])] }, partial, {}, later);
    expect(gained.licenses.update.map((l) => l.assigned)).toEqual([41]);
  });
});
