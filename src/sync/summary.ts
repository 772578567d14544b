import type { ChangePlan } from '../domain/plan';

/** A dry run's plan of changes in words a person reads: what would be created, changed, removed. */
export interface PlanSummary {
  headline: string;
  lines: string[];
}

const MAX_LINES_PER_KIND = 50;

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

export function summarizePlan(plan: ChangePlan): PlanSummary {
  const c = plan.counts;
  const parts = [
    c.licensesCreated && `${plural(c.licensesCreated, 'license')} to create`,
    c.licensesUpdated && `${plural(c.licensesUpdated, 'license')} to update`,
    c.contactsCreated && `${plural(c.contactsCreated, 'contact')} to create`,
    c.contactsUpdated && `${plural(c.contactsUpdated, 'contact')} to get new aliases`,
    c.consumersAdded && `${plural(c.consumersAdded, 'consumer')} to link`,
    c.consumersUpdated && `${plural(c.consumersUpdated, 'consumer')} to update`,
    c.consumersRemoved && `${plural(c.consumersRemoved, 'consumer')} to unlink`,
    c.conflicts && `${plural(c.conflicts, 'conflict')} to resolve by hand`,
  ].filter(Boolean) as string[];
  const headline = parts.length
    ? `${parts.join(', ')} (read ${plural(c.plansRead, 'plan')} and ${plural(c.usersRead, 'user')}).`
    : `No changes: the ledger matches the tenant (read ${plural(c.plansRead, 'plan')} and ${plural(c.usersRead, 'user')}).`;

  const licenseName = new Map<string, string>();
  for (const l of [...plan.licenses.create, ...plan.licenses.update]) licenseName.set(l.skuId, l.name);
  const contactName = new Map(plan.contacts.create.map((contact) => [contact.id, contact.email]));
  const who = (contactId: string, upn?: string) => upn ?? contactName.get(contactId) ?? contactId;
  const lic = (skuId: string) => licenseName.get(skuId) ?? skuId;

  const lines: string[] = [];
  const add = (items: string[]) => {
    lines.push(...items.slice(0, MAX_LINES_PER_KIND));
    if (items.length > MAX_LINES_PER_KIND) lines.push(`... and ${items.length - MAX_LINES_PER_KIND} more`);
  };
  add(plan.licenses.create.map((l) => `Create license "${l.name}" with ${l.available} available.`));
  add(
    plan.licenses.update.map((l) =>
      l.status === 'goneFromPortal'
        ? `License "${l.name}" is gone from the portal: set available to 0.`
        : `Update license "${l.name}": ${l.available} available, ${l.consumedUnits} consumed, ${l.assigned} assigned.`,
    ),
  );
  add(plan.contacts.create.map((contact) => `Create contact ${contact.displayName} <${contact.email}>.`));
  add(plan.contacts.addAliases.map((a) => `Add ${a.addresses.join(', ')} as aliases of contact ${a.contactId}.`));
  add(plan.consumers.add.map((x) => `Link ${who(x.contactId, x.assignment?.userPrincipalName)} to "${lic(x.skuId)}".`));
  add(
    plan.consumers.update.map(
      (x) => `Update the link of ${who(x.contactId, x.assignment?.userPrincipalName)} to "${lic(x.skuId)}".`,
    ),
  );
  add(
    plan.consumers.remove.map(
      (x) => `Unlink ${who(x.contactId, x.userPrincipalName)} from "${lic(x.skuId)}" (license taken away).`,
    ),
  );
  add(
    plan.conflicts.map(
      (k) =>
        `Conflict: ${k.userPrincipalName} matches ${k.contactIds.length} contacts (${k.addresses.join(', ')}); nothing linked.`,
    ),
  );
  return { headline, lines };
}
