import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_SCHEDULE, DEFAULT_SKU_NAMES_URL, loadSettings } from '../src/config/settings';
import { BLOB_CONTAINER, poisonQueueName } from '../src/storage/clients';

/**
 * No Bicep CLI runs here, so the templates are never compiled or deployed by CI. This reads infra/main.bicep as
 * text and checks what the code and Azure's guidance for a function app holding credentials demand of it.
 */

const root = path.resolve(__dirname, '..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');

// ---------------------------------------------------------------------------------------------------------------
// A small reader for Bicep text: strings (with ${} interpolation and ''' multi-line), comments, braces.
// ---------------------------------------------------------------------------------------------------------------

/** Index just past the string literal that opens at `start`. */
function skipString(text: string, start: number): number {
  if (text.startsWith("'''", start)) {
    const end = text.indexOf("'''", start + 3);
    if (end < 0) throw new Error(`unterminated ''' string at ${start}`);
    return end + 3;
  }
  let i = start + 1;
  while (i < text.length) {
    const c = text[i];
    if (c === '\\') i += 2;
    else if (c === "'") return i + 1;
    else if (c === '$' && text[i + 1] === '{') i = skipNested(text, i + 2, '{', '}');
    else i += 1;
  }
  throw new Error(`unterminated string at ${start}`);
}

/** Index just past the `close` that matches an `open` already passed (strings are skipped, not counted). */
function skipNested(text: string, from: number, open: string, close: string): number {
  let depth = 1;
  let i = from;
  while (i < text.length) {
    const c = text[i];
    if (c === "'") {
      i = skipString(text, i);
      continue;
    }
    if (c === open) depth += 1;
    else if (c === close && (depth -= 1) === 0) return i + 1;
    i += 1;
  }
  throw new Error(`no matching ${close} for the ${open} before ${from}`);
}

/** The text with comments removed and, if `blank` is set, every string literal replaced by ''. */
function clean(text: string, blank = false): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    if (text[i] === "'") {
      const end = skipString(text, i);
      out += blank ? "''" : text.slice(i, end);
      i = end;
    } else if (text.startsWith('//', i)) {
      const end = text.indexOf('\n', i);
      i = end < 0 ? text.length : end;
    } else if (text.startsWith('/*', i)) {
      i = text.indexOf('*/', i) + 2;
    } else {
      out += text[i];
      i += 1;
    }
  }
  return out;
}

interface BicepResource {
  symbol: string;
  type: string;
  apiVersion: string;
  /** The body between (and without) the outer braces, comments removed. */
  body: string;
}

function resourcesOf(bicep: string): BicepResource[] {
  const found: BicepResource[] = [];
  const header = /^resource\s+(\w+)\s+'([^'@]+)@([^']+)'\s*=\s*(?:if\s*\([^\n]*\)\s*)?\{/gm;
  for (let match = header.exec(bicep); match; match = header.exec(bicep)) {
    const open = match.index + match[0].length;
    const end = skipNested(bicep, open, '{', '}');
    found.push({ symbol: match[1]!, type: match[2]!, apiVersion: match[3]!, body: bicep.slice(open, end - 1) });
  }
  return found;
}

/** The expression text of `var name = ...` (up to the end of its brackets, or of its line). */
function varExpression(bicep: string, name: string): string {
  const match = new RegExp(`^var\\s+${name}\\s*=\\s*`, 'm').exec(bicep);
  if (!match) throw new Error(`no var ${name}`);
  const start = match.index + match[0].length;
  const lineEnd = bicep.indexOf('\n', start);
  const line = bicep.slice(start, lineEnd);
  const opener = /[({[]\s*$/.exec(line);
  if (!opener) return line.trim();
  const open = opener[0].trim();
  const close = open === '(' ? ')' : open === '{' ? '}' : ']';
  const end = skipNested(bicep, start + opener.index + 1, open, close);
  return bicep.slice(start, end);
}

/** Keys of the object literals in an expression (its strings blanked first, so no URL reads as a key). */
function objectKeys(expression: string): Set<string> {
  const keys = new Set<string>();
  const text = clean(expression, true);
  for (const match of text.matchAll(/(?:^|[{,\s])([A-Za-z_][A-Za-z0-9_]*)\s*:/gm)) keys.add(match[1]!);
  return keys;
}

function propertyValue(body: string, name: string): string | undefined {
  return new RegExp(`(?:^|[{\\s])${name}\\s*:\\s*([^\\n]+)`, 'm').exec(body)?.[1]?.trim();
}

function paramDefault(bicep: string, name: string): string | undefined {
  const match = new RegExp(`^param\\s+${name}\\s+\\w+\\s*=\\s*'([^']*)'`, 'm').exec(bicep);
  return match?.[1];
}

const rawBicep = read('infra/main.bicep');
const bicep = clean(rawBicep);
const resources = resourcesOf(bicep);

function onlyResource(type: string): BicepResource {
  const matches = resources.filter((r) => r.type.toLowerCase() === type.toLowerCase());
  if (matches.length !== 1) throw new Error(`expected one ${type}, found ${matches.length}`);
  return matches[0]!;
}

function functionAppSettings(): { expression: string; keys: Set<string> } {
  const config = resources.filter(
    (r) => r.type === 'Microsoft.Web/sites/config' && /name:\s*'appsettings'/.test(r.body),
  );
  expect(config).toHaveLength(1);
  const properties = propertyValue(config[0]!.body, 'properties')!;
  const expression = /^\w+$/.test(properties) ? varExpression(bicep, properties) : properties;
  return { expression, keys: objectKeys(expression) };
}

// ---------------------------------------------------------------------------------------------------------------
// What the code reads
// ---------------------------------------------------------------------------------------------------------------

/** Settings the code reads that Azure must not (or need not) get, and why. */
const NOT_IN_AZURE: Record<string, string> = {
  AzureWebJobsStorage: 'the connection-string form; Azure uses the identity-based AzureWebJobsStorage__* settings',
  LICENSE_SYNC_DEMO: 'local runs only (the demo portal)',
  LICENSE_SYNC_DATA_DIR: 'local runs only (Azurite data, local secret store)',
  PORT: 'local runs only (HTTP port of the local host)',
  WEBSITE_INSTANCE_ID: 'set by the platform itself (it tells the code it runs in Azure)',
};

/** Settings the platform sets on every instance (App Service / Functions), which infra must not set. */
const SET_BY_THE_PLATFORM = ['WEBSITE_HOSTNAME', 'WEBSITE_INSTANCE_ID', 'IDENTITY_ENDPOINT', 'IDENTITY_HEADER'];

/** Settings the Functions host (not our code) reads, which the app needs all the same. */
// NODE_OPTIONS is read by node itself: it caps the worker's heap to fit the instance's memory.
const READ_BY_THE_HOST = [
  'AzureWebJobsStorage__credential',
  'APPLICATIONINSIGHTS_CONNECTION_STRING',
  'APPLICATIONINSIGHTS_AUTHENTICATION_STRING',
  'NODE_OPTIONS',
];

function sourceFiles(dir: string): string[] {
  const full = path.join(root, dir);
  if (!existsSync(full)) return [];
  return readdirSync(full).flatMap((entry) => {
    const relative = path.join(dir, entry);
    if (statSync(path.join(root, relative)).isDirectory()) return sourceFiles(relative);
    return /\.ts$/.test(entry) && !/\.test\.ts$/.test(entry) ? [relative] : [];
  });
}

/** The env schema's keys in src/config/settings.ts, and every process.env.X read elsewhere in src/ and functions/. */
function settingsTheCodeReads(): Set<string> {
  const settingsSource = read('src/config/settings.ts');
  const start = settingsSource.indexOf('const envSchema = z.object({');
  expect(start).toBeGreaterThan(-1);
  const open = settingsSource.indexOf('{', start);
  const schema = settingsSource.slice(open + 1, skipNested(settingsSource, open + 1, '{', '}') - 1);
  const names = new Set([...schema.matchAll(/^\s*([A-Za-z_][A-Za-z0-9_]*)\s*:/gm)].map((m) => m[1]!));
  // The secretless-tenant settings, spread into the schema from src/config/federation.ts.
  expect(schema).toContain('...federationEnv');
  const federationSource = clean(read('src/config/federation.ts'));
  const fedOpen = federationSource.indexOf('{', federationSource.indexOf('export const federationEnv = {'));
  const federation = federationSource.slice(fedOpen + 1, skipNested(federationSource, fedOpen + 1, '{', '}') - 1);
  for (const m of federation.matchAll(/^\s*([A-Za-z_][A-Za-z0-9_]*)\s*:/gm)) names.add(m[1]!);
  // The local host (src/local) never runs in Azure.
  const files = [...sourceFiles('src'), ...sourceFiles('functions')].filter(
    (file) => !file.startsWith(path.join('src', 'local')),
  );
  for (const file of files) {
    for (const m of read(file).matchAll(/process\.env(?:\.([A-Za-z_][A-Za-z0-9_]*)|\[\s*['"]([^'"]+)['"]\s*\])/g)) {
      names.add((m[1] ?? m[2])!);
    }
  }
  return names;
}

// ---------------------------------------------------------------------------------------------------------------

describe('infra/main.bicep app settings', () => {
  it('sets every setting the code reads in Azure, so a new setting in the code fails here until infra sets it', () => {
    const codeReads = settingsTheCodeReads();
    // The schema was found and parsed (not silently empty).
    for (const name of ['LICENSE_SYNC_SCHEDULE', 'LICENSE_SYNC_KEY_VAULT_URL', 'AZURE_CLIENT_ID', 'PORT'])
      expect(codeReads).toContain(name);
    expect(codeReads).toContain('LICENSE_SYNC_FEDERATION_IDENTITY_CLIENT_ID');
    const needed = [...codeReads]
      .filter((name) => !(name in NOT_IN_AZURE) && !SET_BY_THE_PLATFORM.includes(name))
      .concat(READ_BY_THE_HOST);
    const { keys } = functionAppSettings();
    expect(needed.filter((name) => !keys.has(name))).toEqual([]);
    expect(SET_BY_THE_PLATFORM.filter((name) => keys.has(name))).toEqual([]);
  });

  it("lets the multi-tenant app's federated credential trust the app's user-assigned identity, and says what to put in", () => {
    const { expression } = functionAppSettings();
    expect(expression).toMatch(/LICENSE_SYNC_FEDERATION_IDENTITY_CLIENT_ID:\s*appIdentity\.properties\.clientId/);
    expect(expression).toMatch(/LICENSE_SYNC_FEDERATION_IDENTITY_OBJECT_ID:\s*appIdentity\.properties\.principalId/);
    expect(bicep).toMatch(/^output AZURE_MANAGED_IDENTITY_CLIENT_ID string = appIdentity\.properties\.clientId$/m);
    expect(bicep).toMatch(
      /^output AZURE_MANAGED_IDENTITY_PRINCIPAL_ID string = appIdentity\.properties\.principalId$/m,
    );
    expect(bicep).toMatch(/^output FEDERATED_CREDENTIAL_ISSUER string = .*tenant\(\)\.tenantId\}\/v2\.0'$/m);
    expect(bicep).toMatch(/^output CONSENT_REDIRECT_URI string = .*\/api\/consent\/callback'$/m);
  });

  it('sets nothing the code and the host do not read', () => {
    const known = new Set([...settingsTheCodeReads(), ...READ_BY_THE_HOST]);
    const { keys } = functionAppSettings();
    expect([...keys].filter((name) => !known.has(name))).toEqual([]);
  });

  it('reaches storage through the user-assigned identity, never a connection string or account key', () => {
    const { expression, keys } = functionAppSettings();
    expect(keys.has('AzureWebJobsStorage')).toBe(false);
    expect(expression).toMatch(/AzureWebJobsStorage__credential:\s*'managedidentity'/);
    expect(expression).toMatch(/AzureWebJobsStorage__clientId:\s*appIdentity\.properties\.clientId/);
    expect(expression).toMatch(/AZURE_CLIENT_ID:\s*appIdentity\.properties\.clientId/);
    expect(expression).toMatch(
      /APPLICATIONINSIGHTS_AUTHENTICATION_STRING:\s*'ClientId=\$\{appIdentity\.properties\.clientId\};Authorization=AAD'/,
    );
    expect(bicep).not.toMatch(/listKeys\s*\(|AccountKey=|SharedAccessSignature/i);
  });

  it('leaves the optional overrides unset unless a parameter gives them, since an empty value is invalid', () => {
    const { expression } = functionAppSettings();
    for (const [name, param] of [
      ['LICENSE_SYNC_TABLE_PREFIX', 'tablePrefix'],
      ['LICENSE_SYNC_AUTHORITY_HOST', 'authorityHostOverride'],
      ['LICENSE_SYNC_GRAPH_ENDPOINT', 'graphEndpointOverride'],
      ['LICENSE_SYNC_MULTITENANT_CLIENT_ID', 'multitenantClientId'],
      ['LICENSE_SYNC_PUBLIC_URL', 'publicUrl'],
    ] as const) {
      expect(expression).toMatch(
        new RegExp(`empty\\(${param}\\)\\s*\\?\\s*\\{\\}\\s*:\\s*\\{\\s*${name}:\\s*${param}\\s*\\}`),
      );
      expect(paramDefault(bicep, param)).toBe('');
    }
  });

  it('defaults the schedule and product-names address to the code defaults and uses the code queue and container names', () => {
    expect(paramDefault(bicep, 'syncSchedule')).toBe(DEFAULT_SCHEDULE);
    expect(paramDefault(bicep, 'skuNamesUrl')).toBe(DEFAULT_SKU_NAMES_URL);
    const { queueName } = loadSettings({});
    expect(varExpression(bicep, 'runQueueName')).toBe(`'${queueName}'`);
    expect(varExpression(bicep, 'blobContainerName')).toBe(`'${BLOB_CONTAINER}'`);
    const queues = resources.filter((r) => r.type === 'Microsoft.Storage/storageAccounts/queueServices/queues');
    const queueNames = queues.map((q) => propertyValue(q.body, 'name')).sort();
    expect(queueNames).toEqual(["'${runQueueName}-poison'", 'runQueueName']);
    expect(poisonQueueName(queueName)).toBe(`${queueName}-poison`);
  });
});

describe('infra/main.bicep role assignments', () => {
  /** Built-in role definition ids (the same in every tenant) the app's identity needs, and where. */
  const NEEDED_ROLES: Record<string, { name: string; scope: string }> = {
    'b7e6dc6d-f1e8-4753-8033-0f276bb0955b': {
      name: 'Storage Blob Data Owner',
      scope: 'Microsoft.Storage/storageAccounts',
    },
    '974c5e8b-45b9-4653-ba55-5f855dd0fb88': {
      name: 'Storage Queue Data Contributor',
      scope: 'Microsoft.Storage/storageAccounts',
    },
    '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3': {
      name: 'Storage Table Data Contributor',
      scope: 'Microsoft.Storage/storageAccounts',
    },
    'b86a8fe4-44ce-4948-aee5-eccb2c155cd7': { name: 'Key Vault Secrets Officer', scope: 'Microsoft.KeyVault/vaults' },
    '3913510d-42f4-4e42-8a64-420c390055eb': {
      name: 'Monitoring Metrics Publisher',
      scope: 'Microsoft.Insights/components',
    },
  };

  const roleTable = varExpression(bicep, 'roles');
  const guidOf = (expression: string): string => {
    const literal = /'([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})'/i.exec(expression);
    if (literal) return literal[1]!.toLowerCase();
    const reference = /roles\.(\w+)/.exec(expression);
    if (!reference) throw new Error(`cannot resolve the role in ${expression}`);
    const entry = new RegExp(`\\b${reference[1]}:\\s*'([0-9a-f-]{36})'`, 'i').exec(roleTable);
    if (!entry) throw new Error(`roles.${reference[1]} is not in var roles`);
    return entry[1]!.toLowerCase();
  };
  const assignments = resources.filter((r) => r.type === 'Microsoft.Authorization/roleAssignments');

  it('assigns exactly the roles the code needs, each once, and no other', () => {
    const assigned = assignments.map((a) => guidOf(propertyValue(a.body, 'roleDefinitionId')!)).sort();
    expect(assigned.map((id) => NEEDED_ROLES[id]?.name ?? `unexpected role ${id}`)).toEqual(
      Object.keys(NEEDED_ROLES)
        .sort()
        .map((id) => NEEDED_ROLES[id]!.name),
    );
    // No role id hides elsewhere (a loop, a module): every GUID in the template is one of the needed roles.
    const withoutUrls = bicep.replace(/https?:\/\/[^'\s]+/g, '');
    const guids = new Set(
      [...withoutUrls.matchAll(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi)].map((m) =>
        m[0].toLowerCase(),
      ),
    );
    expect([...guids].filter((id) => !(id in NEEDED_ROLES))).toEqual([]);
  });

  it('grants each role to the app identity on the resource that needs it, not the resource group', () => {
    const identity = onlyResource('Microsoft.ManagedIdentity/userAssignedIdentities');
    for (const assignment of assignments) {
      const id = guidOf(propertyValue(assignment.body, 'roleDefinitionId')!);
      expect(propertyValue(assignment.body, 'principalId')).toBe(`${identity.symbol}.properties.principalId`);
      expect(propertyValue(assignment.body, 'principalType')).toBe("'ServicePrincipal'");
      const scopeSymbol = propertyValue(assignment.body, 'scope');
      const scoped = resources.find((r) => r.symbol === scopeSymbol);
      expect(scoped?.type).toBe(NEEDED_ROLES[id]!.scope);
    }
  });
});

describe('infra/main.bicep sign-in (App Service Authentication)', () => {
  const auth = () => {
    const found = resources.filter(
      (r) => r.type === 'Microsoft.Web/sites/config' && propertyValue(r.body, 'name') === "'authsettingsV2'",
    );
    expect(found).toHaveLength(1);
    return found[0]!;
  };

  it('requires authentication for every request but the consent callback, and sends browsers to sign in', () => {
    expect(bicep).toMatch(/resource authSettings '[^']+' = \{/);
    expect(auth().body).toMatch(/platform:\s*\{\s*enabled:\s*true\s*\}/);
    expect(auth().body).toMatch(/requireAuthentication:\s*true/);
    expect(auth().body).toMatch(/unauthenticatedClientAction:\s*'RedirectToLoginPage'/);
    // Only the page Microsoft's consent sends a customer's admin back to (guarded by its single-use state).
    const excluded = /excludedPaths:\s*\[([^\]]*)\]/.exec(auth().body);
    expect(excluded?.[1]?.trim().split(/\s+/)).toEqual(["'/api/consent/callback'"]);
    expect(auth().body.match(/excludedPaths/g)).toHaveLength(1);
  });

  it('signs in with Entra ID for the client id parameter, its audiences and extra ones, with the token store off', () => {
    expect(auth().body).toMatch(/azureActiveDirectory:\s*\{\s*enabled:\s*true/);
    expect(auth().body).toMatch(/clientId:\s*authClientId/);
    expect(auth().body).toMatch(
      /allowedAudiences:\s*union\(\[authClientId, 'api:\/\/\$\{authClientId\}'\], authAllowedAudiences\)/,
    );
    expect(auth().body).toMatch(/tokenStore:\s*\{\s*enabled:\s*false\s*\}/);
    expect(paramDefault(bicep, 'authClientId')).toBeUndefined();
  });

  it('tells the app to authorize from the platform principal (LICENSE_SYNC_AUTH=easyauth)', () => {
    expect(functionAppSettings().expression).toMatch(/LICENSE_SYNC_AUTH:\s*'easyauth'/);
    expect(
      loadSettings({ WEBSITE_INSTANCE_ID: 'x', LICENSE_SYNC_AUTH: 'easyauth', AzureWebJobsStorage: 'x' }).auth,
    ).toBe('easyauth');
  });
});

describe('infra/main.bicep hardening', () => {
  it('turns shared-key access, public blob access and old TLS off on storage', () => {
    const storage = onlyResource('Microsoft.Storage/storageAccounts');
    expect(storage.body).toMatch(/allowSharedKeyAccess:\s*false/);
    expect(storage.body).toMatch(/allowBlobPublicAccess:\s*false/);
    expect(storage.body).toMatch(/supportsHttpsTrafficOnly:\s*true/);
    expect(storage.body).toMatch(/minimumTlsVersion:\s*'TLS1_2'/);
  });

  it('serves the function app over HTTPS only, TLS 1.2 at least, with FTP and basic-auth publishing off', () => {
    const site = onlyResource('Microsoft.Web/sites');
    expect(site.body).toMatch(/httpsOnly:\s*true/);
    expect(site.body).toMatch(/\bminTlsVersion:\s*'1\.2'/);
    expect(site.body).toMatch(/scmMinTlsVersion:\s*'1\.2'/);
    expect(site.body).toMatch(/ftpsState:\s*'Disabled'/);
    const policies = resources.filter((r) => r.type === 'Microsoft.Web/sites/basicPublishingCredentialsPolicies');
    expect(policies.map((p) => propertyValue(p.body, 'name')).sort()).toEqual(["'ftp'", "'scm'"]);
    for (const policy of policies) expect(policy.body).toMatch(/allow:\s*false/);
  });

  it('runs on Flex Consumption with Node 22, the user-assigned identity and an identity-read deployment container', () => {
    const plan = onlyResource('Microsoft.Web/serverfarms');
    expect(plan.body).toMatch(/name:\s*'FC1'/);
    expect(plan.body).toMatch(/tier:\s*'FlexConsumption'/);
    const site = onlyResource('Microsoft.Web/sites');
    expect(site.apiVersion >= '2023-12-01').toBe(true);
    expect(site.body).toMatch(/kind:\s*'functionapp,linux'/);
    expect(site.body).toMatch(/type:\s*'UserAssigned'/);
    expect(site.body).toMatch(/runtime:\s*\{\s*name:\s*'node'\s*version:\s*'22'\s*\}/);
    expect(site.body).toMatch(/authentication:\s*\{\s*type:\s*'UserAssignedIdentity'/);
    expect(site.body).toMatch(/'azd-service-name':\s*'api'/);
  });

  it('keeps portal secrets in a Key Vault with RBAC authorization, soft delete and purge protection', () => {
    const vault = onlyResource('Microsoft.KeyVault/vaults');
    expect(vault.body).toMatch(/enableRbacAuthorization:\s*true/);
    expect(vault.body).toMatch(/enableSoftDelete:\s*true/);
    expect(vault.body).toMatch(/enablePurgeProtection:\s*true/);
    expect(vault.body).not.toMatch(/accessPolicies/);
  });

  it('sends telemetry to a workspace-based Application Insights that accepts Entra ID only', () => {
    const insights = onlyResource('Microsoft.Insights/components');
    expect(insights.body).toMatch(/WorkspaceResourceId:\s*\w+\.id/);
    expect(insights.body).toMatch(/DisableLocalAuth:\s*true/);
    onlyResource('Microsoft.OperationalInsights/workspaces');
  });

  it('uses plain resource declarations, no registry modules, so it compiles offline', () => {
    expect(rawBicep).not.toMatch(/'(?:br|ts)[:/]/);
    for (const m of bicep.matchAll(/^module\s+\w+\s+'([^']+)'/gm)) {
      expect(existsSync(path.join(root, 'infra', m[1]!))).toBe(true);
    }
  });
});

describe('infra/main.bicep monitoring: alerts and workbook', () => {
  const alerts = () => resources.filter((r) => r.type === 'Microsoft.Insights/scheduledQueryRules');
  const queryFile = (body: string) => /query:\s*loadTextContent\('([^']+)'\)/.exec(body)?.[1];
  const kql = (body: string) => read(path.join('infra', queryFile(body) ?? 'missing.kql'));
  const insights = () => onlyResource('Microsoft.Insights/components').symbol;

  it('has the failed-run alert and the three-in-a-row alert, each counting the run event by its dimensions', () => {
    expect(
      alerts()
        .map((a) => a.symbol)
        .sort(),
    ).toEqual(['runFailedAlert', 'runsFailingInARowAlert']);
    for (const alert of alerts()) {
      const query = kql(alert.body);
      expect(query).toMatch(/^customEvents\n\| where name == "licensesync\.run\.finished"/);
      expect(query).toMatch(/customDimensions\.status/);
      expect(query).toMatch(/customDimensions\.portalId/);
      // Dimensions, never the message text.
      expect(query).not.toMatch(/\bmessage\b/);
    }
    const failed = kql(resources.find((r) => r.symbol === 'runFailedAlert')!.body);
    expect(failed).toMatch(/tostring\(customDimensions\.status\) == "failed"/);
    expect(failed).toMatch(/errorCode = tostring\(customDimensions\.errorCode\)/);
    const inARow = kql(resources.find((r) => r.symbol === 'runsFailingInARowAlert')!.body);
    expect(inARow).toMatch(/position <= 3/);
    expect(inARow).toMatch(/runs == 3 and failures == 3/);
  });

  it('fires per failing portal on Application Insights and notifies the configured action groups', () => {
    for (const alert of alerts()) {
      expect(propertyValue(alert.body, 'scopes')).toBe(`[${insights()}.id]`);
      expect(alert.body).toMatch(/dimensions:\s*\[\s*\{\s*name:\s*'portalId'/);
      expect(alert.body).toMatch(/operator:\s*'GreaterThan'\s*threshold:\s*0/);
      expect(propertyValue(alert.body, 'actionGroups')).toBe('alertActionGroups');
    }
    const groups = varExpression(bicep, 'alertActionGroups');
    expect(groups).toMatch(/alertEmail/);
    expect(groups).toMatch(/alertActionGroupId/);
    expect(paramDefault(bicep, 'alertEmail')).toBe('');
  });

  it('deploys a shared workbook on Application Insights from infra/monitoring/workbook.json', () => {
    const workbook = onlyResource('Microsoft.Insights/workbooks');
    expect(propertyValue(workbook.body, 'kind')).toBe("'shared'");
    expect(propertyValue(workbook.body, 'sourceId')).toBe(`${insights()}.id`);
    expect(propertyValue(workbook.body, 'serializedData')).toBe("loadTextContent('monitoring/workbook.json')");
    const data = JSON.parse(read('infra/monitoring/workbook.json')) as {
      version: string;
      items: { type: number; content: { query?: string; title?: string } }[];
    };
    expect(data.version).toBe('Notebook/1.0');
    const queries = data.items.filter((item) => item.type === 3).map((item) => item.content.query ?? '');
    const all = queries.join('\n');
    for (const name of [
      'licensesync.run.finished',
      'licensesync.run.duration',
      'licensesync.license.available',
      'licensesync.license.free',
      'licensesync.graph.throttled',
    ])
      expect(all).toContain(`"${name}"`);
    expect(all).toMatch(/errorCode = tostring\(customDimensions\.errorCode\)/);
    expect(all).toMatch(/skuPartNumber = tostring\(customDimensions\.skuPartNumber\)/);
  });
});

describe('azd and parameters', () => {
  it('passes only declared parameters and every parameter without a default', () => {
    const parameters = Object.keys(
      JSON.parse(read('infra/main.parameters.json')).parameters as Record<string, unknown>,
    );
    const declared = [...bicep.matchAll(/^param\s+(\w+)\s+\w+(\s*=)?/gm)];
    const names = declared.map((m) => m[1]!);
    expect(parameters.filter((p) => !names.includes(p))).toEqual([]);
    const required = declared.filter((m) => !m[2]).map((m) => m[1]!);
    expect(required.filter((p) => !parameters.includes(p))).toEqual([]);
  });

  it('deploys the api service as a function app from the package the prepackage hook assembles', () => {
    const azureYaml = read('azure.yaml');
    expect(azureYaml).toMatch(/^ {2}api:\s*$/m);
    expect(azureYaml).toMatch(/^ {4}host: function\s*$/m);
    expect(azureYaml).toMatch(/^ {4}language: (?:ts|js)\s*$/m);
    expect(azureYaml).toMatch(/^ {2}path: infra\s*$/m);
    expect(azureYaml).toMatch(/^ {4}dist: dist\/package\s*$/m);
    const runs = [...azureYaml.matchAll(/run: node (\S+)/g)].map((m) => m[1]!);
    expect(runs.length).toBeGreaterThan(0);
    for (const script of runs) expect(existsSync(path.join(root, script))).toBe(true);
    const hook = read('infra/hooks/package.mjs');
    for (const item of ['host.json', 'web', "'dist'", '--omit=dev', 'delete manifest.scripts'])
      expect(hook).toContain(item);
  });

  it('says in the deployment guide that CI never compiled or deployed the templates', () => {
    expect(read('docs/deploy.md')).toMatch(/not (?:been )?compiled or deployed/i);
  });
});
