// @ts-check
// Find a contact by any of its addresses; create one by hand.
import { contacts as contactsApi, listPath, portals as portalsApi } from '../api.js';
import { downloadLink } from '../download.js';
import { alertBox, badge, h, listen, replaceChildren, timeEl, uid } from '../dom.js';
import { errorBox, pageHeader } from './common.js';

/**
 * @param {import('../api.js').Contact} contact
 * @param {Map<string, string>} portalName
 */
function contactCard(contact, portalName) {
  const origin =
    contact.origin.kind === 'sync'
      ? `Created by the sync of ${portalName.get(contact.origin.portalId) ?? 'a portal access'}`
      : 'Created by hand';
  return h(
    'article',
    { class: 'card contact-card', 'aria-label': contact.displayName || contact.email },
    h('h2', null, contact.displayName || contact.email),
    h(
      'dl',
      { class: 'props' },
      h('dt', null, 'E-mail'),
      h('dd', null, contact.email),
      h('dt', null, 'Other addresses'),
      h('dd', null, contact.aliases.length ? contact.aliases.join(', ') : h('span', { class: 'muted' }, 'None')),
      h('dt', null, 'Origin'),
      h('dd', null, badge(origin, contact.origin.kind === 'sync' ? 'info' : 'neutral')),
      h('dt', null, 'Created'),
      h('dd', null, timeEl(contact.createdAt)),
      h('dt', null, 'Changed'),
      h('dd', null, timeEl(contact.updatedAt)),
    ),
  );
}

/** @type {import('../../app.js').View} */
export async function contactsView(ctx) {
  ctx.setTitle('Contacts');
  const { root } = ctx;
  root.append(
    pageHeader({
      title: 'Contacts',
      intro:
        'People in the ledger, shared by all portal accesses. Find one by any of its addresses (case does not matter).',
    }),
  );
  const portalName = new Map((await portalsApi.list().catch(() => [])).map((p) => [p.id, p.name]));
  if (!ctx.isActive()) return;

  const searchId = uid('contact-email');
  const input = h('input', {
    id: searchId,
    type: 'search',
    name: 'email',
    autocomplete: 'off',
    spellcheck: 'false',
    placeholder: 'name@contoso.com',
  });
  input.value = ctx.query.get('email') ?? '';
  const results = h('div', { class: 'results', 'aria-live': 'polite' });
  const search = h(
    'form',
    { class: 'card search-form', role: 'search', novalidate: true },
    h(
      'div',
      { class: 'inline-row' },
      h('div', { class: 'field grow' }, h('label', { for: searchId }, 'E-mail address'), input),
      h('button', { type: 'submit', class: 'btn btn-primary' }, 'Search'),
    ),
  );
  root.append(search, results);

  /** @param {string} email */
  const find = async (email) => {
    replaceChildren(
      results,
      h(
        'p',
        { class: 'loading', role: 'status' },
        h('span', { class: 'spinner', 'aria-hidden': 'true' }),
        'Searching…',
      ),
    );
    try {
      const found = await contactsApi.find(email);
      if (!ctx.isActive()) return;
      replaceChildren(
        results,
        found.length
          ? [
              ...found.map((c) => contactCard(c, portalName)),
              h('p', null, downloadLink(listPath.contacts(email), 'contacts')),
            ]
          : alertBox('info', null, h('p', null, 'No contact holds the address ', h('strong', null, email), '.')),
      );
      if (found.length === 0) results.append(createForm(email));
    } catch (error) {
      replaceChildren(results, errorBox(error, 'The search did not work'));
    }
  };

  search.addEventListener('submit', (event) => {
    event.preventDefault();
    const email = input.value.trim();
    if (!email) {
      replaceChildren(
        results,
        h('p', { class: 'field-error', role: 'alert' }, 'Enter an e-mail address to search for.'),
      );
      input.focus();
      return;
    }
    history.replaceState(null, '', `#/contacts?email=${encodeURIComponent(email)}`);
    void find(email);
  });

  /** @param {string} email */
  const createForm = (email) => {
    const emailId = uid('new-email');
    const nameId = uid('new-name');
    const aliasId = uid('new-aliases');
    const emailInput = h('input', { id: emailId, type: 'email', required: true, autocomplete: 'off' });
    emailInput.value = email;
    const nameInput = h('input', { id: nameId, type: 'text', required: true, autocomplete: 'off' });
    const aliasInput = h('input', {
      id: aliasId,
      type: 'text',
      autocomplete: 'off',
      'aria-describedby': `${aliasId}-help`,
    });
    const messages = h('div');
    const form = h(
      'form',
      { 'data-admin': true, class: 'card form', novalidate: true, 'aria-labelledby': 'create-contact-title' },
      h('h2', { id: 'create-contact-title' }, 'Create a contact by hand'),
      h('div', { class: 'field' }, h('label', { for: emailId }, 'E-mail'), emailInput),
      h('div', { class: 'field' }, h('label', { for: nameId }, 'Display name'), nameInput),
      h(
        'div',
        { class: 'field' },
        h('label', { for: aliasId }, 'Other addresses (optional)'),
        aliasInput,
        h('p', { class: 'help', id: `${aliasId}-help` }, 'Separate several with commas.'),
      ),
      messages,
      h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Create contact')),
    );
    listen(form, 'submit', async (event) => {
      event.preventDefault();
      messages.replaceChildren();
      const body = {
        email: emailInput.value.trim(),
        displayName: nameInput.value.trim(),
        aliases: aliasInput.value
          .split(',')
          .map((a) => a.trim())
          .filter(Boolean),
      };
      if (!body.email || !body.displayName) {
        messages.append(alertBox('error', 'Enter the e-mail and the display name.'));
        (body.email ? nameInput : emailInput).focus();
        return;
      }
      try {
        const created = await contactsApi.create(body);
        ctx.toast(`Created the contact ${created.email}.`, 'success');
        input.value = body.email;
        void find(body.email);
      } catch (error) {
        messages.append(errorBox(error, 'The contact was not created'));
      }
    });
    return form;
  };

  if (input.value) await find(input.value);
  else input.focus();
}
