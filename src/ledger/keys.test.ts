import { contactKeys, decodeKey, encodeKey, syncContactId } from './keys';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('ids of the contacts a sync makes', () => {
  it('are the same for the same portal and user, and UUID-shaped', () => {
    expect(syncContactId('p1', 'user-1')).toBe(syncContactId('p1', 'user-1'));
    expect(syncContactId('p1', 'user-1')).toMatch(UUID);
    expect(syncContactId('p2', 'user-1')).not.toBe(syncContactId('p1', 'user-1'));
  });

  it('of one portal fill 16 contact partitions, so a large first sync still writes 100 to a transaction', () => {
    const ids = Array.from({ length: 2000 }, (_, i) => syncContactId('portal-a', `user-${i}`));
    expect(new Set(ids).size).toBe(2000);
    expect(new Set(ids.map((id) => contactKeys(id).partitionKey)).size).toBe(16);
  });

  it('of many portals spread over all 256 partitions', () => {
    const partitions = new Set(
      Array.from({ length: 2000 }, (_, i) => contactKeys(syncContactId(`portal-${i}`, 'user')).partitionKey),
    );
    expect(partitions.size).toBeGreaterThan(200);
  });
});

describe('table keys', () => {
  it('encode the characters a key may not hold, reversibly', () => {
    const raw = "o'hara#1/x?y\\z%~@contoso.com";
    const key = encodeKey(raw);
    expect(key).not.toMatch(/[/\\#?%']/);
    expect(decodeKey(key)).toBe(raw);
  });
});
