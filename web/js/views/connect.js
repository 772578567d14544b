// @ts-check
import { portals } from '../api.js';
import { alertBox, button, h, listen, uid } from '../dom.js';
import { CLOUD_LABELS, CLOUDS } from '../labels.js';
import { errorText } from './common.js';

/** @typedef {import('../api.js').Portal} Portal */
/** @typedef {import('../labels.js').Cloud} Cloud */

/**
 * "Connect a tenant": a small form (name, cloud) that asks the API for Microsoft's admin-consent page and opens
 * it. The tenant's admin signs in there and accepts; Microsoft then sends the browser back to the app, which
 * creates the portal access (federated: no secret) and shows its page.
 */
/**
 * @param {import('../../app.js').ViewContext} ctx
 * @param {() => Portal[]} [portalsShown] the portal accesses on the page (is the simulated tenant in use?)
 */
export function connectTenant(ctx, portalsShown = () => []) {
  const nameId = uid('connect-name');
  const cloudId = uid('connect-cloud');
  const messages = h('div', { class: 'form-messages' });
  const nameInput = h('input', { id: nameId, name: 'name', required: true, autocomplete: 'off' });
  const cloudSelect = h(
    'select',
    { id: cloudId, name: 'cloud' },
    ...CLOUDS.filter((c) => c !== 'simulated').map((c) => h('option', { value: c }, CLOUD_LABELS[c])),
  );
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Open the consent page');
  const form = h(
    'form',
    { class: 'card connect-form', id: 'connect-form', hidden: true, novalidate: true },
    h('h2', null, 'Connect a tenant'),
    h(
      'p',
      null,
      "An administrator of the tenant signs in on Microsoft's consent page and accepts the app. No secret is created or stored: this app signs in with its managed identity.",
    ),
    h('div', { class: 'field' }, h('label', { for: nameId }, 'Name'), nameInput),
    h('div', { class: 'field' }, h('label', { for: cloudId }, 'Cloud'), cloudSelect),
    messages,
    h(
      'div',
      { class: 'form-actions' },
      submit,
      button('Cancel', {
        type: 'button',
        onClick: () => {
          form.hidden = true;
        },
      }),
    ),
  );
  listen(form, 'submit', async (event) => {
    event.preventDefault();
    messages.replaceChildren();
    const name = nameInput.value.trim();
    if (!name) {
      messages.append(alertBox('error', 'Enter a name for the portal access.'));
      nameInput.focus();
      return;
    }
    submit.disabled = true;
    try {
      // One of the select's options, which are CLOUDS.
      const cloud = /** @type {Cloud} */ (cloudSelect.value);
      const { consentUrl } = await portals.connect({ name, cloud });
      window.location.assign(consentUrl);
    } catch (error) {
      messages.append(alertBox('error', 'The consent page could not be opened', h('p', null, errorText(error))));
      submit.disabled = false;
    }
  });
  const open = button('Connect a tenant', {
    type: 'button',
    id: 'connect-tenant',
    // Starting a connect needs the Admin role: hidden from readers like "Add portal access".
    'data-admin': true,
    onClick: () => {
      // The simulated tenant exists only in local runs; offer it only where one is in use (as the portal form).
      const simulated = portalsShown().some((p) => p.cloud === 'simulated');
      if (simulated && !cloudSelect.querySelector('option[value=simulated]'))
        cloudSelect.append(h('option', { value: 'simulated' }, CLOUD_LABELS.simulated));
      form.hidden = false;
      nameInput.focus();
      if (!ctx.isActive()) form.hidden = true;
    },
  });
  return { button: open, form };
}
