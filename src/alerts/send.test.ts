import { startWebhookReceiver, type WebhookReceiver } from '../../test/fakes/webhookReceiver';
import { signature } from './destination';
import { emailMessage, teamsBody, testAlert, webhookBody } from './messages';
import { sendNotification } from './send';

let receiver: WebhookReceiver;

beforeAll(async () => {
  receiver = await startWebhookReceiver();
});

afterAll(async () => {
  await receiver.close();
});

beforeEach(() => {
  receiver.received.length = 0;
});

const alert = { ...testAlert(new Date('2026-11-29T10:00:00Z')), details: { free: 1 } };

describe('sending a notification', () => {
  test('posts the body with its delivery id and a signature the receiver can verify', async () => {
    const body = webhookBody('alert.raised', alert);
    const outcome = await sendNotification(
      { url: `${receiver.url}/hook`, body, deliveryId: 'd-1', signingSecret: 'shh' },
      { allowPrivate: true },
    );
    expect(outcome).toEqual({ ok: true, status: 200 });
    const [got] = receiver.received;
    expect(got!.path).toBe('/hook');
    expect(got!.headers['x-license-sync-delivery']).toBe('d-1');
    expect(got!.headers['x-license-sync-signature']).toBe(signature(got!.body, 'shh'));
    expect(JSON.parse(got!.body)).toEqual({ event: 'alert.raised', alert });
  });

  test('sends no signature header without a signing secret', async () => {
    await sendNotification({ url: receiver.url, body: '{}', deliveryId: 'd-2' }, { allowPrivate: true });
    expect(receiver.received[0]!.headers).not.toHaveProperty('x-license-sync-signature');
  });

  test('refuses the loopback receiver while private addresses are not allowed, before connecting', async () => {
    await expect(
      sendNotification({ url: receiver.url, body: '{}', deliveryId: 'd-3' }, { allowPrivate: false }),
    ).rejects.toMatchObject({ code: 'channel_url_refused' });
    expect(receiver.received).toHaveLength(0);
  });

  test('does not follow a redirect, and reports error statuses', async () => {
    receiver.script({ status: 302, headers: { Location: 'https://169.254.169.254/' } }, { status: 500 });
    const redirected = await sendNotification(
      { url: receiver.url, body: '{}', deliveryId: 'd-4' },
      { allowPrivate: true },
    );
    expect(redirected).toMatchObject({ ok: false, status: 302 });
    expect(redirected.error).toContain('not followed');
    const failed = await sendNotification({ url: receiver.url, body: '{}', deliveryId: 'd-4' }, { allowPrivate: true });
    expect(failed).toEqual({ ok: false, status: 500, error: 'The receiver answered 500.' });
    expect(receiver.received).toHaveLength(2);
  });

  test('gives up on a receiver that does not answer in time', async () => {
    receiver.script({ status: 200, delayMs: 2_000 });
    const outcome = await sendNotification(
      { url: receiver.url, body: '{}', deliveryId: 'd-5' },
      { allowPrivate: true, timeoutMs: 200 },
    );
    expect(outcome.ok).toBe(false);
    expect(outcome.error).toContain('did not answer');
  });

  test('stops reading an answer larger than the cap', async () => {
    receiver.script({ status: 200, body: 'x'.repeat(200_000) });
    const outcome = await sendNotification(
      { url: receiver.url, body: '{}', deliveryId: 'd-6' },
      { allowPrivate: true, maxResponseBytes: 1024 },
    );
    expect(outcome).toEqual({ ok: true, status: 200, responseTruncated: true });
  });
});

describe('what each channel receives', () => {
  test('Teams gets an Adaptive Card with the title, the facts and a link to the page', () => {
    const card = JSON.parse(teamsBody('alert.raised', { ...alert, severity: 'critical' }, 'https://app.example')) as {
      attachments: {
        contentType: string;
        content: { body: { type: string; text?: string; facts?: { title: string }[] }[]; actions: { url: string }[] };
      }[];
    };
    const content = card.attachments[0]!.content;
    expect(card.attachments[0]!.contentType).toBe('application/vnd.microsoft.card.adaptive');
    expect(content.body[0]!.text).toBe('CRITICAL: Low stock');
    expect(content.body[2]!.facts!.map((f) => f.title)).toEqual(['Severity', 'Rule', 'Portal', 'free', 'Raised']);
    expect(content.actions[0]!.url).toBe('https://app.example/#/alerts');
  });

  test('e-mail is plain text with a subject naming the alert', () => {
    const mail = emailMessage('alert.resolved', alert, ['ops@example.com'], 'https://app.example');
    expect(mail.message.subject).toBe('[m365-license-sync] Resolved: Low stock');
    expect(mail.message.body).toMatchObject({ contentType: 'Text' });
    expect((mail.message.body as { content: string }).content).toContain('free: 1');
    expect(mail.message.toRecipients).toEqual([{ emailAddress: { address: 'ops@example.com' } }]);
  });
});
