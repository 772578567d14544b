import { randomUUID } from 'node:crypto';
import { checkDestination } from '../alerts/destination';
import { testAlert } from '../alerts/messages';
import type { ChannelRecord } from '../domain/alerts';
import { NotFoundError } from '../domain/ledger';
import type { Services } from '../domain/ports';
import { sendToChannel, type DeliveryOutcome } from './deliveries';

/** Notification channels: the URL and signing secret go to the secret store; the record says only that they exist. */

export type ChannelInput =
  | { kind: 'webhook'; name: string; url: string; signingSecret?: string }
  | { kind: 'teams'; name: string; url: string }
  | { kind: 'email'; name: string; to: string[] };

export async function createChannel(services: Services, input: ChannelInput): Promise<ChannelRecord> {
  if (input.kind !== 'email')
    // Refused with the reason (400) before anything is stored; checked again when sent.
    await checkDestination(input.url, {
      allowPrivate: services.settings.alerts.allowPrivateWebhooks,
      ...(services.resolveHost ? { resolve: services.resolveHost } : {}),
    });
  const signingSecret = input.kind === 'webhook' ? input.signingSecret : undefined;
  const channel: ChannelRecord = {
    id: randomUUID(),
    kind: input.kind,
    name: input.name,
    ...(input.kind === 'email' ? { to: input.to } : {}),
    hasUrl: input.kind !== 'email',
    hasSigningSecret: Boolean(signingSecret),
    createdAt: services.now().toISOString(),
  };
  if (input.kind !== 'email')
    await services.secrets.setChannel(channel.id, { url: input.url, ...(signingSecret ? { signingSecret } : {}) });
  try {
    return await services.ledger.channels.create(channel);
  } catch (error) {
    await services.secrets.deleteChannel(channel.id).catch(() => undefined);
    throw error;
  }
}

export async function deleteChannel(services: Services, channelId: string): Promise<void> {
  await services.ledger.channels.delete(channelId);
  await services.secrets.deleteChannel(channelId);
}

async function channelOrThrow(services: Services, channelId: string): Promise<ChannelRecord> {
  const channel = await services.ledger.channels.get(channelId);
  if (!channel) throw new NotFoundError(`Notification channel ${channelId} does not exist.`);
  return channel;
}

/** Sends a `test` event now and records its outcome on the channel. */
export async function testChannel(
  services: Services,
  channelId: string,
): Promise<DeliveryOutcome & { deliveryId: string }> {
  const channel = await channelOrThrow(services, channelId);
  const deliveryId = randomUUID();
  const outcome = await sendToChannel(services, channel, 'test', testAlert(services.now()), deliveryId);
  const at = services.now().toISOString();
  await services.ledger.channels.recordOutcome(channel.id, outcome.ok ? { at } : { at, error: outcome.error });
  return { ...outcome, deliveryId };
}
