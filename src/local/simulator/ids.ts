import { createHash } from 'node:crypto';

/** A GUID derived from a name, so simulated tenants are the same on every run. */
export function guidFrom(...parts: (string | number)[]): string {
  const hex = createHash('sha1').update(parts.join('\u0000')).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** Microsoft's real skuIds for the plans the demo and the generated tenants use. */
export const KNOWN_SKUS: Readonly<Record<string, string>> = {
  ENTERPRISEPACK: '6fd2c87f-b296-42f0-b197-1e91e994b900',
  SPB: 'cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46',
  STANDARDPACK: '18181a46-0d4e-45cd-891e-60aabd171b4e',
  POWER_BI_PRO: 'f8a1db68-be16-40ed-86d5-cb42ce701560',
  SPE_E3: '05e9a617-0261-4cee-bb44-138d3ef5d965',
  SPE_E5: '06ebc4ee-1bb5-47dd-8120-11324bc54e06',
  EMS: 'efccb6f7-5641-4e0e-bd10-b4976e1bf68e',
  O365_BUSINESS_PREMIUM: 'f245ecc8-75af-4f8e-b61f-27d8114de5f3',
  O365_BUSINESS_ESSENTIALS: '3b555118-da6a-4418-894f-7df1e2096870',
  EXCHANGESTANDARD: '4b9405b0-7788-4568-add1-99614e613b69',
  VISIOCLIENT: 'c5928f49-12ba-48f7-ada3-0d743a3601d5',
  PROJECTPROFESSIONAL: '53818b1b-4a27-454b-8896-0dba576410e6',
  FLOW_FREE: 'f30db892-07e9-47e9-837c-80727f46fd3d',
};

export function skuIdOf(skuPartNumber: string): string {
  return KNOWN_SKUS[skuPartNumber] ?? guidFrom('sku', skuPartNumber);
}

export const GUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Small deterministic PRNG (mulberry32): the generated tenant needs repeatable, not secure, randomness. */
export function prng(seed: number): () => number {
  let state = seed | 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function base64url(value: string | Buffer): string {
  return Buffer.from(value).toString('base64url');
}
