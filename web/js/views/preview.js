// @ts-check
// The dry run: what a sync would create, change and remove, in words. Nothing is written.
import { licenses as licensesApi, portals } from '../api.js';
import { alertBox, badge, button, formatNumber, h, plural } from '../dom.js';
import { countedChanges } from '../labels.js';
import { errorBox, loading, pageHeader, syncNow } from './common.js';

/** @typedef {import('../api.js').Assignment} Assignment */
/** @typedef {import('../api.js').License} License */
/** @typedef {import('../api.js').ChangePlan} ChangePlan */
/** @typedef {import('../api.js').ConsumerListItem} ConsumerListItem */
/** @typedef {ChangePlan['consumers']['update'][number]} ConsumerUpdate */
/**
 * A consumer the plan adds, changes or removes.
 * @typedef {ChangePlan['consumers'][keyof ChangePlan['consumers']][number]} PlannedConsumer
 */

/** @typedef {Exclude<keyof License, 'subscriptions' | 'price'>} ScalarLicenseField */
/** @type {[ScalarLicenseField, string][]} */
const LICENSE_FIELDS = [
  ['available', 'available'],
  ['consumedUnits', 'consumed'],
  ['warning', 'in warning'],
  ['suspended', 'suspended'],
  ['lockedOut', 'locked out'],
  ['capabilityStatus', 'status at Microsoft'],
  ['displayName', 'plan name'],
  ['name', 'name'],
  ['status', 'status'],
  ['nextLifecycleAt', 'next renewal'],
  ['trial', 'trial'],
];

/** @param {Partial<Assignment> | undefined} assignment */
export function howAssigned(assignment) {
  if (!assignment) return 'By hand';
  const groups = assignment.assignedViaGroups?.length ?? 0;
  const via = groups ? `via ${groups === 1 ? 'a group' : `${groups} groups`}` : '';
  if (assignment.assignedDirectly && via) return `Direct and ${via}`;
  if (assignment.assignedDirectly) return 'Direct';
  return via ? via.charAt(0).toUpperCase() + via.slice(1) : '–';
}

/** @param {Assignment | undefined} assignment */
export function accountFlags(assignment) {
  if (!assignment) return [];
  const flags = [];
  if (assignment.userType === 'Guest') flags.push(badge('Guest', 'info'));
  if (assignment.accountEnabled === false) flags.push(badge('Disabled', 'warning'));
  if (assignment.assignmentError && assignment.assignmentError !== 'None')
    flags.push(badge(`Assignment error: ${assignment.assignmentError}`, 'error'));
  return flags;
}

/**
 * @param {ConsumerListItem | undefined} before
 * @param {ConsumerUpdate} after
 */
function consumerChanges(before, after) {
  if (!before) return ['Updated'];
  /** @type {Partial<Assignment>} */
  const a = before.assignment ?? {};
  /** @type {Partial<Assignment>} */
  const b = after.assignment ?? {};
  const out = [];
  if (howAssigned(a) !== howAssigned(b)) out.push(`assigned: ${howAssigned(a)} → ${howAssigned(b)}`);
  if (a.accountEnabled !== b.accountEnabled) out.push(b.accountEnabled ? 'account enabled again' : 'account disabled');
  if (a.userType !== b.userType) out.push(`user type: ${a.userType ?? '–'} → ${b.userType ?? '–'}`);
  if (a.assignmentState !== b.assignmentState)
    out.push(`state: ${a.assignmentState ?? '–'} → ${b.assignmentState ?? '–'}`);
  if (a.assignmentError !== b.assignmentError)
    out.push(`error: ${a.assignmentError ?? '–'} → ${b.assignmentError ?? '–'}`);
  if (a.userPrincipalName !== b.userPrincipalName)
    out.push(`sign-in name: ${a.userPrincipalName ?? '–'} → ${b.userPrincipalName ?? '–'}`);
  return out.length ? out : ['Details updated'];
}

/**
 * A card with a table of one kind of change; nothing when there is none.
 * @param {string} title
 * @param {number} count
 * @param {string[]} headers
 * @param {HTMLTableRowElement[]} rows
 * @param {string} [note]
 */
function section(title, count, headers, rows, note) {
  if (!count) return null;
  const id = `sec-${title.toLowerCase().replace(/[^a-z]+/g, '-')}`;
  return h(
    'section',
    { class: 'card table-card plan-section', 'aria-labelledby': id },
    h(
      'div',
      { class: 'card-header' },
      h('h2', { id }, title, ' ', h('span', { class: 'count' }, formatNumber(count))),
      note ? h('p', { class: 'muted' }, note) : null,
    ),
    h(
      'div',
      { class: 'table-scroll' },
      h(
        'table',
        { class: 'table' },
        h('thead', null, h('tr', null, ...headers.map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', null, ...rows),
      ),
    ),
  );
}

/** @type {import('../../app.js').View} */
export async function previewView(ctx) {
  const { root, id } = ctx;
  const portal = await portals.get(id);
  if (!ctx.isActive()) return;
  ctx.setTitle(`Preview: ${portal.name}`);
  const body = h('div');
  root.append(
    pageHeader({
      title: `Preview: ${portal.name}`,
      crumbs: [
        ['Portal accesses', '#/portals'],
        [portal.name, `#/portals/${encodeURIComponent(portal.id)}`],
        ['Preview', null],
      ],
      intro: 'What a sync would change in the ledger right now. This is a dry run: nothing is written.',
      actions: [
        button('Preview again', { 'data-admin': true, onClick: () => void run() }),
        button('Sync now', {
          'data-admin': true,
          class: 'btn btn-primary',
          disabled: !portal.active,
          title: portal.active ? undefined : 'Activate the portal access to sync it',
          onClick: async () => {
            if ((await syncNow(ctx, portal)) !== undefined) ctx.navigate(`#/portals/${encodeURIComponent(portal.id)}`);
          },
        }),
      ],
    }),
    body,
  );

  const run = async () => {
    body.replaceChildren();
    const done = loading(body, 'Signing in and reading the tenant…');
    /** @type {import('../api.js').SyncPreview} */
    let result;
    /** @type {License[]} */
    let current;
    try {
      [result, current] = await Promise.all([portals.preview(id), licensesApi.list(id).catch(() => [])]);
    } catch (error) {
      done();
      body.append(errorBox(error, 'The preview did not work'));
      return;
    }
    const { plan } = result;
    const licenseById = new Map(current.map((l) => [l.id, l]));
    // Consumers being changed: read their current state, to say what changes.
    const touched = [...new Set(plan.consumers.update.map((c) => c.licenseId))].slice(0, 25);
    /** @type {Map<string, ConsumerListItem>} */
    const currentConsumers = new Map();
    await Promise.all(
      touched.map(async (licenseId) => {
        // The first 1,000 of each: enough to describe the changes a preview lists.
        const page = await licensesApi.consumers(licenseId, undefined, 1000).catch(() => ({ items: [] }));
        for (const c of page.items) currentConsumers.set(`${c.licenseId}|${c.contactId}`, c);
      }),
    );
    done();
    if (!ctx.isActive()) return;
    for (const l of [...plan.licenses.create, ...plan.licenses.update])
      if (!licenseById.has(l.id)) licenseById.set(l.id, l);
    const newContacts = new Map(plan.contacts.create.map((c) => [c.id, c]));
    const licenseName = (/** @type {string} */ licenseId) => licenseById.get(licenseId)?.name ?? licenseId;
    /** @param {PlannedConsumer} consumer */
    const who = (consumer) => {
      const contact = newContacts.get(consumer.contactId);
      const upn =
        ('assignment' in consumer ? consumer.assignment?.userPrincipalName : undefined) ??
        ('userPrincipalName' in consumer ? consumer.userPrincipalName : undefined);
      return h(
        'span',
        null,
        contact?.displayName ? [h('strong', null, contact.displayName), h('br')] : null,
        contact?.email ?? upn ?? consumer.contactId,
      );
    };

    const c = plan.counts;
    // The counts cover every change; a large tenant's plan lists only the first changes of each kind.
    const totals = countedChanges(c, 'planned');
    const nothing = totals.length === 0 && plan.contacts.addAliases.length === 0;
    const read = `Read ${plural(c.plansRead, 'plan')} and ${plural(c.usersRead, 'user')} from the tenant.`;
    const headline = result.summary.headline;
    body.append(
      ...[
        h(
          'section',
          { class: 'card plan-summary', 'aria-labelledby': 'plan-summary-title' },
          h('h2', { id: 'plan-summary-title' }, 'Summary'),
          nothing
            ? alertBox(
                'success',
                'No changes',
                `${read} The ledger already matches it: a sync now would write nothing.`,
              )
            : [
                h('p', { class: 'plan-headline' }, headline || read),
                result.truncated
                  ? h(
                      'p',
                      { class: 'muted' },
                      'The lists below show the first 1,000 changes of each kind; the totals count all of them.',
                    )
                  : null,
                h(
                  'ul',
                  { class: 'totals' },
                  ...totals.map(([n, one, many]) =>
                    h('li', null, h('strong', null, formatNumber(n)), ` ${n === 1 ? one : many}`),
                  ),
                ),
              ],
        ),
        section(
          'Licenses to create',
          plan.licenses.create.length,
          ['License', 'Plan', 'Available', 'Consumed'],
          plan.licenses.create.map((l) =>
            h(
              'tr',
              null,
              h('td', null, l.name),
              h('td', { class: 'mono' }, l.skuPartNumber),
              h('td', { class: 'num' }, formatNumber(l.available)),
              h('td', { class: 'num' }, formatNumber(l.consumedUnits)),
            ),
          ),
        ),
        section(
          'Licenses to change',
          plan.licenses.update.length,
          ['License', 'What changes'],
          plan.licenses.update.map((l) => {
            const before = current.find((x) => x.id === l.id);
            const changes = before
              ? LICENSE_FIELDS.filter(([k]) => before[k] !== l[k]).map(
                  ([k, label]) => `${label}: ${before[k]} → ${l[k]}`,
                )
              : [];
            if (l.status === 'goneFromPortal' && before?.status !== 'goneFromPortal')
              changes.unshift('no longer in the tenant: available becomes 0');
            return h(
              'tr',
              null,
              h('td', null, l.name),
              h(
                'td',
                null,
                changes.length ? h('ul', { class: 'plain' }, ...changes.map((t) => h('li', null, t))) : 'Updated',
              ),
            );
          }),
        ),
        section(
          'Contacts to create',
          plan.contacts.create.length,
          ['Name', 'E-mail', 'Other addresses'],
          plan.contacts.create.map((ct) =>
            h(
              'tr',
              null,
              h('td', null, ct.displayName),
              h('td', null, ct.email),
              h('td', null, ct.aliases.length ? ct.aliases.join(', ') : h('span', { class: 'muted' }, '–')),
            ),
          ),
        ),
        section(
          'Addresses to add to existing contacts',
          plan.contacts.addAliases.length,
          ['Contact', 'New addresses'],
          plan.contacts.addAliases.map((a) =>
            h('tr', null, h('td', { class: 'mono' }, a.contactId), h('td', null, a.addresses.join(', '))),
          ),
          'A user got a new address; the contact keeps its links and gains the address as an alias.',
        ),
        section(
          'Consumers to add',
          plan.consumers.add.length,
          ['User', 'License', 'How assigned', 'Account'],
          plan.consumers.add.map((cn) =>
            h(
              'tr',
              null,
              h('td', null, who(cn)),
              h('td', null, licenseName(cn.licenseId)),
              h('td', null, howAssigned(cn.assignment)),
              h('td', null, ...accountFlags(cn.assignment)),
            ),
          ),
        ),
        section(
          'Consumers to change',
          plan.consumers.update.length,
          ['User', 'License', 'What changes'],
          plan.consumers.update.map((cn) =>
            h(
              'tr',
              null,
              h('td', null, who(cn)),
              h('td', null, licenseName(cn.licenseId)),
              h(
                'td',
                null,
                h(
                  'ul',
                  { class: 'plain' },
                  ...consumerChanges(currentConsumers.get(`${cn.licenseId}|${cn.contactId}`), cn).map((t) =>
                    h('li', null, t),
                  ),
                ),
              ),
            ),
          ),
        ),
        section(
          'Consumers to remove',
          plan.consumers.remove.length,
          ['User', 'License', 'Why'],
          plan.consumers.remove.map((cn) =>
            h(
              'tr',
              null,
              h('td', null, who(cn)),
              h('td', null, licenseName(cn.licenseId)),
              h('td', null, 'No longer holds this plan in the tenant'),
            ),
          ),
          "Only links this portal's sync made are removed; links made by hand are never touched.",
        ),
        section(
          'Conflicts',
          plan.conflicts.length,
          ['User', 'Addresses', 'Why'],
          plan.conflicts.map((cf) =>
            h(
              'tr',
              null,
              h('td', null, cf.userPrincipalName),
              h('td', null, cf.addresses.join(', ')),
              h(
                'td',
                null,
                `${cf.contactIds.length} contacts hold these addresses: nothing is linked or created for this user until only one does.`,
              ),
            ),
          ),
          'Merge or correct the contacts so that each address belongs to one contact.',
        ),
      ].filter((node) => node !== null),
    );
    body.querySelector('h2')?.focus();
  };
  await run();
}
