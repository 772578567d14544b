// @ts-check
// Add or edit a portal access. "Save and verify" saves it inactive, signs in to the tenant, and activates it only
// when that worked, so nothing is ever synced with credentials that do not work.
import { ApiError, portals } from '../api.js';
import { alertBox, formatDate, h, listen, plural, uid } from '../dom.js';
import { AUTH_HINTS, AUTH_KINDS, AUTH_LABELS, CLOUD_LABELS, CLOUDS } from '../labels.js';
import { errorText, loading, pageHeader } from './common.js';

/** @typedef {import('../api.js').Portal} Portal */
/** @typedef {import('../labels.js').AuthKind} AuthKind */
/** @typedef {import('../labels.js').Cloud} Cloud */

/**
 * A labelled text field with its help and a place for its error.
 * @param {{ label: string, name: string, type?: string, value?: string, required?: boolean, help?: string,
 *   autocomplete?: string, placeholder?: string, spellcheck?: string, multiline?: boolean, rows?: number }} options
 */
function field({
  label,
  name,
  type = 'text',
  value = '',
  required = false,
  help,
  autocomplete,
  placeholder,
  spellcheck,
  multiline = false,
  rows,
}) {
  const id = uid(`f-${name}`);
  const helpId = help ? `${id}-help` : undefined;
  const errorId = `${id}-error`;
  const control = multiline
    ? h('textarea', {
        id,
        name,
        rows: rows ?? 6,
        required,
        spellcheck: 'false',
        placeholder,
        autocomplete: 'off',
        'aria-describedby': [helpId, errorId].filter(Boolean).join(' '),
      })
    : h('input', {
        id,
        name,
        type,
        required,
        autocomplete,
        placeholder,
        spellcheck,
        'aria-describedby': [helpId, errorId].filter(Boolean).join(' '),
      });
  control.value = value;
  return h(
    'div',
    { class: 'field', dataset: { field: name } },
    h('label', { for: id }, label, required ? h('span', { class: 'required', 'aria-hidden': 'true' }, ' *') : null),
    control,
    help ? h('p', { class: 'help', id: helpId }, help) : null,
    h('p', { class: 'field-error', id: errorId, hidden: true }),
  );
}

/**
 * API field paths (e.g. "auth.clientSecret") to the form's control names.
 * @type {Readonly<Record<string, string>>}
 */
const FIELD_ALIASES = {
  'auth.clientSecret': 'clientSecret',
  'auth.certificate': 'certificate',
  'auth.username': 'username',
  'auth.password': 'password',
  'auth.kind': 'authKind',
  auth: 'authKind',
};

/** @type {import('../../app.js').View} */
export async function portalFormView(ctx) {
  const { root } = ctx;
  let portalId = ctx.id || undefined;
  const done = loading(root);
  /** @type {Portal | undefined} */
  let portal;
  /** @type {Portal[]} */
  let all = [];
  try {
    [portal, all] = await Promise.all([
      portalId ? portals.get(portalId) : undefined,
      portals.list().catch(() => /** @type {Portal[]} */ ([])),
    ]);
  } finally {
    done();
  }
  if (!ctx.isActive()) return;
  const title = portal ? `Edit portal access: ${portal.name}` : 'Add portal access';
  ctx.setTitle(title);
  /** @type {[text: string, href: string | null][]} */
  const crumbs = [['Portal accesses', '#/portals']];
  if (portal) crumbs.push([portal.name, `#/portals/${encodeURIComponent(portal.id)}`]);
  crumbs.push([portal ? 'Edit' : 'Add', null]);
  root.append(pageHeader({ title, crumbs }));

  // The simulated tenant exists only in local runs; offer it only where one is in use.
  const simulated = all.some((p) => p.cloud === 'simulated') || portal?.cloud === 'simulated';
  const clouds = CLOUDS.filter((c) => c !== 'simulated' || simulated);

  const messages = h('div', { class: 'form-messages' });
  const nameField = field({
    label: 'Name',
    name: 'name',
    value: portal?.name,
    required: true,
    help: 'Unique. It prefixes the names of this tenant\'s licenses, e.g. "Contoso - Microsoft 365 E3".',
  });
  const tenantField = field({
    label: 'Tenant',
    name: 'tenantId',
    value: portal?.tenantId,
    required: true,
    spellcheck: 'false',
    help: 'Tenant ID (a GUID) or a verified domain, e.g. contoso.onmicrosoft.com.',
  });
  const clientField = field({
    label: 'Client ID (application ID)',
    name: 'clientId',
    value: portal?.clientId,
    required: true,
    spellcheck: 'false',
    help: "From the app registration's overview page in Entra ID.",
  });
  const cloudId = uid('f-cloud');
  const cloudSelect = h(
    'select',
    { id: cloudId, name: 'cloud' },
    ...clouds.map((c) => h('option', { value: c }, CLOUD_LABELS[c])),
  );
  cloudSelect.value = portal?.cloud ?? 'global';
  const cloudField = h(
    'div',
    { class: 'field', dataset: { field: 'cloud' } },
    h('label', { for: cloudId }, 'Cloud'),
    cloudSelect,
    h('p', { class: 'field-error', hidden: true }),
  );

  /** @param {string} what */
  const secretHelp = (what) =>
    portal?.hasSecret
      ? `A ${what} is stored (set ${formatDate(portal.secretSetAt)}). It is never shown; leave this empty to keep it, or enter a new one to replace it.`
      : `Stored encrypted in the app's secret store. It is never shown again.`;
  const secretPlaceholder = portal?.hasSecret ? 'Stored – leave empty to keep' : undefined;
  /** @type {Record<AuthKind, HTMLDivElement>} */
  const kindFields = {
    clientSecret: h(
      'div',
      { class: 'kind-fields', dataset: { kind: 'clientSecret' } },
      field({
        label: 'Client secret',
        name: 'clientSecret',
        type: 'password',
        autocomplete: 'new-password',
        placeholder: secretPlaceholder,
        help: secretHelp('client secret'),
      }),
      field({
        label: 'Secret expires on (optional)',
        name: 'secretExpiresAt',
        type: 'date',
        value: portal?.authKind === 'clientSecret' ? (portal.credentialExpiresAt ?? '').slice(0, 10) : '',
        help: 'As shown under "Certificates & secrets" in Entra ID; the list turns red 30 days before.',
      }),
    ),
    certificate: h(
      'div',
      { class: 'kind-fields', dataset: { kind: 'certificate' } },
      field({
        label: 'Certificate (PEM with private key)',
        name: 'certificate',
        multiline: true,
        placeholder: secretPlaceholder ?? '-----BEGIN PRIVATE KEY-----\n…\n-----END CERTIFICATE-----',
        help: `Upload the public certificate to the app registration. ${secretHelp('certificate')}`,
      }),
      (() => {
        const id = uid('f-certfile');
        const input = h('input', { id, type: 'file', accept: '.pem,.crt,.cer,.key,.txt' });
        listen(input, 'change', async () => {
          const file = input.files?.[0];
          if (file) control('certificate').value = await file.text();
        });
        return h('div', { class: 'field' }, h('label', { for: id }, 'Or load the PEM from a file'), input);
      })(),
    ),
    password: h(
      'div',
      { class: 'kind-fields', dataset: { kind: 'password' } },
      alertBox(
        'warning',
        'Legacy sign-in',
        "Microsoft is retiring sign-in with a user's e-mail and password for apps, and it cannot work when the account requires multi-factor authentication (MFA), which most tenants enforce. Prefer an app registration with a client secret or certificate.",
      ),
      field({
        label: 'User e-mail',
        name: 'username',
        type: 'email',
        value: portal?.username,
        autocomplete: 'off',
        spellcheck: 'false',
      }),
      field({
        label: 'Password',
        name: 'password',
        type: 'password',
        autocomplete: 'new-password',
        placeholder: secretPlaceholder,
        help: secretHelp('password'),
      }),
    ),
    federated: h(
      'div',
      { class: 'kind-fields', dataset: { kind: 'federated' } },
      h(
        'p',
        { class: 'muted' },
        "No secret: this app signs in with its managed identity to the operator's multi-tenant app, which the tenant's administrator has consented to. Leave the client ID empty to use the configured multi-tenant app (LICENSE_SYNC_MULTITENANT_CLIENT_ID).",
      ),
    ),
  };

  const kindName = uid('kind');
  const kindRadios = AUTH_KINDS.map((kind) => {
    const id = `${kindName}-${kind}`;
    const [hint, tone] = AUTH_HINTS[kind];
    return h(
      'div',
      { class: 'radio' },
      h('input', {
        type: 'radio',
        id,
        name: 'authKind',
        value: kind,
        checked: (portal?.authKind ?? 'clientSecret') === kind,
      }),
      h('label', { for: id }, AUTH_LABELS[kind], ' ', h('span', { class: `badge badge-${tone}` }, hint)),
    );
  });
  const kindFieldset = h(
    'fieldset',
    { class: 'fieldset', dataset: { field: 'authKind' } },
    h('legend', null, 'Credential kind'),
    h('div', { class: 'radios' }, ...kindRadios),
    h('p', { class: 'field-error', hidden: true }),
    ...Object.values(kindFields),
  );

  const activeId = uid('f-active');
  const autoId = uid('f-auto');
  const activeBox = h('input', {
    type: 'checkbox',
    id: activeId,
    name: 'active',
    checked: portal ? portal.active : true,
  });
  const autoBox = h('input', {
    type: 'checkbox',
    id: autoId,
    name: 'autoSync',
    checked: portal ? portal.autoSync : true,
  });
  const activityId = uid('f-activity');
  const activityBox = h('input', {
    type: 'checkbox',
    id: activityId,
    name: 'activity',
    checked: portal?.activity ?? false,
  });
  const inactiveId = uid('f-inactive-days');
  const inactiveInput = h('input', {
    type: 'number',
    id: inactiveId,
    name: 'inactiveDays',
    min: 7,
    max: 365,
    step: 1,
    value: String(portal?.inactiveDays ?? 90),
  });

  const verifyButton = h('button', { type: 'submit', class: 'btn btn-primary', value: 'verify' }, 'Save and verify');
  const saveButton = h('button', { type: 'submit', class: 'btn', value: 'save' }, 'Save without verifying');
  const cancel = h(
    'a',
    { class: 'btn btn-quiet', href: portal ? `#/portals/${encodeURIComponent(portal.id)}` : '#/portals' },
    'Cancel',
  );

  const form = h(
    'form',
    { class: 'card form', novalidate: true, 'aria-labelledby': 'form-title' },
    h('h2', { id: 'form-title', class: 'visually-hidden' }, title),
    h('section', { class: 'form-section' }, h('h3', null, 'Tenant'), nameField, tenantField, clientField, cloudField),
    h('section', { class: 'form-section' }, h('h3', null, 'Credentials'), kindFieldset),
    h(
      'section',
      { class: 'form-section' },
      h('h3', null, 'Sync'),
      h(
        'div',
        { class: 'checkbox-field' },
        activeBox,
        h('label', { for: activeId }, 'Active'),
        h('p', { class: 'help' }, 'A deactivated portal access is never synced; its data and history stay.'),
      ),
      h(
        'div',
        { class: 'checkbox-field' },
        autoBox,
        h('label', { for: autoId }, 'Automatic sync'),
        h('p', { class: 'help' }, 'Include it in the scheduled runs. "Sync now" works either way.'),
      ),
      h(
        'div',
        { class: 'checkbox-field' },
        activityBox,
        h('label', { for: activityId }, 'Sign-in activity'),
        h(
          'p',
          { class: 'help' },
          'Once a day, read when each license holder last signed in and flag the inactive ones. Needs the application permission AuditLog.Read.All and Microsoft Entra ID P1 or P2 in the tenant.',
        ),
      ),
      h(
        'div',
        { class: 'field' },
        h('label', { for: inactiveId }, 'Inactive after (days without a sign-in)'),
        inactiveInput,
        h('p', { class: 'help' }, '7 to 365; 90 unless set.'),
      ),
    ),
    messages,
    h('div', { class: 'form-actions' }, verifyButton, saveButton, cancel),
    h(
      'p',
      { class: 'help form-flow' },
      '"Save and verify" saves the portal access inactive, signs in to the tenant and reads its plans, and activates it only if that works. If it does not, the portal access stays saved but inactive, so nothing is synced, and you can correct it here.',
    ),
  );
  root.append(form);

  /**
   * The text control (input, textarea, select) of the form with this name.
   * @param {string} name
   */
  const control = (name) => {
    const el = form.elements.namedItem(name);
    if (el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement || el instanceof HTMLSelectElement)
      return el;
    throw new Error(`The form has no field "${name}".`);
  };
  const authKind = () =>
    /** @type {AuthKind} */ (/** @type {RadioNodeList} */ (form.elements.namedItem('authKind')).value);

  const showKind = () => {
    const kind = authKind();
    for (const [k, node] of Object.entries(kindFields)) node.hidden = k !== kind;
  };
  form.addEventListener('change', (event) => {
    if (event.target instanceof HTMLInputElement && event.target.name === 'authKind') showKind();
  });
  showKind();

  const clearErrors = () => {
    messages.replaceChildren();
    for (const node of form.querySelectorAll('.field-error')) {
      if (!(node instanceof HTMLElement)) continue;
      node.hidden = true;
      node.textContent = '';
    }
    for (const node of form.querySelectorAll('[aria-invalid]')) node.removeAttribute('aria-invalid');
  };
  /**
   * Shows the message at the field; false when the form shows no such field.
   * @param {string} name
   * @param {string} message
   */
  const setFieldError = (name, message) => {
    const wrap = Array.from(form.querySelectorAll('[data-field]')).find(
      (node) => node instanceof HTMLElement && node.dataset.field === name,
    );
    if (!wrap || wrap.closest('[hidden]')) return false;
    const error = wrap.querySelector('.field-error');
    if (!(error instanceof HTMLElement)) return false;
    error.textContent = message;
    error.hidden = false;
    wrap.querySelector('input:not([type=radio]), select, textarea')?.setAttribute('aria-invalid', 'true');
    return true;
  };
  const focusFirstError = () => {
    const first = form.querySelector('[aria-invalid="true"]') ?? messages.querySelector('.alert');
    if (first instanceof HTMLElement) first.focus();
    if (first && !first.matches('input, select, textarea')) first.scrollIntoView({ block: 'center' });
  };

  const values = () => {
    const v = (/** @type {string} */ name) => control(name).value.trim();
    return {
      name: v('name'),
      tenantId: v('tenantId'),
      clientId: v('clientId'),
      // One of the select's options, which are CLOUDS.
      cloud: /** @type {Cloud} */ (control('cloud').value),
      authKind: authKind(),
      clientSecret: control('clientSecret').value,
      secretExpiresAt: control('secretExpiresAt').value,
      certificate: v('certificate'),
      username: v('username'),
      password: control('password').value,
      active: activeBox.checked,
      autoSync: autoBox.checked,
      activity: activityBox.checked,
      inactiveDays: Number(inactiveInput.value),
    };
  };

  /**
   * Checks what the page can check itself; returns the auth to send (or null to keep the stored one).
   * @param {ReturnType<typeof values>} val
   */
  const validate = (val) => {
    let ok = true;
    /**
     * @param {'name' | 'tenantId' | 'clientId' | 'clientSecret' | 'certificate' | 'username' | 'password'} name
     * @param {string} message
     */
    const need = (name, message) => {
      if (!val[name]) ok = setFieldError(name, message) && false;
    };
    need('name', 'Enter a name.');
    need('tenantId', 'Enter the tenant ID or a verified domain.');
    if (val.authKind !== 'federated') need('clientId', 'Enter the client ID of the app registration.');
    const kindChanged = !portal || portal.authKind !== val.authKind || !portal.hasSecret;
    // The API wants the credential again when the tenant, cloud or app changes; a federated one has nothing to
    // enter, so the page sends it itself.
    const moved =
      portal !== undefined &&
      (val.tenantId.toLowerCase() !== portal.tenantId.toLowerCase() ||
        val.cloud !== portal.cloud ||
        (val.clientId !== '' && val.clientId.toLowerCase() !== portal.clientId.toLowerCase()));
    /** @type {import('../api.js').PortalAuth | null} */
    let auth = null;
    if (val.authKind === 'federated') {
      if (!portal || portal.authKind !== 'federated' || moved) auth = { kind: 'federated' };
    } else if (val.authKind === 'clientSecret') {
      if (val.clientSecret)
        auth = {
          kind: 'clientSecret',
          clientSecret: val.clientSecret,
          ...(val.secretExpiresAt ? { expiresAt: `${val.secretExpiresAt}T00:00:00Z` } : {}),
        };
      else if (kindChanged) need('clientSecret', 'Enter the client secret.');
    } else if (val.authKind === 'certificate') {
      if (val.certificate) {
        if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(val.certificate))
          ok =
            setFieldError(
              'certificate',
              'The PEM must contain the private key ("-----BEGIN PRIVATE KEY-----") and the certificate.',
            ) && false;
        auth = { kind: 'certificate', certificate: val.certificate };
      } else if (kindChanged)
        need('certificate', 'Paste the PEM (certificate and private key) or load it from a file.');
    } else {
      need('username', "Enter the user's e-mail.");
      const usernameChanged = portal !== undefined && portal.username !== val.username;
      if (val.password) auth = { kind: 'password', username: val.username, password: val.password };
      else if (kindChanged || usernameChanged)
        need(
          'password',
          usernameChanged && !kindChanged
            ? 'Enter the password again to change the user e-mail.'
            : 'Enter the password.',
        );
    }
    return { ok, auth };
  };

  /**
   * @param {unknown} error
   * @param {string} title
   */
  const showApiError = (error, title) => {
    const fields = error instanceof ApiError ? (error.fields ?? []) : [];
    const unplaced = [];
    for (const { path, message } of fields) {
      const name = FIELD_ALIASES[path] ?? path;
      if (!setFieldError(name, message)) unplaced.push(`${path}: ${message}`);
    }
    messages.append(
      alertBox(
        'error',
        title,
        h('p', null, errorText(error)),
        unplaced.length ? h('ul', null, ...unplaced.map((t) => h('li', null, t))) : null,
        error instanceof ApiError && !/^http_|network/.test(error.code)
          ? h('p', { class: 'error-code' }, `Error code: ${error.code}`)
          : null,
      ),
    );
    focusFirstError();
  };

  let busy = false;
  listen(form, 'submit', async (event) => {
    event.preventDefault();
    if (busy) return;
    const { submitter } = event;
    const verify = !(submitter instanceof HTMLButtonElement && submitter.value === 'save');
    clearErrors();
    const val = values();
    const { ok, auth } = validate(val);
    if (!ok) {
      messages.append(alertBox('error', 'Check the highlighted fields.'));
      focusFirstError();
      return;
    }
    busy = true;
    verifyButton.disabled = true;
    saveButton.disabled = true;
    const progress = h(
      'p',
      { class: 'loading', role: 'status' },
      h('span', { class: 'spinner', 'aria-hidden': 'true' }),
      verify ? 'Saving…' : 'Saving…',
    );
    messages.append(progress);
    try {
      /** @type {import('../api.js').PortalChange} */
      const body = {
        name: val.name,
        tenantId: val.tenantId,
        ...(val.clientId ? { clientId: val.clientId } : {}),
        cloud: val.cloud,
        autoSync: val.autoSync,
        activity: val.activity,
        inactiveDays: val.inactiveDays,
        active: verify ? false : val.active,
      };
      if (auth) body.auth = auth;
      /** @type {Portal} */
      let saved;
      try {
        saved = portalId
          ? await portals.update(portalId, body)
          : // validate() has made sure a new portal access comes with its credentials.
            await portals.create(/** @type {import('../api.js').PortalCreate} */ (body));
      } catch (error) {
        progress.remove();
        showApiError(error, 'The portal access was not saved');
        return;
      }
      // From here on the portal exists: a second submit changes it instead of adding another one, and the
      // address (reload, back) leads to its edit form.
      if (!portalId) {
        history.replaceState(null, '', `#/portals/${encodeURIComponent(saved.id)}/edit`);
        const heading = root.querySelector('h1');
        if (heading) heading.textContent = `Edit portal access: ${saved.name}`;
        const crumb = root.querySelector('.crumbs [aria-current]');
        if (crumb) crumb.textContent = 'Edit';
        ctx.setTitle(`Edit portal access: ${saved.name}`);
      }
      portalId = saved.id;
      portal = saved;
      form.querySelectorAll('input[type=password]').forEach((input) => {
        if (!(input instanceof HTMLInputElement)) return;
        input.value = '';
        input.placeholder = 'Stored – leave empty to keep';
      });
      control('certificate').value = '';
      if (!verify) {
        ctx.flash(
          alertBox(
            'success',
            `Saved "${saved.name}".`,
            saved.active ? 'It is active.' : 'It is inactive: it is not synced until you activate it.',
          ),
        );
        ctx.navigate(`#/portals/${encodeURIComponent(saved.id)}`);
        return;
      }
      if (progress.lastChild)
        progress.lastChild.textContent = 'Saved as inactive. Signing in to the tenant and reading its plans…';
      /** @type {import('../api.js').VerifyResult} */
      let result;
      try {
        result = await portals.verify(saved.id);
      } catch (error) {
        progress.remove();
        showApiError(error, 'Saved, but the sign-in did not work');
        messages.append(
          alertBox(
            'info',
            null,
            `"${saved.name}" is saved and stays inactive, so nothing is synced with these credentials. Correct them and choose "Save and verify" again.`,
          ),
        );
        return;
      }
      if (val.active) saved = await portals.update(saved.id, { active: true });
      ctx.flash(
        alertBox(
          'success',
          `Verified "${saved.name}"`,
          `Signed in to the tenant and read ${plural(result.plans.length, 'plan')}.`,
          saved.active ? 'The portal access is active.' : 'The portal access is inactive: activate it to sync.',
        ),
      );
      ctx.navigate(`#/portals/${encodeURIComponent(saved.id)}`);
    } catch (error) {
      progress.remove();
      showApiError(error, 'Something went wrong');
    } finally {
      busy = false;
      verifyButton.disabled = false;
      saveButton.disabled = false;
    }
  });
  control('name').focus();
}
