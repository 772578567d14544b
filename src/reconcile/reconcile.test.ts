import type { ConsumerRecord, LicenseRecord } from '../domain/records';
import type { TenantPlan, TenantUser } from '../graph/types';
import type { PortalLedgerState } from '../ledger/types';
import { addressesToLookUp, reconcile, userFingerprint, type ReconcileInput, type TenantSnapshot } from './reconcile';
import type { ChangePlan } from './plan';

const E3 = '6fd2c87f-b296-42f0-b197-1e91e994b900';
const E1 = '18181a46-0d4e-45cd-891e-60aabd171b4e';
const portal = { id: 'p1', name: 'Contoso' };
const now = '2026-11-23T10:00:00.000Z';
const later = '2026-11-23T11:00:00.000Z';
const names = { displayName: (_id: string, part: string) => ({ ENTERPRISEPACK: 'Office 365 E3' } as Record<string, string>)[part] ?? part };

function plan(skuId: string, part: string, enabled: number, consumed: number): TenantPlan {
  return { skuId, skuPartNumber: part, capabilityStatus: 'Enabled', appliesTo: 'User', consumedUnits: consumed, prepaidUnits: { enabled, warning: 0, suspended: 0, lockedOut: 0 } };
}

function user(id: string, mail: string, skus: string[], extra: Partial<TenantUser> = {}): TenantUser {
  return {
    objectId: id, displayName: `User ${id}`, userPrincipalName: mail, addresses: [mail.toLowerCase()], primaryEmail: mail,
    accountEnabled: true, userType: 'Member',
    plans: skus.map((skuId) => ({ skuId, assignedDirectly: true, assignedViaGroups: [], state: 'Active', error: 'None' })),
    ...extra,
  };
}

const emptyState = (): PortalLedgerState => ({ licenses: [], consumers: [], etags: new Map() });

let contactSeq = 0;
function run(snapshot: Partial<TenantSnapshot>, state: PortalLedgerState, lookup: Record<string, string> = {}, at = now): ChangePlan {
  const input: ReconcileInput = {
    portal, state, now: at, planNames: names,
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
  const key = (c: ConsumerRecord) => `${c.skuId}|${c.contactId}`;
  const consumers = new Map(state.consumers.map((c) => [key(c), c]));
  for (const c of [...p.consumers.add, ...p.consumers.update]) consumers.set(key(c), c);
  for (const c of p.consumers.remove) consumers.delete(key(c));
  return { licenses: [...licenses.values()], consumers: [...consumers.values()], etags: new Map() };
}

const manual = (skuId: string, contactId: string): ConsumerRecord => ({
  licenseId: `p1.${skuId}`, portalId: 'p1', skuId, contactId, owner: { kind: 'manual' }, createdAt: now, updatedAt: now,
});

describe('reconcile', () => {
  test('a first run creates a license per plan with available = enabled units and links each user', () => {
    const p = run({ plans: [plan(E3, 'ENTERPRISEPACK', 10, 2), plan(E1, 'STANDARDPACK', 5, 6)], users: [user('u1', 'Ann@contoso.com', [E3]), user('u2', 'bob@contoso.com', [E3, E1])] }, emptyState());
    expect(p.licenses.create.map((l) => [l.name, l.available, l.assigned, l.overAssigned])).toEqual([
      ['Contoso - Office 365 E3', 10, 2, false],
      ['Contoso - STANDARDPACK', 5, 1, true],
    ]);
    expect(p.contacts.create.map((c) => [c.email, c.origin])).toEqual([
      ['Ann@contoso.com', { kind: 'sync', portalId: 'p1' }],
      ['bob@contoso.com', { kind: 'sync', portalId: 'p1' }],
    ]);
    expect(p.consumers.add).toHaveLength(3);
    expect(p.counts).toMatchObject({ plansRead: 2, usersRead: 2, licensesCreated: 2, contactsCreated: 2, consumersAdded: 3 });
  });

  test('a second run over unchanged data plans no change at all', () => {
    const snap = { plans: [plan(E3, 'ENTERPRISEPACK', 10, 2)], users: [user('u1', 'ann@contoso.com', [E3]), user('u2', 'bob@contoso.com', [E3])] };
    const first = run(snap, emptyState());
    const state = applyToState(emptyState(), first);
    const second = run(snap, state, {}, later);
    expect(second.licenses.create.length + second.licenses.update.length + second.consumers.add.length + second.consumers.update.length + second.consumers.remove.length + second.contacts.create.length + second.contacts.addAliases.length).toBe(0);
  });

  test('users already linked and unchanged need no address look-up', () => {
    const snap: TenantSnapshot = { mode: 'full', plans: [plan(E3, 'ENTERPRISEPACK', 10, 2)], users: [user('u1', 'ann@contoso.com', [E3]), user('u2', 'new@contoso.com', [E3])] };
    const state = applyToState(emptyState(), run({ ...snap, users: [snap.users[0]!] }, emptyState()));
    expect([...addressesToLookUp(snap, state, 'p1')]).toEqual(['new@contoso.com']);
  });

  test('matches an existing contact by any address, case-insensitively via the lookup', () => {
    const p = run({ plans: [plan(E3, 'X', 1, 1)], users: [user('u1', 'Ann@Contoso.com', [E3], { addresses: ['ann@contoso.com', 'a.smith@contoso.com'] })] }, emptyState(), { 'a.smith@contoso.com': 'existing' });
    expect(p.contacts.create).toHaveLength(0);
    expect(p.consumers.add[0]!.contactId).toBe('existing');
  });

  test('two contacts holding the user\'s addresses give a conflict: nothing linked, nothing created', () => {
    const p = run({ plans: [plan(E3, 'X', 1, 1)], users: [user('u1', 'ann@contoso.com', [E3], { addresses: ['ann@contoso.com', 'anna@contoso.com'] })] }, emptyState(), { 'ann@contoso.com': 'c-a', 'anna@contoso.com': 'c-b' });
    expect(p.conflicts).toEqual([{ objectId: 'u1', userPrincipalName: 'ann@contoso.com', addresses: ['ann@contoso.com', 'anna@contoso.com'], contactIds: ['c-a', 'c-b'] }]);
    expect(p.contacts.create).toHaveLength(0);
    expect(p.consumers.add).toHaveLength(0);
    expect(p.counts.conflicts).toBe(1);
  });

  test('a renamed user keeps the contact and the new address becomes an alias', () => {
    const first = run({ plans: [plan(E3, 'X', 1, 1)], users: [user('u1', 'ann@contoso.com', [E3])] }, emptyState());
    const state = applyToState(emptyState(), first);
    const contactId = first.contacts.create[0]!.id;
    const renamed = user('u1', 'ann.smith@contoso.com', [E3], { displayName: 'Ann Smith', addresses: ['ann.smith@contoso.com', 'ann@contoso.com'] });
    const p = run({ plans: [plan(E3, 'X', 1, 1)], users: [renamed] }, state, { 'ann@contoso.com': contactId }, later);
    expect(p.contacts.create).toHaveLength(0);
    expect(p.contacts.addAliases).toEqual([{ contactId, addresses: ['ann.smith@contoso.com'] }]);
    expect(p.consumers.update).toHaveLength(1);
    expect(p.consumers.update[0]!).toMatchObject({ contactId, userFingerprint: userFingerprint(renamed), assignment: { userPrincipalName: 'ann.smith@contoso.com' } });
    expect(p.consumers.add).toHaveLength(0);
    expect(p.consumers.remove).toHaveLength(0);
  });

  test('a new address held by another contact is not taken as an alias', () => {
    const first = run({ plans: [plan(E3, 'X', 1, 1)], users: [user('u1', 'ann@contoso.com', [E3])] }, emptyState());
    const state = applyToState(emptyState(), first);
    const contactId = first.contacts.create[0]!.id;
    const p = run({ plans: [plan(E3, 'X', 1, 1)], users: [user('u1', 'ann@contoso.com', [E3], { addresses: ['ann@contoso.com', 'shared@contoso.com'] })] }, state, { 'ann@contoso.com': contactId, 'shared@contoso.com': 'someone-else' }, later);
    expect(p.contacts.addAliases).toEqual([]);
  });

  test('removes sync-owned consumers whose license was taken away, and leaves hand-made ones', () => {
    const first = run({ plans: [plan(E3, 'X', 2, 2)], users: [user('u1', 'ann@contoso.com', [E3]), user('u2', 'bob@contoso.com', [E3])] }, emptyState());
    const state = applyToState(emptyState(), first);
    state.consumers.push(manual(E3, 'hand-made-contact'));
    const p = run({ plans: [plan(E3, 'X', 2, 1)], users: [user('u1', 'ann@contoso.com', [E3]), user('u2', 'bob@contoso.com', [])] }, state, {}, later);
    expect(p.consumers.remove.map((c) => c.contactId)).toEqual([first.contacts.create[1]!.id]);
    expect(p.licenses.update[0]).toMatchObject({ consumedUnits: 1, assigned: 2 });
  });

  test('a person\'s link of the same contact to the same license is left alone', () => {
    const state = emptyState();
    state.consumers.push(manual(E3, 'c-ann'));
    const p = run({ plans: [plan(E3, 'X', 2, 1)], users: [user('u1', 'ann@contoso.com', [E3])] }, state, { 'ann@contoso.com': 'c-ann' });
    expect(p.consumers.add).toHaveLength(0);
    expect(p.consumers.update).toHaveLength(0);
    expect(p.consumers.remove).toHaveLength(0);
    expect(p.licenses.create[0]!.assigned).toBe(1);
  });

  test('guests and disabled accounts are linked and flagged, with group assignments and errors', () => {
    const guest = user('g', 'guest_ext#EXT#@contoso.onmicrosoft.com', [E3], { userType: 'Guest', accountEnabled: false });
    guest.plans = [{ skuId: E3, assignedDirectly: false, assignedViaGroups: ['grp-b', 'grp-a'], state: 'Error', error: 'CountViolation' }];
    const p = run({ plans: [plan(E3, 'X', 1, 1)], users: [guest] }, emptyState());
    expect(p.consumers.add[0]!.assignment).toEqual({
      objectId: 'g', userPrincipalName: 'guest_ext#EXT#@contoso.onmicrosoft.com', assignedDirectly: false, assignedViaGroups: ['grp-a', 'grp-b'],
      assignmentState: 'Error', assignmentError: 'CountViolation', accountEnabled: false, userType: 'Guest',
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
    const p = run({ plans: [plan(E3, 'X', 5, 2)], users: [user('u1', 'ann@contoso.com', [E3]), user('u2', 'ann-admin@contoso.com', [E3], { addresses: ['ann-admin@contoso.com', 'ann@contoso.com'] })] }, emptyState());
    expect(p.contacts.create).toHaveLength(1);
    expect(p.consumers.add).toHaveLength(1);
  });

  test('a delta read only touches the users it mentions', () => {
    const full = run({ plans: [plan(E3, 'X', 5, 2)], users: [user('u1', 'ann@contoso.com', [E3]), user('u2', 'bob@contoso.com', [E3])] }, emptyState());
    const state = applyToState(emptyState(), full);
    const delta = run({ mode: 'delta', plans: [plan(E3, 'X', 5, 2)], users: [], removedObjectIds: ['u2'] }, state, {}, later);
    expect(delta.consumers.remove.map((c) => c.assignment?.objectId)).toEqual(['u2']);
    const untouched = run({ mode: 'delta', plans: [plan(E3, 'X', 5, 2)], users: [user('u3', 'cy@contoso.com', [E3])] }, state, {}, later);
    expect(untouched.consumers.remove).toHaveLength(0);
    expect(untouched.consumers.add).toHaveLength(1);
  });

  test('licenses of other owners in the state are counted, never changed', () => {
    const state = emptyState();
    const existing: LicenseRecord = {
      id: `p1.${E3}`, portalId: 'p1', skuId: E3, skuPartNumber: 'X', displayName: 'X', name: 'Contoso - X', available: 5, warning: 0, suspended: 0,
      lockedOut: 0, consumedUnits: 0, assigned: 0, capabilityStatus: 'Enabled', appliesTo: 'User', overAssigned: false, status: 'current', createdAt: now, updatedAt: now,
    };
    state.licenses.push(existing);
    state.consumers.push(manual(E3, 'c1'));
    const p = run({ plans: [plan(E3, 'X', 5, 0)], users: [] }, state);
    expect(p.licenses.update).toEqual([{ ...existing, assigned: 1, updatedAt: now }]);
    expect(p.consumers.remove).toHaveLength(0);
  });
});
