import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { testTls } from '../support/env';

/** A notification receiver over HTTPS on 127.0.0.1 that records what it gets and answers as scripted. */

export interface Received {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export type Answer = { status: number; headers?: Record<string, string>; body?: string; delayMs?: number };

export interface WebhookReceiver {
  url: string;
  received: Received[];
  /** Answers for the next requests, in order; after them, 200. */
  script(...answers: Answer[]): void;
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: Received[] = [];
  const answers: Answer[] = [];
  const server: Server = createServer(testTls(), (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ path: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const answer = answers.shift() ?? { status: 200, body: '' };
      setTimeout(() => {
        if (res.destroyed) return;
        res.writeHead(answer.status, answer.headers ?? { 'Content-Type': 'text/plain' });
        res.end(answer.body ?? '');
      }, answer.delayMs ?? 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    received,
    script: (...next) => answers.push(...next),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
