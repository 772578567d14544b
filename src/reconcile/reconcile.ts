import type { PlanNames } from '../domain/ports';
import { assignmentDigest, fingerprintDigest, userFingerprint } from '../domain/digests';
import { consumerKey, splitConsumerKey, type AddressLookup, type PortalLedgerState } from '../domain/ledger';
import { emptyPlan, type ChangePlan, type UserLink } from '../domain/plan';
import { emptyCounts, licenseIdOf, type Conflict, type LicenseRecord, type RunCounts } from '../domain/records';
import type { TenantPlan, TenantUser } from '../domain/tenant';
import { assignmentOf, contactFromUser, licenseValuesFromPlan, planLicenses } from './values';

/**
 * The reconciliation rules of PRODUCT.md: (tenant's plans and users, this portal's ledger state) -> plan of
 * changes, one part per batch of users. Its only I/O is the address lookup it is given.
 */

/** What a reconciliation needs besides the users, which it takes a page at a time. */
export interface ReconciliationSetup {
  portal: { id: string; name: string };
  plans: TenantPlan[];
  mode: 'full' | 'delta';
  /** Delta: users removed from the tenant (their sync-owned consumers go). */
  removedObjectIds?: Iterable<string>;
  state: PortalLedgerState;
  planNames: PlanNames;
  now: string;
  /** The id of the contact made for a user (by its Entra object id). */
  newContactId: (objectId: string) => string;
  /** Finds the contacts holding addresses (for `step`); none by default. */
  lookUp?: AddressLookup;
  /**
   * The plan is applied part by part as it is made (a full run that writes): `start` names the licenses of new
   * plans first, so no consumer written meanwhile names a missing license, and `finish` updates them.
   */
  inParts?: boolean;
}

interface SyncLink {
  contactId: string;
  /** fingerprintDigest of the user as last seen. */
  fingerprint: string | undefined;
}

/**
 * One run's reconciliation, fed the tenant's users a page at a time, so a run never holds the whole tenant nor
 * the whole plan. `addUsers` returns the contacts and links of those users (safe to apply at once: nothing is
 * removed before the read is complete); `finish` returns the removals, the licenses and the user links.
 */
export class Reconciliation {
  private readonly counts = emptyCounts();
  private readonly links = new Map<string, SyncLink>();
  /** Consumer key -> the objectId it stands for ('' when a person linked it), for every link the tenant holds. */
  private readonly seen = new Map<string, string>();
  private readonly createdByAddress = new Map<string, string>();
  /** Net consumers added per skuId by this run. */
  private readonly netAdded = new Map<string, number>();
  private readonly existingLicenses: Map<string, LicenseRecord>;
  private licensesAfter?: LicenseRecord[];
  private readonly linkableSkus: Set<string>;
  private readonly mentioned = new Set<string>();
  private finished = false;
  /** Users read that hold at least one plan (the billing figure; complete after a full read). */
  private licensedUsers = 0;
  /** Licenses `start` named already: `finish` writes their final values as updates. */
  private readonly started = new Set<string>();

  constructor(private readonly setup: ReconciliationSetup) {
    const { state, plans } = setup;
    this.counts.plansRead = plans.length;
    this.existingLicenses = new Map(state.licenses.map((license) => [license.skuId, license]));
    // Licenses this run can link to: the tenant's plans, and licenses of plans that have left it.
    this.linkableSkus = new Set<string>([...this.existingLicenses.keys(), ...plans.map((p) => p.skuId)]);
    for (const id of setup.removedObjectIds ?? []) this.mentioned.add(id);
    for (const consumer of state.consumers.values()) {
      if (!consumer.sync || !consumer.objectId || this.links.has(consumer.objectId)) continue;
      this.links.set(consumer.objectId, { contactId: consumer.contactId, fingerprint: consumer.fingerprintDigest });
    }
  }

  /** The part to apply before any user's (see ReconciliationSetup.inParts), or undefined when there is none. */
  start(): ChangePlan | undefined {
    if (!this.setup.inParts) return undefined;
    const licenses = this.newLicenses();
    if (licenses.length === 0) return undefined;
    for (const license of licenses) this.started.add(license.skuId);
    const part = emptyPlan(this.setup.portal.id, this.counts);
    part.licenses.create = licenses;
    return part;
  }

  /** One batch of users: looks up the contacts of the addresses it must match, then reconciles the batch. */
  async step(users: readonly TenantUser[]): Promise<ChangePlan> {
    const wanted = this.addressesToLookUp(users);
    const found = this.setup.lookUp ? await this.setup.lookUp(wanted) : new Map<string, string>();
    return this.addUsers(users, found);
  }

  /** Which of these users' addresses must be looked up (none for a user already linked and unchanged). */
  addressesToLookUp(users: readonly TenantUser[]): Set<string> {
    const wanted = new Set<string>();
    for (const user of users) {
      if (user.plans.length === 0) continue;
      const link = this.links.get(user.objectId);
      if (link && link.fingerprint === fingerprintDigest(userFingerprint(user))) continue;
      for (const address of user.addresses) wanted.add(address);
    }
    return wanted;
  }

  /** Reconciles a page of users: the contacts to create or extend and the links to add or update. */
  addUsers(users: readonly TenantUser[], contactIdsByAddress: ReadonlyMap<string, string>): ChangePlan {
    if (this.finished) throw new Error('The reconciliation has finished.');
    const { portal, state, now } = this.setup;
    const part = emptyPlan(portal.id, this.counts);
    this.counts.usersRead += users.length;

    for (const user of users) {
      this.mentioned.add(user.objectId);
      if (user.plans.length > 0) this.licensedUsers++;
      const heldPlans = user.plans.filter((held) => this.linkableSkus.has(held.skuId));
      if (heldPlans.length === 0) continue;
      const fingerprint = userFingerprint(user);
      const fingerprintHash = fingerprintDigest(fingerprint);

      let contactId: string;
      const link = this.links.get(user.objectId);
      if (link) {
        contactId = link.contactId;
        if (link.fingerprint !== fingerprintHash) {
          // Renamed or new addresses: they become aliases of the same contact, unless another contact holds them.
          const free = user.addresses.filter((address) => {
            const holder = contactIdsByAddress.get(address) ?? this.createdByAddress.get(address);
            return holder === undefined || holder === contactId;
          });
          const unknown = free.filter((address) => contactIdsByAddress.get(address) !== contactId);
          if (unknown.length > 0) {
            part.contacts.addAliases.push({ contactId, addresses: unknown });
            this.counts.contactsUpdated++;
          }
        }
      } else {
        const holders = new Set<string>();
        for (const address of user.addresses) {
          const holder = contactIdsByAddress.get(address) ?? this.createdByAddress.get(address);
          if (holder) holders.add(holder);
        }
        if (holders.size > 1) {
          const conflict: Conflict = {
            objectId: user.objectId,
            userPrincipalName: user.userPrincipalName,
            addresses: user.addresses,
            contactIds: [...holders].sort(),
          };
          part.conflicts.push(conflict);
          this.counts.conflicts++;
          continue;
        }
        const [holder] = holders;
        if (holder) {
          contactId = holder;
        } else {
          const contact = contactFromUser(user, this.setup.newContactId(user.objectId), portal.id, now);
          part.contacts.create.push(contact);
          this.counts.contactsCreated++;
          contactId = contact.id;
          for (const address of user.addresses) this.createdByAddress.set(address, contact.id);
        }
      }

      for (const held of heldPlans) {
        const key = consumerKey(held.skuId, contactId);
        if (this.seen.has(key)) continue; // two accounts of one contact holding the same plan: one link
        const existing = state.consumers.get(key);
        if (existing && !existing.sync) {
          this.seen.set(key, ''); // a person linked them: leave it alone
          continue;
        }
        this.seen.set(key, user.objectId);
        const assignment = assignmentOf(user, held);
        if (existing) {
          if (existing.digest !== assignmentDigest(assignment) || existing.fingerprintDigest !== fingerprintHash) {
            part.consumers.update.push({
              licenseId: licenseIdOf(portal.id, held.skuId),
              portalId: portal.id,
              skuId: held.skuId,
              contactId,
              assignment,
              userFingerprint: fingerprint,
              updatedAt: now,
            });
            this.counts.consumersUpdated++;
          }
          continue;
        }
        part.consumers.add.push({
          licenseId: licenseIdOf(portal.id, held.skuId),
          portalId: portal.id,
          skuId: held.skuId,
          contactId,
          owner: { kind: 'sync', portalId: portal.id },
          createdAt: now,
          updatedAt: now,
          assignment,
          firstSeen: now,
          userFingerprint: fingerprint,
        });
        this.netAdded.set(held.skuId, (this.netAdded.get(held.skuId) ?? 0) + 1);
        this.counts.consumersAdded++;
      }
    }
    return part;
  }

  /**
   * Licenses of plans the ledger does not have yet, as they stand before any link: a run that applies in parts
   * writes them first, so a consumer never names a missing license. `finish` names them again with their counts.
   */
  private newLicenses(): LicenseRecord[] {
    const { portal, plans, planNames, now } = this.setup;
    return plans
      .filter((plan) => !this.existingLicenses.has(plan.skuId))
      .map((plan) => ({
        id: licenseIdOf(portal.id, plan.skuId),
        portalId: portal.id,
        skuId: plan.skuId,
        ...licenseValuesFromPlan(plan, portal.name, planNames),
        assigned: 0,
        createdAt: now,
        updatedAt: now,
      }));
  }

  /** After the last page: the links to remove, the licenses with their counts, and the user links. */
  finish(): ChangePlan {
    if (this.finished) throw new Error('The reconciliation has finished.');
    this.finished = true;
    const { portal, state, plans, mode } = this.setup;
    const part = emptyPlan(portal.id, this.counts);

    // In a delta read, only users mentioned (changed or removed) are reconciled; the rest keep their consumers.
    const inScope = (objectId: string | undefined): boolean =>
      mode === 'full' || (!!objectId && this.mentioned.has(objectId));
    for (const [key, consumer] of state.consumers) {
      if (!consumer.sync || this.seen.has(key) || !inScope(consumer.objectId)) continue;
      part.consumers.remove.push({
        licenseId: licenseIdOf(portal.id, consumer.skuId),
        portalId: portal.id,
        skuId: consumer.skuId,
        contactId: consumer.contactId,
        objectId: consumer.objectId,
      });
      this.netAdded.set(consumer.skuId, (this.netAdded.get(consumer.skuId) ?? 0) - 1);
      this.counts.consumersRemoved++;
    }

    planLicenses(part, {
      portal,
      plans,
      state,
      existing: this.existingLicenses,
      netAdded: this.netAdded,
      planNames: this.setup.planNames,
      now: this.setup.now,
    });
    this.counts.licensesCreated = part.licenses.create.length;
    this.counts.licensesUpdated = part.licenses.update.length;
    const after = new Map(this.existingLicenses);
    for (const license of [...part.licenses.create, ...part.licenses.update]) after.set(license.skuId, license);
    this.licensesAfter = [...after.values()];
    if (this.started.size > 0) {
      // `start` wrote these already: their final values (with counts) replace them.
      part.licenses.update = [
        ...part.licenses.create.filter((license) => this.started.has(license.skuId)),
        ...part.licenses.update,
      ];
      part.licenses.create = part.licenses.create.filter((license) => !this.started.has(license.skuId));
    }

    // The user links: which contact and plans each user's sync-owned consumers stand for.
    const wanted = new Map<string, UserLink>();
    for (const [key, objectId] of this.seen) {
      if (!objectId) continue;
      const { skuId, contactId } = splitConsumerKey(key);
      const link = wanted.get(objectId);
      if (link) link.skuIds.push(skuId);
      else wanted.set(objectId, { objectId, contactId, skuIds: [skuId] });
    }
    for (const link of wanted.values()) {
      link.skuIds.sort();
      const stored = state.userLinks.get(link.objectId);
      if (!stored || stored.contactId !== link.contactId || stored.skuIds.join(',') !== link.skuIds.join(','))
        part.userLinks.put.push(link);
    }
    for (const objectId of state.userLinks.keys()) {
      if (!wanted.has(objectId) && inScope(objectId)) part.userLinks.remove.push(objectId);
    }
    return part;
  }

  /** Every license of the portal as the finished plan leaves it (what a snapshot of the day records). */
  finalLicenses(): LicenseRecord[] {
    if (!this.licensesAfter) throw new Error('The reconciliation has not finished.');
    return this.licensesAfter;
  }

  /** Distinct users read so far that hold at least one plan (guests and disabled accounts too). */
  licensedUserCount(): number {
    return this.licensedUsers;
  }

  /** The counts so far (all of them once finished). */
  currentCounts(): RunCounts {
    return this.counts;
  }
}
