import { z } from 'zod';
import type { AuthMode } from '../config/settings';

/**
 * Who is calling: App Service Authentication's `x-ms-client-principal` (base64 JSON), or, without a person, the
 * function key or a local run. Roles are the app roles of PRODUCT.md, "Who may do what".
 */

export const READER_ROLE = 'LicenseSync.Reader';
export const ADMIN_ROLE = 'LicenseSync.Admin';

/** What a route needs: any signed-in principal, a reader (or admin), or an admin. */
export type Access = 'SignedIn' | 'Reader' | 'Admin';

export interface Principal {
  name: string;
  objectId?: string;
  roles: string[];
}

export const CLIENT_PRINCIPAL_HEADER = 'x-ms-client-principal';

/** The JSON the platform puts in the header (Microsoft Learn, "Decoding the client principal header"). */
const clientPrincipalSchema = z.object({
  auth_typ: z.string().optional(),
  claims: z.array(z.object({ typ: z.string(), val: z.string() })).max(500),
  name_typ: z.string().optional(),
  role_typ: z.string().optional(),
});

const OBJECT_ID_CLAIMS = ['http://schemas.microsoft.com/identity/claims/objectidentifier', 'oid'];
const NAME_FALLBACK_CLAIMS = ['preferred_username', 'name', 'appid', 'azp'];
/** v2.0 tokens carry app roles as `roles`, whatever role_typ the platform names. */
const ROLE_CLAIMS = ['roles'];
const MAX_HEADER_CHARS = 32 * 1024;

/** The principal in the header, or undefined when it is absent or not a client principal. */
export function parseClientPrincipal(header: string | null | undefined): Principal | undefined {
  if (!header || header.length > MAX_HEADER_CHARS) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(header, 'base64').toString('utf8'));
  } catch {
    return undefined;
  }
  const parsed = clientPrincipalSchema.safeParse(json);
  if (!parsed.success) return undefined;
  const { claims, name_typ: nameType, role_typ: roleType } = parsed.data;
  const first = (types: readonly (string | undefined)[]) =>
    types.map((type) => claims.find((claim) => type && claim.typ === type)?.val).find((val) => val);
  const roleTypes = new Set([...ROLE_CLAIMS, ...(roleType ? [roleType] : [])]);
  const roles = [...new Set(claims.filter((claim) => roleTypes.has(claim.typ)).map((claim) => claim.val))];
  const objectId = first(OBJECT_ID_CLAIMS);
  const name = first([nameType, ...NAME_FALLBACK_CLAIMS]) ?? objectId ?? 'unknown';
  return { name, ...(objectId ? { objectId } : {}), roles };
}

/** Encodes a principal the way the platform does (tests and the local settable principal). */
export function encodeClientPrincipal(principal: {
  name: string;
  objectId?: string;
  roles: readonly string[];
}): string {
  const nameType = 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name';
  const roleType = 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role';
  const claims = [
    { typ: nameType, val: principal.name },
    ...(principal.objectId
      ? [{ typ: 'http://schemas.microsoft.com/identity/claims/objectidentifier', val: principal.objectId }]
      : []),
    ...principal.roles.map((role) => ({ typ: roleType, val: role })),
  ];
  return Buffer.from(JSON.stringify({ auth_typ: 'aad', claims, name_typ: nameType, role_typ: roleType })).toString(
    'base64',
  );
}

export function mayAccess(principal: Principal, access: Access): boolean {
  if (access === 'SignedIn') return true;
  if (principal.roles.includes(ADMIN_ROLE)) return true;
  return access === 'Reader' && principal.roles.includes(READER_ROLE);
}

export type Authorization =
  | { ok: true; principal: Principal }
  | { ok: false; status: 401 | 403; code: 'unauthenticated' | 'forbidden'; message: string };

/** Who calls, and whether they may: by the operator's LICENSE_SYNC_AUTH. */
export function authorize(
  mode: AuthMode,
  headers: { get(name: string): string | null },
  access: Access,
): Authorization {
  // The Functions host checked the key before the handler runs; there is no person to name.
  if (mode === 'key') return { ok: true, principal: { name: 'function key', roles: [ADMIN_ROLE] } };
  if (mode === 'none') return { ok: true, principal: { name: 'local', roles: [ADMIN_ROLE] } };
  const principal = parseClientPrincipal(headers.get(CLIENT_PRINCIPAL_HEADER));
  if (!principal) {
    return {
      ok: false,
      status: 401,
      code: 'unauthenticated',
      message: 'Sign in first (Entra ID through App Service Authentication, or a bearer token for automation).',
    };
  }
  if (!mayAccess(principal, access)) {
    return {
      ok: false,
      status: 403,
      code: 'forbidden',
      message:
        access === 'Admin'
          ? `This needs the app role ${ADMIN_ROLE}; ask an administrator of the app registration to assign it.`
          : `This needs the app role ${READER_ROLE} or ${ADMIN_ROLE}; ask an administrator of the app registration to assign one.`,
    };
  }
  return { ok: true, principal };
}
