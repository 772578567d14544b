import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { testTls } from '../support/env';

/**
 * A fake Azure Key Vault (secrets only) that follows the real REST API over HTTPS, so the real
 * `@azure/keyvault-secrets` client and its challenge-based sign-in are exercised:
 * - a request without a valid bearer token gets 401 with a `WWW-Authenticate: Bearer authorization=...,
 *   resource=...` challenge; the client then gets a token and retries;
 * - a tiny Entra token endpoint of its own (`/{tenant}/oauth2/v2.0/token`, client credentials) hands out the
 *   tokens, with the OpenID metadata MSAL reads first;
 * - PUT /secrets/{name} (new version), GET /secrets/{name}[/{version}], DELETE /secrets/{name},
 *   GET|DELETE /deletedsecrets/{name} (read, purge), POST /deletedsecrets/{name}/recover;
 * - 404 SecretNotFound, 409 Conflict with inner code ObjectIsDeletedButRecoverable (or ObjectIsBeingRecovered),
 *   403 on purge when purge protection is on; error bodies as the real service sends them.
 */

export interface FakeKeyVaultOptions {
  tenantId?: string;
  clientId?: string;
  clientSecret?: string;
  /** With purge protection, a purge answers 403 and the deleted secret stays until retention ends. */
  purgeProtection?: boolean;
  /** How long a deleted secret takes to show up under /deletedsecrets (the SDK polls until it does). */
  deleteLatencyMs?: number;
  /** How long after a recovery a new version is refused with 409 ObjectIsBeingRecovered. */
  recoverLatencyMs?: number;
}

interface StoredVersion {
  version: string;
  value: string;
  contentType?: string;
  tags?: Record<string, string>;
  enabled: boolean;
  created: number;
  updated: number;
}

interface StoredSecret {
  name: string;
  versions: StoredVersion[];
}

interface DeletedSecret {
  secret: StoredSecret;
  deletedDate: number;
  visibleAt: number;
}

export interface FakeRequestLog {
  method: string;
  path: string;
  status: number;
  /** Whether the request carried a bearer token the fake had issued. */
  authorized: boolean;
}

const RESOURCE = 'https://vault.azure.net';
const NAME = /^[0-9A-Za-z-]{1,127}$/;

export class FakeKeyVault {
  readonly tenantId: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly requests: FakeRequestLog[] = [];
  /** Every token request the token endpoint answered with a token. */
  tokensIssued = 0;
  private readonly tokens = new Set<string>();
  private readonly secrets = new Map<string, StoredSecret>();
  private readonly deleted = new Map<string, DeletedSecret>();
  /** After a recovery, the secret reads fine but a new version is refused for a moment (as in the real vault). */
  private readonly recoveringUntil = new Map<string, number>();
  private server?: Server;
  private baseUrl = '';

  constructor(private readonly options: FakeKeyVaultOptions = {}) {
    this.tenantId = options.tenantId ?? '72f988bf-0000-4000-8000-000000000001';
    this.clientId = options.clientId ?? '0c8a1f3e-0000-4000-8000-000000000002';
    this.clientSecret = options.clientSecret ?? `fake-vault-client-${randomBytes(12).toString('hex')}`;
  }

  /** The vault's URL, e.g. https://127.0.0.1:12345 (also the authority host of its token endpoint). */
  get url(): string {
    return this.baseUrl;
  }

  get authorityHost(): string {
    return this.baseUrl;
  }

  async start(): Promise<this> {
    const tls = testTls();
    this.server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        this.send(
          res,
          req,
          500,
          { error: { code: 'InternalError', message: String((error as Error).message) } },
          false,
        );
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.baseUrl = `https://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  /** Inspection for tests: the versions of a live secret, oldest first. */
  versionsOf(name: string): readonly StoredVersion[] {
    return this.secrets.get(name)?.versions ?? [];
  }

  isDeleted(name: string): boolean {
    return this.deleted.has(name);
  }

  secretNames(): string[] {
    return [...this.secrets.keys()];
  }

  /** Every value the vault holds or held (live and soft-deleted), for scans. */
  allValues(): string[] {
    const all = [...this.secrets.values(), ...[...this.deleted.values()].map((d) => d.secret)];
    return all.flatMap((secret) => secret.versions.map((v) => v.value));
  }

  /** Lets a test drop every token, so the next request goes through the challenge again. */
  revokeTokens(): void {
    this.tokens.clear();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.baseUrl);
    const body = await readBody(req);
    const segments = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);

    // Entra: OpenID metadata and the token endpoint.
    if (segments[0] === this.tenantId && segments[1] === 'v2.0' && segments[2] === '.well-known') {
      return this.send(res, req, 200, this.openIdConfiguration(), false);
    }
    if (segments[0] === this.tenantId && segments[1] === 'oauth2' && segments[3] === 'token' && req.method === 'POST') {
      return this.token(req, res, new URLSearchParams(body));
    }

    // Key Vault: the challenge first.
    const auth = req.headers.authorization ?? '';
    const token = auth.startsWith('Bearer ') ? auth.slice('Bearer '.length) : undefined;
    if (!token || !this.tokens.has(token)) {
      res.setHeader(
        'WWW-Authenticate',
        `Bearer authorization="${this.baseUrl}/${this.tenantId}", resource="${RESOURCE}"`,
      );
      return this.send(
        res,
        req,
        401,
        { error: { code: 'Unauthorized', message: 'AKV10000: Request is missing a Bearer or PoP token.' } },
        false,
      );
    }
    if (!url.searchParams.get('api-version')) {
      return this.send(
        res,
        req,
        400,
        { error: { code: 'BadParameter', message: 'The api-version query parameter is missing.' } },
        true,
      );
    }

    const [collection, name, third, ...rest] = segments;
    if (!name || !NAME.test(name)) {
      return this.send(
        res,
        req,
        400,
        { error: { code: 'BadParameter', message: 'The secret name is invalid.' } },
        true,
      );
    }
    if (collection === 'secrets') {
      if (req.method === 'PUT' && third === undefined) return this.setSecret(req, res, name, body);
      if (req.method === 'GET' && rest.length === 0) return this.getSecret(req, res, name, third || undefined);
      if (req.method === 'DELETE' && third === undefined) return this.deleteSecret(req, res, name);
    }
    if (collection === 'deletedsecrets') {
      if (req.method === 'GET' && third === undefined) return this.getDeleted(req, res, name);
      if (req.method === 'DELETE' && third === undefined) return this.purge(req, res, name);
      if (req.method === 'POST' && third === 'recover' && rest.length === 0) return this.recover(req, res, name);
    }
    return this.send(
      res,
      req,
      405,
      { error: { code: 'MethodNotAllowed', message: 'Not supported by the fake vault.' } },
      true,
    );
  }

  private openIdConfiguration(): Record<string, unknown> {
    const base = `${this.baseUrl}/${this.tenantId}`;
    return {
      issuer: `${base}/v2.0`,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      token_endpoint: `${base}/oauth2/v2.0/token`,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      jwks_uri: `${base}/discovery/v2.0/keys`,
      response_types_supported: ['code', 'id_token', 'token'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      tenant_region_scope: 'EU',
    };
  }

  private token(req: IncomingMessage, res: ServerResponse, form: URLSearchParams): void {
    const bad = (code: string, description: string) =>
      this.send(res, req, 400, { error: code, error_description: description, error_codes: [7000215] }, false);
    if (form.get('grant_type') !== 'client_credentials')
      return bad('unsupported_grant_type', 'Only client credentials.');
    if (form.get('client_id') !== this.clientId)
      return bad('unauthorized_client', 'AADSTS700016: Application not found.');
    if (form.get('client_secret') !== this.clientSecret)
      return bad('invalid_client', 'AADSTS7000215: Invalid client secret provided.');
    const scopes = (form.get('scope') ?? '').split(' ');
    if (!scopes.includes(`${RESOURCE}/.default`)) return bad('invalid_scope', 'AADSTS70011: The scope is not valid.');
    const accessToken = `fake-kv-token-${randomBytes(16).toString('hex')}`;
    this.tokens.add(accessToken);
    this.tokensIssued += 1;
    this.send(
      res,
      req,
      200,
      { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: accessToken },
      false,
    );
  }

  private setSecret(req: IncomingMessage, res: ServerResponse, name: string, body: string): void {
    if (this.deleted.has(name)) {
      return this.send(
        res,
        req,
        409,
        {
          error: {
            code: 'Conflict',
            message: `Secret ${name} is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the secret can only be recovered or purged.`,
            innererror: { code: 'ObjectIsDeletedButRecoverable' },
          },
        },
        true,
      );
    }
    if ((this.recoveringUntil.get(name) ?? 0) > Date.now()) {
      return this.send(
        res,
        req,
        409,
        {
          error: {
            code: 'Conflict',
            message: `Secret ${name} is currently being recovered and cannot be re-created; retry later.`,
            innererror: { code: 'ObjectIsBeingRecovered' },
          },
        },
        true,
      );
    }
    let parsed: { value?: unknown; contentType?: unknown; tags?: unknown; attributes?: { enabled?: unknown } };
    try {
      parsed = JSON.parse(body) as typeof parsed;
    } catch {
      return this.send(
        res,
        req,
        400,
        { error: { code: 'BadParameter', message: 'The request body is not JSON.' } },
        true,
      );
    }
    if (typeof parsed.value !== 'string') {
      return this.send(
        res,
        req,
        400,
        { error: { code: 'BadParameter', message: 'Property value is required.' } },
        true,
      );
    }
    if (Buffer.byteLength(parsed.value, 'utf8') > 25 * 1024) {
      return this.send(
        res,
        req,
        400,
        { error: { code: 'BadParameter', message: 'The secret value exceeds 25 KB.' } },
        true,
      );
    }
    const now = Math.floor(Date.now() / 1000);
    const version: StoredVersion = {
      version: randomBytes(16).toString('hex'),
      value: parsed.value,
      contentType: typeof parsed.contentType === 'string' ? parsed.contentType : undefined,
      tags: isStringRecord(parsed.tags) ? parsed.tags : undefined,
      enabled: parsed.attributes?.enabled !== false,
      created: now,
      updated: now,
    };
    const secret = this.secrets.get(name) ?? { name, versions: [] };
    secret.versions.push(version);
    this.secrets.set(name, secret);
    this.send(res, req, 200, this.bundle(secret, version, true), true);
  }

  private getSecret(req: IncomingMessage, res: ServerResponse, name: string, versionId: string | undefined): void {
    const secret = this.secrets.get(name);
    const version = versionId
      ? secret?.versions.find((v) => v.version === versionId)
      : secret?.versions[secret.versions.length - 1];
    if (!secret || !version) return this.notFound(req, res, name, versionId);
    if (!version.enabled) {
      return this.send(
        res,
        req,
        403,
        {
          error: {
            code: 'Forbidden',
            message: 'Operation get is not allowed on a disabled secret.',
            innererror: { code: 'SecretDisabled' },
          },
        },
        true,
      );
    }
    this.send(res, req, 200, this.bundle(secret, version, true), true);
  }

  private deleteSecret(req: IncomingMessage, res: ServerResponse, name: string): void {
    const secret = this.secrets.get(name);
    if (!secret) return this.notFound(req, res, name, undefined);
    this.secrets.delete(name);
    const now = Date.now();
    const entry: DeletedSecret = {
      secret,
      deletedDate: Math.floor(now / 1000),
      visibleAt: now + (this.options.deleteLatencyMs ?? 50),
    };
    this.deleted.set(name, entry);
    this.send(res, req, 200, this.deletedBundle(entry), true);
  }

  private getDeleted(req: IncomingMessage, res: ServerResponse, name: string): void {
    const entry = this.deleted.get(name);
    if (!entry || Date.now() < entry.visibleAt) return this.deletedNotFound(req, res, name);
    this.send(res, req, 200, this.deletedBundle(entry), true);
  }

  private purge(req: IncomingMessage, res: ServerResponse, name: string): void {
    const entry = this.deleted.get(name);
    if (!entry) return this.deletedNotFound(req, res, name);
    if (Date.now() < entry.visibleAt) {
      return this.send(
        res,
        req,
        409,
        {
          error: {
            code: 'Conflict',
            message: `Secret ${name} is currently being deleted.`,
            innererror: { code: 'ObjectIsBeingDeleted' },
          },
        },
        true,
      );
    }
    if (this.options.purgeProtection) {
      return this.send(
        res,
        req,
        403,
        {
          error: {
            code: 'Forbidden',
            message:
              'Operation "purge" is not allowed because purge protection is enabled for this vault. Key Vault service will automatically purge it after the retention period has passed.',
            innererror: { code: 'ForbiddenByPolicy' },
          },
        },
        true,
      );
    }
    this.deleted.delete(name);
    this.send(res, req, 204, undefined, true);
  }

  private recover(req: IncomingMessage, res: ServerResponse, name: string): void {
    const entry = this.deleted.get(name);
    if (!entry) return this.deletedNotFound(req, res, name);
    this.deleted.delete(name);
    this.secrets.set(name, entry.secret);
    this.recoveringUntil.set(name, Date.now() + (this.options.recoverLatencyMs ?? 0));
    const latest = entry.secret.versions[entry.secret.versions.length - 1]!;
    this.send(res, req, 200, this.bundle(entry.secret, latest, false), true);
  }

  private notFound(req: IncomingMessage, res: ServerResponse, name: string, version: string | undefined): void {
    this.send(
      res,
      req,
      404,
      {
        error: {
          code: 'SecretNotFound',
          message: `A secret with (name/id) ${name}${version ? `/${version}` : ''} was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command.`,
        },
      },
      true,
    );
  }

  private deletedNotFound(req: IncomingMessage, res: ServerResponse, name: string): void {
    this.send(res, req, 404, { error: { code: 'SecretNotFound', message: `Deleted Secret not found: ${name}` } }, true);
  }

  private recoveryLevel(): string {
    return this.options.purgeProtection ? 'Recoverable' : 'Recoverable+Purgeable';
  }

  private bundle(secret: StoredSecret, version: StoredVersion, withValue: boolean): Record<string, unknown> {
    return {
      ...(withValue ? { value: version.value } : {}),
      id: `${this.baseUrl}/secrets/${secret.name}/${version.version}`,
      ...(version.contentType ? { contentType: version.contentType } : {}),
      attributes: {
        enabled: version.enabled,
        created: version.created,
        updated: version.updated,
        recoveryLevel: this.recoveryLevel(),
        recoverableDays: 90,
      },
      ...(version.tags ? { tags: version.tags } : {}),
    };
  }

  private deletedBundle(entry: DeletedSecret): Record<string, unknown> {
    const latest = entry.secret.versions[entry.secret.versions.length - 1]!;
    return {
      ...this.bundle(entry.secret, latest, false),
      recoveryId: `${this.baseUrl}/deletedsecrets/${entry.secret.name}`,
      deletedDate: entry.deletedDate,
      scheduledPurgeDate: entry.deletedDate + 90 * 86_400,
    };
  }

  private send(res: ServerResponse, req: IncomingMessage, status: number, body: unknown, authorized: boolean): void {
    this.requests.push({
      method: req.method ?? '',
      path: new URL(req.url ?? '/', 'https://x').pathname,
      status,
      authorized,
    });
    res.statusCode = status;
    res.setHeader('x-ms-keyvault-service-version', '1.9.0.0');
    if (body === undefined) {
      res.end();
      return;
    }
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.end(JSON.stringify(body));
  }
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return typeof value === 'object' && value !== null && Object.values(value).every((v) => typeof v === 'string');
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export async function startFakeKeyVault(options: FakeKeyVaultOptions = {}): Promise<FakeKeyVault> {
  return new FakeKeyVault(options).start();
}
