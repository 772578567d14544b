import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { testTls } from '../support/env';

/**
 * A fake Application Insights ingestion endpoint (Breeze), over HTTPS, so the real Azure Monitor exporter sends
 * to it: POST `{IngestionEndpoint}/v2.1/track` (or /v2/track) with a JSON array (or newline-delimited JSON) of
 * envelopes, possibly gzip-compressed, answered with `{ itemsReceived, itemsAccepted, errors }`.
 * Envelopes: `{ name, time, iKey, tags, data: { baseType, baseData } }`, baseType MessageData, MetricData,
 * RequestData, RemoteDependencyData, EventData or ExceptionData.
 */

export interface Envelope {
  name: string;
  time: string;
  iKey: string;
  tags?: Record<string, string>;
  data?: { baseType: string; baseData: Record<string, unknown> & { properties?: Record<string, string> } };
}

export class FakeIngestion {
  readonly instrumentationKey = randomUUID();
  private server?: Server;
  private readonly received: Envelope[] = [];
  /** Every request body as received, decompressed (for the secret scan). */
  readonly bodies: string[] = [];
  readonly paths: string[] = [];
  private readonly waiters = new Set<() => void>();

  async start(): Promise<string> {
    const tls = testTls();
    this.server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this.connectionString;
  }

  get url(): string {
    return `https://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  /** IngestionEndpoint only: no LiveEndpoint, so nothing goes to Microsoft's live metrics service. */
  get connectionString(): string {
    return `InstrumentationKey=${this.instrumentationKey};IngestionEndpoint=${this.url}/`;
  }

  envelopes(): Envelope[] {
    return [...this.received];
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Waits until `probe` over the envelopes so far returns something. */
  async waitFor<T>(probe: (envelopes: Envelope[]) => T | undefined, what: string, timeoutMs = 30_000): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const check = () => {
        const found = probe(this.envelopes());
        if (found === undefined || found === false) return;
        finish();
        resolve(found);
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`Timed out waiting for ${what}; received ${this.received.length} envelopes`));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const path = new URL(req.url ?? '/', this.url).pathname;
    this.paths.push(`${req.method} ${path}`);
    if (req.method !== 'POST' || !/^\/v2(\.1)?\/track$/.test(path)) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      return;
    }
    const raw = Buffer.concat(chunks);
    const text = (req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
    this.bodies.push(text);
    let items: Envelope[];
    try {
      items = text.trimStart().startsWith('[')
        ? (JSON.parse(text) as Envelope[])
        : text
            .split('\n')
            .filter((line) => line.trim())
            .map((line) => JSON.parse(line) as Envelope);
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"itemsReceived":0,"itemsAccepted":0}');
      return;
    }
    const errors = items
      .map((item, index) => ({ item, index }))
      .filter(({ item }) => item.iKey !== this.instrumentationKey || !item.name || !item.data?.baseType)
      .map(({ index }) => ({ index, statusCode: 400, message: 'Invalid instrumentation key or envelope' }));
    for (const [index, item] of items.entries()) if (!errors.some((e) => e.index === index)) this.received.push(item);
    res
      .writeHead(errors.length ? 206 : 200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ itemsReceived: items.length, itemsAccepted: items.length - errors.length, errors }));
    for (const wake of this.waiters) wake();
  }
}
