import { z } from 'zod';

/** The secret of one portal access, as stored (Key Vault or the local store); never returned by the API. */
export const portalSecretSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('clientSecret'), clientSecret: z.string().min(1) }),
  z.object({ kind: z.literal('certificate'), certificate: z.string().min(1) }),
  z.object({ kind: z.literal('password'), username: z.string().min(1), password: z.string().min(1) }),
]);
export type PortalSecret = z.infer<typeof portalSecretSchema>;

/** How a run signs in: a stored secret, or the federated kind, which has none (nothing is ever stored for it). */
export type PortalCredential = PortalSecret | { kind: 'federated' };

export interface SecretStore {
  /** Writes a new version of the portal's secret. */
  set(portalId: string, secret: PortalSecret): Promise<void>;
  /** The latest version, or undefined when there is none. */
  get(portalId: string): Promise<PortalSecret | undefined>;
  /** Deletes the secret (and purges it where the store allows). Missing is fine. */
  delete(portalId: string): Promise<void>;
}
