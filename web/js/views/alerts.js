// @ts-check
// Alerts: the open ones first by severity, the resolved ones below, the rules with their exclusions, and the
// notification channels with "Send test".
import {
  alerts as alertsApi,
  channels as channelsApi,
  licenses as licensesApi,
  portals as portalsApi,
} from '../api.js';
import { alertBox, badge, button, h, listen, replaceChildren, timeEl, uid } from '../dom.js';
import { ALERT_RULES, CHANNEL_KINDS, CHANNEL_LABELS, RULE_LABELS, SEVERITIES, SEVERITY_LABELS } from '../labels.js';
import { errorBox, pageHeader } from './common.js';

/** @typedef {import('../api.js').Alert} Alert */
/** @typedef {import('../api.js').AlertRulesView} AlertRulesView */
/** @typedef {import('../api.js').Channel} Channel */
/** @typedef {import('../labels.js').AlertRule} AlertRule */

/**
 * @param {Alert[]} items
 * @param {Map<string, string>} portalName
 * @param {string} caption
 */
function alertTable(items, portalName, caption) {
  if (items.length === 0) return h('p', { class: 'muted' }, `No ${caption.toLowerCase()}.`);
  return h(
    'table',
    { class: 'table' },
    h('caption', { class: 'visually-hidden' }, caption),
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        ...['Severity', 'Rule', 'What', 'Portal access', 'Raised', 'Resolved'].map((t) => h('th', null, t)),
      ),
    ),
    h(
      'tbody',
      null,
      ...items.map((alert) => {
        const [text, tone] = SEVERITY_LABELS[alert.severity];
        return h(
          'tr',
          { 'data-alert': alert.id },
          h('td', null, badge(text, alert.state === 'open' ? tone : 'neutral')),
          h('td', null, RULE_LABELS[alert.rule]),
          h('td', null, alert.message),
          h('td', null, portalName.get(alert.portalId) ?? alert.portalId),
          h('td', null, timeEl(alert.raisedAt)),
          h('td', null, alert.resolvedAt ? timeEl(alert.resolvedAt) : '—'),
        );
      }),
    ),
  );
}

/** @param {Alert[]} items */
function bySeverity(items) {
  const rank = (/** @type {Alert} */ a) => SEVERITIES.indexOf(a.severity);
  return [...items].sort((a, b) => rank(a) - rank(b) || b.raisedAt.localeCompare(a.raisedAt));
}

/** The number fields of each rule, with their labels. @type {Partial<Record<AlertRule, [string, string][]>>} */
const RULE_FIELDS = {
  lowStock: [
    ['minFree', 'Free seats below'],
    ['minFreePercent', 'or % of available below'],
  ],
  expiring: [['days', 'Days ahead']],
  inactive: [['minCount', 'Inactive holders from']],
  runFailures: [['consecutive', 'Failed runs in a row']],
  credentialExpiry: [['days', 'Days ahead']],
  rightSize: [['days', 'Days before renewal']],
};

/**
 * A multi-select of exclusions.
 * @param {string} label
 * @param {[value: string, text: string][]} options
 * @param {string[]} selected
 */
function picker(label, options, selected) {
  const id = uid('exclude');
  const select = h('select', { id, multiple: true, size: String(Math.min(6, Math.max(2, options.length))) });
  for (const [value, text] of options) select.append(h('option', { value, selected: selected.includes(value) }, text));
  return { field: h('div', { class: 'field' }, h('label', { for: id }, label), select), select };
}

/**
 * @param {import('../../app.js').ViewContext} ctx
 * @param {AlertRulesView} rules
 * @param {import('../api.js').Portal[]} portals
 * @param {import('../api.js').License[]} licenses
 */
function rulesForm(ctx, rules, portals, licenses) {
  /** @type {Record<string, Record<string, unknown>>} */
  const doc = /** @type {Record<string, Record<string, unknown>>} */ (structuredClone(rules));
  const rows = ALERT_RULES.map((rule) => {
    const current = /** @type {Record<string, unknown>} */ (doc[rule]);
    const enabled = h('input', { type: 'checkbox', id: `rule-${rule}`, checked: Boolean(current.enabled) });
    enabled.addEventListener('change', () => {
      current.enabled = enabled.checked;
    });
    const fields = (RULE_FIELDS[rule] ?? []).map(([field, text]) => {
      const id = `rule-${rule}-${field}`;
      const input = h('input', { id, type: 'number', min: '0', value: String(current[field]), class: 'narrow' });
      input.addEventListener('change', () => {
        current[field] = Number(input.value);
      });
      return h('span', { class: 'inline-field' }, h('label', { for: id }, text), input);
    });
    const why = rules.unavailable[rule];
    return h(
      'div',
      { class: 'rule-row', 'data-rule': rule },
      h('div', { class: 'checkbox-field' }, enabled, h('label', { for: `rule-${rule}` }, RULE_LABELS[rule])),
      ...fields,
      why ? h('p', { class: 'muted rule-unavailable' }, `Inactive: ${why}`) : null,
    );
  });
  const plans = new Map(licenses.map((l) => [l.skuId, l.displayName]));
  const portalPick = picker(
    'Portal accesses',
    portals.map((p) => [p.id, p.name]),
    rules.exclude.portalIds,
  );
  const planPick = picker(
    'Plans',
    [...plans].sort((a, b) => a[1].localeCompare(b[1])),
    rules.exclude.skuIds,
  );
  const licensePick = picker(
    'Licenses',
    licenses.map((l) => [l.id, l.name]),
    rules.exclude.licenseIds,
  );
  const values = (/** @type {HTMLSelectElement} */ select) => Array.from(select.selectedOptions, (o) => o.value);
  const form = h(
    'form',
    { class: 'card', 'aria-label': 'Alert rules', novalidate: true },
    h('h2', null, 'Rules'),
    ...rows,
    h('h3', null, 'Exclusions'),
    h('div', { class: 'exclusions' }, portalPick.field, planPick.field, licensePick.field),
    h(
      'div',
      { class: 'form-actions', 'data-admin': true },
      h('button', { type: 'submit', class: 'btn btn-primary' }, 'Save rules'),
    ),
  );
  listen(form, 'submit', async (event) => {
    event.preventDefault();
    const { unavailable: _unavailable, ...body } = doc;
    body.exclude = {
      portalIds: values(portalPick.select),
      skuIds: values(planPick.select),
      licenseIds: values(licensePick.select),
    };
    try {
      await alertsApi.saveRules(/** @type {import('../api.js').AlertRulesInput} */ (body));
      ctx.toast('Rules saved.', 'success');
      ctx.navigate('#/alerts');
    } catch (error) {
      form.append(errorBox(error, 'The rules were not saved'));
    }
  });
  return form;
}

/**
 * @param {import('../../app.js').ViewContext} ctx
 * @param {Channel[]} list
 */
function channelsCard(ctx, list) {
  const rows = list.map((channel) => {
    const test = button('Send test');
    const remove = button('Delete', { class: 'btn btn-danger' });
    const result = h('div', { 'aria-live': 'polite' });
    listen(test, 'click', async () => {
      test.disabled = true;
      try {
        const outcome = await channelsApi.test(channel.id);
        replaceChildren(
          result,
          outcome.ok
            ? alertBox('success', null, 'The test was delivered.')
            : alertBox('error', 'The test was not delivered', outcome.error ?? 'Unknown error.'),
        );
      } catch (error) {
        replaceChildren(result, errorBox(error));
      } finally {
        test.disabled = false;
      }
    });
    listen(remove, 'click', async () => {
      const { ok } = await ctx.confirm({
        title: `Delete channel "${channel.name}"?`,
        body: ['It gets no more alerts.'],
      });
      if (!ok) return;
      await channelsApi.remove(channel.id);
      ctx.navigate('#/alerts');
    });
    return h(
      'li',
      { class: 'channel', 'data-channel': channel.id },
      h('strong', null, channel.name),
      ' ',
      badge(CHANNEL_LABELS[channel.kind]),
      ' ',
      channel.lastDeliveryAt
        ? h('span', { class: 'muted' }, 'Last delivered ', timeEl(channel.lastDeliveryAt))
        : h('span', { class: 'muted' }, 'Nothing delivered yet'),
      channel.lastError ? alertBox('error', 'Last delivery failed', channel.lastError) : null,
      h('div', { class: 'toolbar', 'data-admin': true }, test, remove),
      result,
    );
  });
  const kind = h(
    'select',
    { id: 'channel-kind' },
    ...CHANNEL_KINDS.map((k) => h('option', { value: k }, CHANNEL_LABELS[k])),
  );
  const name = h('input', { id: 'channel-name', required: true, maxlength: '80' });
  const target = h('input', { id: 'channel-target', required: true, autocomplete: 'off', spellcheck: 'false' });
  const targetLabel = h('label', { for: 'channel-target' }, 'URL (https)');
  const secret = h('input', { id: 'channel-secret', type: 'password', autocomplete: 'off' });
  const secretField = h(
    'div',
    { class: 'field' },
    h('label', { for: 'channel-secret' }, 'Signing secret (optional, 16+ characters)'),
    secret,
  );
  const sync = () => {
    targetLabel.textContent = kind.value === 'email' ? 'Recipients (comma-separated)' : 'URL (https)';
    secretField.hidden = kind.value !== 'webhook';
  };
  kind.addEventListener('change', sync);
  sync();
  const add = h(
    'form',
    { class: 'channel-add', 'data-admin': true, 'aria-label': 'Add a channel', novalidate: true },
    h('h3', null, 'Add a channel'),
    h('div', { class: 'field' }, h('label', { for: 'channel-kind' }, 'Kind'), kind),
    h('div', { class: 'field' }, h('label', { for: 'channel-name' }, 'Name'), name),
    h('div', { class: 'field' }, targetLabel, target),
    secretField,
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Add channel')),
  );
  listen(add, 'submit', async (event) => {
    event.preventDefault();
    /** @type {import('../api.js').ChannelCreate} */
    const body =
      kind.value === 'email'
        ? {
            kind: 'email',
            name: name.value,
            to: target.value
              .split(',')
              .map((t) => t.trim())
              .filter(Boolean),
          }
        : kind.value === 'teams'
          ? { kind: 'teams', name: name.value, url: target.value }
          : {
              kind: 'webhook',
              name: name.value,
              url: target.value,
              ...(secret.value ? { signingSecret: secret.value } : {}),
            };
    try {
      await channelsApi.create(body);
      ctx.toast('Channel added.', 'success');
      ctx.navigate('#/alerts');
    } catch (error) {
      add.append(errorBox(error, 'The channel was not added'));
    }
  });
  return h(
    'section',
    { class: 'card', 'aria-label': 'Notification channels' },
    h('h2', null, 'Notification channels'),
    rows.length ? h('ul', { class: 'channel-list' }, ...rows) : h('p', { class: 'muted' }, 'No channels yet.'),
    add,
  );
}

/** @type {import('../../app.js').View} */
export async function alertsView(ctx) {
  ctx.setTitle('Alerts');
  ctx.root.append(
    pageHeader({
      title: 'Alerts',
      intro: 'Low stock, over-assigned plans, assignment errors and failing syncs. Open alerts first, by severity.',
    }),
  );
  const [open, resolved, rules, list, portals, licenses] = await Promise.all([
    alertsApi.list('open', 1000),
    alertsApi.list('resolved', 50),
    alertsApi.rules(),
    channelsApi.list(),
    portalsApi.list(),
    licensesApi.list(),
  ]);
  if (!ctx.isActive()) return;
  const portalName = new Map(portals.map((p) => [p.id, p.name]));
  ctx.root.append(
    h(
      'section',
      { class: 'card', 'aria-label': 'Open alerts' },
      h('h2', null, `Open (${open.items.length})`),
      alertTable(bySeverity(open.items), portalName, 'Open alerts'),
    ),
    h(
      'section',
      { class: 'card', 'aria-label': 'Resolved alerts' },
      h('h2', null, 'Resolved'),
      alertTable(resolved.items, portalName, 'Resolved alerts'),
    ),
    rulesForm(ctx, rules, portals, licenses),
    channelsCard(ctx, list),
  );
}

/** The open count in the header's badge. */
export async function refreshAlertBadge() {
  const el = document.getElementById('alerts-badge');
  if (!el) return;
  try {
    const { items } = await alertsApi.list('open', 1000);
    // Empty at 0, so the link reads "Alerts".
    el.textContent = items.length ? String(items.length) : '';
    el.hidden = items.length === 0;
    el.setAttribute('aria-label', `${items.length} open alerts`);
  } catch {
    el.hidden = true;
  }
}
