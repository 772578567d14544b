import { randomUUID } from 'node:crypto';
import { emailMessage, teamsBody, webhookBody, type AlertEvent, type AlertView } from '../alerts/messages';
import { sendNotification, type SendOutcome } from '../alerts/send';
import type { AlertRecord, ChannelRecord, DeliveryMessage, DeliveryRecord } from '../domain/alerts';
import { AppError, isAppError } from '../domain/errors';
import type { Services } from '../domain/ports';
import { openTenant } from '../sync/tenantRead';

/**
 * Deliveries: one per event and channel, stored, then sent by the notification queue's worker. A retry sends the
 * same stored body under the same delivery id, so a receiver can de-duplicate. A delivery that fails on its last
 * attempt (or that can never work: a refused URL, e-mail not set up) is marked failed, logged, and shown on its
 * channel as `lastError`.
 */

export interface DeliveryOutcome {
  ok: boolean;
  status?: number;
  error?: string;
  /** Retrying cannot help (refused URL, missing settings). */
  permanent?: boolean;
}

export function alertView(alert: AlertRecord): AlertView {
  const { subject: _subject, updatedAt: _updatedAt, ...view } = alert;
  return view;
}

/** Stores a delivery per channel for each event and queues it. */
export async function notifyChannels(
  services: Services,
  events: { event: AlertEvent; alert: AlertRecord }[],
): Promise<void> {
  if (events.length === 0) return;
  const channels = await services.ledger.channels.list();
  const now = services.now().toISOString();
  for (const { event, alert } of events) {
    for (const channel of channels) {
      const delivery: DeliveryRecord = {
        id: randomUUID(),
        channelId: channel.id,
        event,
        alert: alertView(alert),
        state: 'pending',
        attempts: 0,
        createdAt: now,
        updatedAt: now,
      };
      await services.ledger.deliveries.create(delivery);
      await services.notificationQueue.send({ channelId: channel.id, deliveryId: delivery.id });
    }
  }
}

function fromSend(outcome: SendOutcome): DeliveryOutcome {
  return {
    ok: outcome.ok,
    ...(outcome.status ? { status: outcome.status } : {}),
    ...(outcome.error ? { error: outcome.error } : {}),
  };
}

function fromError(error: unknown): DeliveryOutcome {
  if (isAppError(error))
    return { ok: false, error: error.message, permanent: !error.transient || error.code === 'channel_url_refused' };
  return { ok: false, error: 'The notification could not be sent (unexpected error).' };
}

async function sendEmail(services: Services, channel: ChannelRecord, event: AlertEvent, alert: AlertView) {
  const { mailPortalId, mailFrom } = services.settings.alerts;
  if (!mailPortalId || !mailFrom)
    return {
      ok: false,
      permanent: true,
      error:
        'E-mail is not set up: the operator sets LICENSE_SYNC_MAIL_PORTAL_ID (a portal whose app has Mail.Send) and LICENSE_SYNC_MAIL_FROM (the mailbox that sends).',
    };
  const portal = await services.ledger.portals.get(mailPortalId);
  if (!portal)
    return {
      ok: false,
      permanent: true,
      error: `LICENSE_SYNC_MAIL_PORTAL_ID names no portal access (${mailPortalId}).`,
    };
  const reader = await openTenant(services, portal);
  if (!reader.sendMail) throw new AppError('graph_error', { detail: 'this tenant reader cannot send mail' });
  await reader.sendMail(mailFrom, emailMessage(event, alert, channel.to ?? [], services.settings.federation.publicUrl));
  return { ok: true, status: 202 };
}

/** Sends one event to one channel now, with the URL and secret from the secret store. */
export async function sendToChannel(
  services: Services,
  channel: ChannelRecord,
  event: AlertEvent,
  alert: AlertView,
  deliveryId: string,
): Promise<DeliveryOutcome> {
  try {
    if (channel.kind === 'email') return await sendEmail(services, channel, event, alert);
    const secret = await services.secrets.getChannel(channel.id);
    if (!secret?.url) return { ok: false, permanent: true, error: 'The channel has no stored URL; add it again.' };
    const body =
      channel.kind === 'teams'
        ? teamsBody(event, alert, services.settings.federation.publicUrl)
        : webhookBody(event, alert);
    const outcome = await sendNotification(
      {
        url: secret.url,
        body,
        deliveryId,
        ...(channel.kind === 'webhook' && secret.signingSecret ? { signingSecret: secret.signingSecret } : {}),
      },
      {
        allowPrivate: services.settings.alerts.allowPrivateWebhooks,
        ...(services.resolveHost ? { resolve: services.resolveHost } : {}),
      },
    );
    return fromSend(outcome);
  } catch (error) {
    return fromError(error);
  }
}

/**
 * The notification queue's worker: sends a stored delivery. A failure that a retry may fix throws, so the host
 * delivers the message again (the same delivery id); on the last attempt the delivery is marked failed.
 */
export async function deliver(
  services: Services,
  message: DeliveryMessage,
  attempt: { dequeueCount: number; maxDequeueCount: number },
): Promise<DeliveryRecord | undefined> {
  const { ledger, logger } = services;
  const delivery = await ledger.deliveries.get(message.channelId, message.deliveryId);
  if (!delivery || delivery.state !== 'pending') return delivery;
  const channel = await ledger.channels.get(delivery.channelId);
  const outcome: DeliveryOutcome = channel
    ? await sendToChannel(services, channel, delivery.event, delivery.alert, delivery.id)
    : { ok: false, permanent: true, error: 'The channel was deleted.' };
  const now = services.now().toISOString();
  const attempts = delivery.attempts + 1;
  if (outcome.ok) {
    const done: DeliveryRecord = { ...delivery, state: 'delivered', attempts, updatedAt: now, lastError: undefined };
    await ledger.deliveries.update(done);
    await ledger.channels.recordOutcome(delivery.channelId, { at: now });
    logger.info('notification delivered', {
      channelId: delivery.channelId,
      deliveryId: delivery.id,
      event: delivery.event,
    });
    return done;
  }
  const error = outcome.error ?? 'The notification could not be sent.';
  if (outcome.permanent || attempt.dequeueCount >= attempt.maxDequeueCount)
    return failDelivery(services, { ...delivery, attempts }, error);
  await ledger.deliveries.update({ ...delivery, attempts, updatedAt: now, lastError: error });
  logger.warn('notification delivery failed; will retry', {
    channelId: delivery.channelId,
    deliveryId: delivery.id,
    attempt: attempt.dequeueCount,
    maxAttempts: attempt.maxDequeueCount,
    error,
  });
  throw new AppError('internal_error', { transient: true, detail: `delivery ${delivery.id}: ${error}` });
}

/** A delivery that will not be tried again: failed, on its channel's lastError, in the log. */
async function failDelivery(services: Services, delivery: DeliveryRecord, error: string): Promise<DeliveryRecord> {
  const now = services.now().toISOString();
  const failed: DeliveryRecord = { ...delivery, state: 'failed', updatedAt: now, lastError: error };
  await services.ledger.deliveries.update(failed);
  await services.ledger.channels.recordOutcome(delivery.channelId, { at: now, error });
  services.logger.error('notification delivery failed', {
    channelId: delivery.channelId,
    deliveryId: delivery.id,
    event: delivery.event,
    alertId: delivery.alert.id,
    attempts: delivery.attempts,
    error,
  });
  return failed;
}

/** A delivery message the host gave up on (its worker died each time): the delivery becomes failed. */
export async function failPoisonedDelivery(services: Services, message: DeliveryMessage): Promise<void> {
  const delivery = await services.ledger.deliveries.get(message.channelId, message.deliveryId);
  if (!delivery || delivery.state !== 'pending') return;
  await failDelivery(
    services,
    delivery,
    delivery.lastError ?? 'The delivery gave up: the worker stopped during each attempt.',
  );
}
