import { z } from 'zod';

/** The secret of one portal access, as stored (Key Vault or the local store); never returned by the API. */
export const portalSecretSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('clientSecret'), clientSecret: z.string().min(1) }),
  z.object({ kind: z.literal('certificate'), certificate: z.string().min(1) }),
  z.object({ kind: z.literal('password'), username: z.string().min(1), password: z.string().min(1) }),
]);
export type PortalSecret = z.infer<typeof portalSecretSchema>;

/** What a notification channel keeps secret: its URL (a webhook's often carries a token) and signing secret. */
export const channelSecretSchema = z.strictObject({
  url: z.string().min(1).optional(),
  signingSecret: z.string().min(1).optional(),
});
export type ChannelSecret = z.infer<typeof channelSecretSchema>;
/** How a run signs in: a stored secret, or the federated kind, which has none (nothing is ever stored for it). */
export type PortalCredential = PortalSecret | { kind: 'federated' };

export interface SecretStore {
  /** Writes a new version of the portal's secret. */
  set(portalId: string, secret: PortalSecret): Promise<void>;
  /** The latest version, or undefined when there is none. */
  get(portalId: string): Promise<PortalSecret | undefined>;
  /** Deletes the secret (and purges it where the store allows). Missing is fine. */
  delete(portalId: string): Promise<void>;
  /** A notification channel's secret, kept apart from the portals'. */
  setChannel(channelId: string, secret: ChannelSecret): Promise<void>;
  getChannel(channelId: string): Promise<ChannelSecret | undefined>;
  deleteChannel(channelId: string): Promise<void>;
}
