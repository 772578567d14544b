import { contactIdsByPartition, contactKeys, decodeKey, encodeKey } from './keys';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('contact ids of one run', () => {
  it('are distinct v4 UUIDs, 100 at a time in one contact partition', () => {
    const next = contactIdsByPartition(100);
    const ids = Array.from({ length: 250 }, next);
    expect(new Set(ids).size).toBe(250);
    for (const id of ids) expect(id).toMatch(UUID_V4);
    const partitions = ids.map((id) => contactKeys(id).partitionKey);
    for (const start of [0, 100, 200]) {
      const group = partitions.slice(start, start + 100);
      expect(new Set(group).size).toBe(1);
    }
  });

  it('spread over the partitions across runs', () => {
    const firsts = new Set(Array.from({ length: 400 }, () => contactKeys(contactIdsByPartition(100)()).partitionKey));
    // 400 runs pick from 256 partitions: far more than a handful (a fixed prefix would give 1).
    expect(firsts.size).toBeGreaterThan(150);
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
