// @ts-check
// Licenses per portal and plan, a chart of available vs assigned, and one license's consumers.
import { ApiError, contacts as contactsApi, licenses as licensesApi, listPath, portals as portalsApi } from '../api.js';
import { alertBox, badge, button, formatNumber, h, listen, replaceChildren, timeEl, uid } from '../dom.js';
import { availableVsAssignedChart } from '../chart.js';
import { downloadLink } from '../download.js';
import { errorBox, errorText, loading, pageHeader } from './common.js';
import { accountFlags, howAssigned } from './preview.js';
import { licenseInsightSections } from './license-insights.js';
import { nextRecommendationCard } from './renewal-card.js';

/** Holder filters the waste view links to: `#/licenses/{id}?holders=inactive`. */
const HOLDER_FILTERS = {
  disabled: { label: 'disabled', test: (/** @type {ConsumerListItem} */ c) => c.assignment?.accountEnabled === false },
  inactive: {
    label: 'inactive',
    test: (/** @type {ConsumerListItem} */ c) => c.inactive === true && c.assignment?.accountEnabled !== false,
  },
  guest: { label: 'guest', test: (/** @type {ConsumerListItem} */ c) => c.assignment?.userType === 'Guest' },
};

/** @typedef {import('../api.js').License} License */
/** @typedef {import('../api.js').ConsumerListItem} ConsumerListItem */
/** @typedef {import('../api.js').Portal} Portal */

const CHART_LIMIT = 15;

/** @param {License} license */
function isOver(license) {
  return Boolean(license.overAssigned) || license.assigned > license.available;
}

/** @param {License} license */
function statusCell(license) {
  const parts = [];
  if (license.status === 'goneFromPortal') parts.push(badge('Gone from portal', 'neutral', license.statusMessage));
  if (license.overAssigned)
    parts.push(badge('Over-assigned', 'error', 'Microsoft reports more consumed units than enabled'));
  else if (license.assigned > license.available) parts.push(badge('More assigned than available', 'error'));
  if (license.capabilityStatus && license.capabilityStatus !== 'Enabled')
    parts.push(badge(license.capabilityStatus, 'warning', 'Status of the subscription at Microsoft'));
  if (parts.length === 0) parts.push(badge('OK', 'success'));
  return parts.flatMap((p) => [p, ' ']);
}

/** @type {import('../../app.js').View} */
export async function licenseListView(ctx) {
  ctx.setTitle('Licenses');
  const { root } = ctx;
  const portalFilter = ctx.query.get('portal') ?? '';
  root.append(
    pageHeader({
      title: 'Licenses',
      intro:
        'One license per portal access and plan. Available and consumed come from Microsoft; assigned counts the consumers linked in the ledger.',
    }),
  );
  const body = h('div');
  root.append(body);
  const done = loading(body, 'Loading licenses…');
  /** @type {License[]} */
  let list;
  /** @type {Portal[]} */
  let portalList;
  try {
    [list, portalList] = await Promise.all([
      licensesApi.list(portalFilter || undefined),
      portalsApi.list().catch(() => /** @type {Portal[]} */ ([])),
    ]);
  } finally {
    done();
  }
  if (!ctx.isActive()) return;
  const portalName = new Map(portalList.map((p) => [p.id, p.name]));

  const selectId = uid('portal-filter');
  const select = h(
    'select',
    { id: selectId },
    h('option', { value: '' }, 'All portal accesses'),
    ...[...portalList].sort((a, b) => a.name.localeCompare(b.name)).map((p) => h('option', { value: p.id }, p.name)),
  );
  select.value = portalFilter;
  select.addEventListener('change', () =>
    ctx.navigate(select.value ? `#/licenses?portal=${encodeURIComponent(select.value)}` : '#/licenses'),
  );
  body.append(
    h(
      'div',
      { class: 'filters' },
      h('div', { class: 'field inline' }, h('label', { for: selectId }, 'Portal access'), select),
    ),
  );

  if (list.length === 0) {
    body.append(
      h(
        'div',
        { class: 'empty card' },
        h('h2', null, 'No licenses yet'),
        h('p', null, 'Licenses appear after the first sync of a portal access.'),
      ),
    );
    return;
  }
  const sorted = [...list].sort(
    (a, b) =>
      (portalName.get(a.portalId) ?? '').localeCompare(portalName.get(b.portalId) ?? '') ||
      a.name.localeCompare(b.name),
  );
  const overCount = sorted.filter(isOver).length;
  if (overCount)
    body.append(
      alertBox(
        'warning',
        `${overCount} ${overCount === 1 ? 'license is' : 'licenses are'} over-assigned`,
        'Highlighted below: more seats are consumed or assigned than are available.',
      ),
    );

  const current = sorted.filter((l) => l.status !== 'goneFromPortal');
  const chartItems = [...current]
    .sort((a, b) => b.available - a.available)
    .slice(0, CHART_LIMIT)
    .map((l) => ({
      label: l.displayName,
      sublabel: portalName.get(l.portalId) ?? undefined,
      available: l.available,
      assigned: l.assigned,
      over: isOver(l),
    }));
  if (chartItems.length) {
    body.append(
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'chart-title' },
        h(
          'div',
          { class: 'card-header' },
          h('h2', { id: 'chart-title' }, 'Available vs assigned per plan'),
          current.length > CHART_LIMIT
            ? h('p', { class: 'muted' }, `The ${CHART_LIMIT} plans with the most seats; all are in the table below.`)
            : null,
        ),
        availableVsAssignedChart(chartItems),
      ),
    );
  }

  const rows = sorted.map((l) =>
    h(
      'tr',
      {
        class: isOver(l) ? 'row-over' : l.status === 'goneFromPortal' ? 'row-muted' : undefined,
        dataset: { licenseId: l.id },
      },
      h('th', { scope: 'row' }, h('a', { href: `#/licenses/${encodeURIComponent(l.id)}` }, l.name)),
      h('td', null, portalName.get(l.portalId) ?? l.portalId),
      h('td', { class: 'mono' }, l.skuPartNumber),
      h('td', { class: 'num' }, formatNumber(l.available)),
      h('td', { class: 'num' }, formatNumber(l.consumedUnits)),
      h('td', { class: 'num' }, formatNumber(l.assigned)),
      h('td', { class: 'num' }, formatNumber(l.warning)),
      h('td', { class: 'num' }, formatNumber(l.suspended)),
      h('td', null, ...statusCell(l)),
    ),
  );
  body.append(
    h(
      'section',
      { class: 'card table-card', 'aria-labelledby': 'license-table-title' },
      h(
        'div',
        { class: 'card-header' },
        h(
          'h2',
          { id: 'license-table-title' },
          'All licenses',
          ' ',
          h('span', { class: 'count' }, formatNumber(sorted.length)),
        ),
        downloadLink(listPath.licenses(portalFilter), 'licenses'),
      ),
      h(
        'div',
        { class: 'table-scroll' },
        h(
          'table',
          { class: 'table', id: 'license-table' },
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              ...[
                ['License'],
                ['Portal access'],
                ['Plan (SKU)'],
                ['Available', 'num'],
                ['Consumed', 'num'],
                ['Assigned', 'num'],
                ['Warning', 'num'],
                ['Suspended', 'num'],
                ['Status'],
              ].map(([t, cls]) => h('th', { scope: 'col', class: cls }, t)),
            ),
          ),
          h('tbody', null, ...rows),
        ),
      ),
    ),
  );
}

/**
 * @param {ConsumerListItem} consumer
 * @param {Map<string, string>} portalName
 */
function ownerText(consumer, portalName) {
  if (consumer.owner.kind === 'sync') return `Sync of ${portalName.get(consumer.owner.portalId) ?? 'a portal access'}`;
  return 'Made by hand';
}

/** @type {import('../../app.js').View} */
export async function licenseDetailView(ctx) {
  const { root, id } = ctx;
  const done = loading(root);
  /** @type {License} */
  let license;
  /** @type {ConsumerListItem[]} */
  let consumers;
  /** Where the next page of consumers starts; undefined once all are shown. @type {string | undefined} */
  let nextToken;
  /** @type {Portal[]} */
  let portalList;
  try {
    /** @type {import('../api.js').Page<ConsumerListItem>} */
    let first;
    [license, first, portalList] = await Promise.all([
      licensesApi.get(id),
      licensesApi.consumers(id),
      portalsApi.list().catch(() => /** @type {Portal[]} */ ([])),
    ]);
    consumers = first.items;
    nextToken = first.continuationToken;
  } finally {
    done();
  }
  if (!ctx.isActive()) return;
  ctx.setTitle(license.name);
  const portalName = new Map(portalList.map((p) => [p.id, p.name]));
  // A sync-owned consumer still linked was last seen by its portal's last successful run.
  const lastSuccess = new Map(portalList.map((p) => [p.id, p.lastSuccessAt]));
  root.append(
    pageHeader({
      title: license.name,
      crumbs: [
        ['Licenses', '#/licenses'],
        [
          portalName.get(license.portalId) ?? license.portalId,
          `#/licenses?portal=${encodeURIComponent(license.portalId)}`,
        ],
        [license.displayName, null],
      ],
      badges: isOver(license) ? [badge('Over-assigned', 'error')] : [],
    }),
  );
  if (license.status === 'goneFromPortal')
    root.append(
      alertBox(
        'info',
        'Gone from the portal',
        license.statusMessage ?? 'The tenant no longer has this plan; available is 0.',
      ),
    );
  /**
   * @param {string} label
   * @param {number} value
   * @param {'error' | 'warning'} [tone]
   */
  const stat = (label, value, tone) =>
    h(
      'div',
      { class: `stat${tone ? ` stat-${tone}` : ''}` },
      h('span', { class: 'stat-value' }, formatNumber(value)),
      h('span', { class: 'stat-label' }, label),
    );
  root.append(
    h(
      'section',
      { class: 'card', 'aria-label': 'Counts' },
      h(
        'div',
        { class: 'stats' },
        stat('Available', license.available),
        stat('Consumed', license.consumedUnits, license.overAssigned ? 'error' : undefined),
        stat('Assigned', license.assigned, license.assigned > license.available ? 'error' : undefined),
        stat('Warning', license.warning, license.warning ? 'warning' : undefined),
        stat('Suspended', license.suspended, license.suspended ? 'warning' : undefined),
        stat('Locked out', license.lockedOut, license.lockedOut ? 'warning' : undefined),
        // Users a group (or an admin) assigned the plan to, without a seat for them (e.g. CountViolation).
        license.failedAssignments ? stat('Failed assignments', license.failedAssignments, 'error') : null,
      ),
      h(
        'p',
        { class: 'muted' },
        `Plan ${license.skuPartNumber} (${license.skuId}) · ${license.appliesTo || 'User'} · Microsoft status: ${license.capabilityStatus || '–'}`,
      ),
    ),
  );

  const consumerSection = h('section', { class: 'card table-card', 'aria-labelledby': 'consumers-title' });
  const holderKey = ctx.query.get('holders');
  const holderFilter =
    holderKey === 'disabled' || holderKey === 'inactive' || holderKey === 'guest'
      ? HOLDER_FILTERS[holderKey]
      : undefined;
  if (holderFilter) {
    consumers = consumers.filter((c) => c.owner.kind === 'sync' && holderFilter.test(c));
    // Under the counts, where a followed "N inactive" link lands: the list itself is below the insight cards.
    root.append(
      alertBox(
        'info',
        `Showing the ${consumers.length} ${holderFilter.label} holder${consumers.length === 1 ? '' : 's'}`,
        h(
          'p',
          null,
          button('Go to them', {
            class: 'btn btn-small',
            onClick: () => consumerSection.scrollIntoView({ block: 'start' }),
          }),
          ' ',
          h('a', { href: `#/licenses/${encodeURIComponent(license.id)}` }, 'Show all consumers'),
        ),
      ),
    );
  }
  // The next right-size recommendation goes right under the subscriptions it is about.
  const [subscriptions, ...insightSections] = licenseInsightSections(ctx, license);
  root.append(...(subscriptions ? [subscriptions] : []), nextRecommendationCard(license), ...insightSections);
  root.append(consumerSection);

  const renderConsumers = () => {
    const rows = consumers.map((c) => {
      const email = c.contact?.email ?? c.assignment?.userPrincipalName;
      const name = c.contact?.displayName;
      return h(
        'tr',
        { dataset: { contactId: c.contactId } },
        h(
          'th',
          { scope: 'row', class: 'contact-cell' },
          name ? h('span', { class: 'contact-name' }, name) : null,
          email && !email.includes('#')
            ? h('a', { href: `#/contacts?email=${encodeURIComponent(email)}` }, email)
            : h('span', { class: email ? undefined : 'mono' }, email ?? c.contactId),
        ),
        h(
          'td',
          null,
          howAssigned(c.assignment),
          c.assignment?.assignedViaGroups.length
            ? h('span', { class: 'muted small', title: c.assignment.assignedViaGroups.join(', ') }, ' (groups)')
            : null,
        ),
        h(
          'td',
          null,
          ...(c.assignment
            ? accountFlags(c.assignment).length
              ? accountFlags(c.assignment).flatMap((b) => [b, ' '])
              : [h('span', { class: 'muted' }, 'Member, enabled')]
            : [h('span', { class: 'muted' }, '–')]),
          c.inactive === true
            ? h(
                'span',
                null,
                ' ',
                badge(
                  c.lastSignInAt ? 'Inactive' : 'Never signed in',
                  'warning',
                  c.lastSignInAt ? `Last sign-in ${c.lastSignInAt}` : 'No sign-in recorded',
                ),
              )
            : null,
        ),
        h(
          'td',
          null,
          c.owner.kind === 'sync' ? badge(ownerText(c, portalName), 'info') : badge('Made by hand', 'neutral'),
        ),
        h('td', null, timeEl(c.firstSeen ?? c.createdAt, 'short')),
        h(
          'td',
          null,
          timeEl(c.lastSeen ?? (c.owner.kind === 'sync' ? lastSuccess.get(c.owner.portalId) : undefined), 'short'),
        ),
        h(
          'td',
          null,
          c.owner.kind === 'manual'
            ? button('Unlink', {
                'data-admin': true,
                class: 'btn btn-small btn-danger-quiet',
                'aria-label': `Unlink ${email ?? c.contactId}`,
                onClick: async () => {
                  const answer = await ctx.confirm({
                    title: `Unlink ${email ?? 'this contact'}?`,
                    body: ['The contact stays; only its link to this license is removed.'],
                    confirmText: 'Unlink',
                  });
                  if (!answer.ok) return;
                  try {
                    await licensesApi.unlink(id, c.contactId);
                    consumers = consumers.filter((x) => x !== c);
                    ctx.toast('Unlinked.', 'success');
                    renderConsumers();
                  } catch (error) {
                    ctx.toast(`Could not unlink: ${errorText(error)}`, 'error');
                  }
                },
              })
            : null,
        ),
      );
    });
    replaceChildren(
      consumerSection,
      h(
        'div',
        { class: 'card-header' },
        h(
          'h2',
          { id: 'consumers-title' },
          'Consumers',
          ' ',
          h(
            'span',
            { class: 'count' },
            nextToken
              ? `${formatNumber(consumers.length)} of ${formatNumber(license.assigned)}`
              : formatNumber(consumers.length),
          ),
        ),
        downloadLink(listPath.consumers(id), 'consumers'),
      ),
      consumers.length === 0
        ? h('p', { class: 'empty-inline' }, 'Nobody is linked to this license.')
        : h(
            'div',
            { class: 'table-scroll' },
            h(
              'table',
              { class: 'table', id: 'consumer-table' },
              h(
                'thead',
                null,
                h(
                  'tr',
                  null,
                  ...['Contact', 'How assigned', 'Account', 'Owner', 'First seen', 'Last seen'].map((t) =>
                    h('th', { scope: 'col' }, t),
                  ),
                  h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')),
                ),
              ),
              h('tbody', null, ...rows),
            ),
          ),
      nextToken ? loadMoreButton() : null,
      (linkFormNode ??= linkForm()),
    );
  };
  /** @type {HTMLFormElement | undefined} */
  let linkFormNode;

  const loadMoreButton = () => {
    const button = h('button', { type: 'button', class: 'btn load-more' }, 'Load more');
    listen(button, 'click', async () => {
      button.disabled = true;
      try {
        const next = await licensesApi.consumers(id, nextToken);
        consumers = [...consumers, ...next.items];
        nextToken = next.continuationToken;
        renderConsumers();
        await addContactDetails(ctx, next.items, renderConsumers);
      } catch (error) {
        button.disabled = false;
        ctx.toast(errorText(error), 'error');
      }
    });
    return h('div', { class: 'load-more-row' }, button);
  };

  const linkForm = () => {
    const inputId = uid('link-email');
    const input = h('input', { id: inputId, type: 'email', required: true, autocomplete: 'off', spellcheck: 'false' });
    const result = h('div', { 'aria-live': 'polite' });
    const form = h(
      'form',
      { 'data-admin': true, class: 'inline-form', novalidate: true },
      h('h3', null, 'Link a contact by hand'),
      h(
        'div',
        { class: 'inline-row' },
        h('div', { class: 'field' }, h('label', { for: inputId }, 'Contact e-mail'), input),
        h('button', { type: 'submit', class: 'btn' }, 'Link contact'),
      ),
      result,
    );
    listen(form, 'submit', async (event) => {
      event.preventDefault();
      const email = input.value.trim();
      if (!email) {
        replaceChildren(result, h('p', { class: 'field-error' }, 'Enter an e-mail address.'));
        input.focus();
        return;
      }
      try {
        const [contact] = await contactsApi.find(email);
        if (!contact) {
          replaceChildren(
            result,
            alertBox(
              'warning',
              null,
              h(
                'p',
                null,
                'No contact holds this address. ',
                h('a', { href: `#/contacts?email=${encodeURIComponent(email)}` }, 'Create it on the Contacts page'),
                '.',
              ),
            ),
          );
          return;
        }
        await licensesApi.link(id, contact.id);
        /** @type {Map<string, NonNullable<ConsumerListItem['contact']>>} */
        const known = new Map();
        for (const c of consumers) if (c.contact) known.set(c.contactId, c.contact);
        known.set(contact.id, contact);
        const first = await licensesApi.consumers(id);
        nextToken = first.continuationToken;
        consumers = first.items.map((c) => ({
          ...c,
          contact: c.contact ?? known.get(c.contactId) ?? null,
        }));
        ctx.toast(`Linked ${contact.email}.`, 'success');
        input.value = '';
        result.replaceChildren();
        renderConsumers();
      } catch (error) {
        replaceChildren(
          result,
          errorBox(error, error instanceof ApiError && error.status === 409 ? 'Already linked' : 'Could not link'),
        );
      }
    });
    return form;
  };
  renderConsumers();
  await addContactDetails(ctx, consumers, renderConsumers);
}

const CONTACT_LOOKUPS = 50;

/**
 * The consumer list names contacts by id; a sync-owned consumer also carries the user's sign-in name, which is
 * one of the contact's addresses. Look a limited number of them up to show the contact's name and e-mail.
 */
/**
 * @param {import('../../app.js').ViewContext} ctx
 * @param {ConsumerListItem[]} consumers
 * @param {() => void} rerender
 */
async function addContactDetails(ctx, consumers, rerender) {
  // Guests' sign-in names (…#EXT#@…) are not e-mail addresses: nothing to look up by.
  const queue = consumers
    .flatMap((consumer) => {
      const upn = consumer.assignment?.userPrincipalName;
      return !consumer.contact && upn && !upn.includes('#') ? [{ consumer, upn }] : [];
    })
    .slice(0, CONTACT_LOOKUPS);
  if (queue.length === 0) return;
  const worker = async () => {
    for (let next = queue.shift(); next && ctx.isActive(); next = queue.shift()) {
      const [contact] = await contactsApi.find(next.upn).catch(() => []);
      if (contact) next.consumer.contact = contact;
    }
  };
  await Promise.all(Array.from({ length: 5 }, worker));
  if (ctx.isActive()) rerender();
}
