import { createHash } from 'node:crypto';
import { normalizeAddress } from '../domain/records';

/**
 * Table keys. PartitionKey and RowKey may not hold / \ # ? or control characters, and a quote or a percent sign
 * makes point operations fragile; addresses and names can hold any of them. So every key made from data is
 * percent-encoded with `~` in place of `%` (reversible, and ids and GUIDs stay as they are).
 */
export function encodeKey(value: string): string {
  return encodeURIComponent(value)
    .replace(/[~!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%/g, '~');
}

export function decodeKey(key: string): string {
  return decodeURIComponent(key.replace(/~/g, '%'));
}

/** Row key of the unique-name index: names are unique case-insensitively. */
export function nameKey(name: string): string {
  return encodeKey(name.trim().toLowerCase());
}

/**
 * Partition of an address in the address index: a short hash of the lower-cased address spreads the index
 * over 256 partitions, so point reads stay point reads and a first sync's claims batch well per partition.
 */
function addressBucket(normalizedAddress: string): string {
  return createHash('sha256').update(normalizedAddress).digest('hex').slice(0, 2);
}

export function addressKeys(address: string): { partitionKey: string; rowKey: string; address: string } {
  const normalized = normalizeAddress(address);
  return { partitionKey: addressBucket(normalized), rowKey: encodeKey(normalized), address: normalized };
}

/**
 * Keys of a contact: 256 partitions named by the first two characters of its id (contact ids are UUIDs, so
 * the buckets fill evenly), RowKey the id. A point read derives its bucket from the id; a first sync's new
 * contacts batch 100 to a transaction per bucket instead of one request each.
 */
export function contactKeys(contactId: string): { partitionKey: string; rowKey: string } {
  const rowKey = encodeKey(contactId);
  return { partitionKey: rowKey.slice(0, 2).toLowerCase().padEnd(2, '_'), rowKey };
}

/**
 * The id of the contact a portal's sync makes for one user (see SyncStateGateway.contactIds): a UUID-shaped hash of
 * the portal and the Entra object id, so a retried run makes the very same contact. Its first character comes from
 * the portal and its second from the user: a portal's new contacts fill 16 partitions (transactions of up to 100
 * even for a first sync of a large tenant), and over many portals the 256 partitions fill evenly.
 */
export function syncContactId(portalId: string, objectId: string): string {
  const portalHex = createHash('sha256').update(`portal\u0000${portalId}`).digest('hex');
  const hex = createHash('sha256').update(`contact\u0000${portalId}\u0000${objectId}`).digest('hex');
  const digits = `${portalHex[0]}${hex.slice(1, 32)}`;
  // Version 8 (custom) and the RFC 4122 variant, so it reads as a UUID like the contacts made by hand.
  const variant = ((parseInt(digits[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${digits.slice(0, 8)}-${digits.slice(8, 12)}-8${digits.slice(13, 16)}-${variant}${digits.slice(17, 20)}-${digits.slice(20, 32)}`;
}

/** RowKey of a consumer within its portal's partition. */
export function consumerRowKey(skuId: string, contactId: string): string {
  return `${encodeKey(skuId)}_${encodeKey(contactId)}`;
}

/**
 * RowKey ranges that together cover every key of a partition exactly once, split before each of the given
 * prefixes (sorted): a large partition is then read by several queries at once.
 */
export function rowKeyRanges(splits: readonly string[]): { from?: string; to?: string }[] {
  const bounds: (string | undefined)[] = [undefined, ...[...new Set(splits)].sort(), undefined];
  const ranges: { from?: string; to?: string }[] = [];
  for (let i = 0; i + 1 < bounds.length; i += 1) ranges.push({ from: bounds[i], to: bounds[i + 1] });
  return ranges;
}

/** Hex digits of a hash of the objectId that name a user link's bucket row: 16^3 = 4,096 rows per portal. */
const USER_LINK_BUCKET_DIGITS = 3;

/** The bucket row (RowKey) of a user's link. */
export function userLinkBucket(objectId: string): string {
  return createHash('sha256').update(objectId).digest('hex').slice(0, USER_LINK_BUCKET_DIGITS);
}

/** RowKey range [from, to) of one license's consumers within the portal's partition. */
export function consumerRowKeyRange(skuId: string): { from: string; to: string } {
  const prefix = `${encodeKey(skuId)}_`;
  // '`' is the character right after '_': the range holds exactly the keys that start with the prefix.
  return { from: prefix, to: `${encodeKey(skuId)}\`` };
}

/** OData string literal. */
export function odataString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
