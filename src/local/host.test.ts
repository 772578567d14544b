import { output, type InvocationContext } from '@azure/functions';
import { QueueClient } from '@azure/storage-queue';
import { randomBytes } from 'node:crypto';
import type { FunctionDefinition, HttpDefinition, QueueDefinition, TimerDefinition } from '../host/registry';
import { parseHostJson } from '../runs/hostSettings';
import { startLocalHost, PortInUseError, type LocalHost } from './host';
import { nextOccurrence } from './timerScheduler';

function http(
  def: Omit<HttpDefinition, 'kind' | 'authLevel'> & { authLevel?: HttpDefinition['authLevel'] },
): HttpDefinition {
  return { kind: 'http', authLevel: 'anonymous', ...def };
}

const storage = () => ({ storage: { connectionString: process.env.AzureWebJobsStorage as string } });
const quiet = () => undefined;

describe('local host: HTTP', () => {
  let host: LocalHost;
  let clientHasFirstChunk = (): void => undefined;
  const firstChunkReceived = new Promise<void>((resolve) => (clientHasFirstChunk = resolve));
  const definitions: FunctionDefinition[] = [
    http({
      name: 'web',
      route: '{*path}',
      methods: ['GET'],
      handler: async (req) => ({ body: `page ${req.params.path ?? ''}` }),
    }),
    http({
      name: 'getPortal',
      route: 'api/portals/{id}',
      methods: ['GET'],
      handler: async (req) => ({ jsonBody: { id: req.params.id, q: req.query.get('x') } }),
    }),
    http({
      name: 'createPortal',
      route: 'api/portals',
      methods: ['POST'],
      authLevel: 'function',
      handler: async (req) => ({ status: 201, headers: { location: '/api/portals/1' }, jsonBody: await req.json() }),
    }),
    http({
      name: 'stream',
      route: 'api/stream',
      methods: ['GET'],
      handler: async () => ({
        headers: { 'content-type': 'text/csv' },
        body: (async function* () {
          yield Buffer.from('first\n');
          // The second chunk is made only once the client holds the first: a host that collected the body
          // before sending would wait here for ever.
          await firstChunkReceived;
          yield Buffer.from('second\n');
        })(),
      }),
    }),
    http({
      name: 'streamFails',
      route: 'api/stream-fails',
      methods: ['GET'],
      handler: async () => ({
        body: (async function* () {
          yield Buffer.from('partial\n');
          throw new Error('storage went away');
        })(),
      }),
    }),
    http({
      name: 'boom',
      route: 'api/boom',
      methods: ['GET'],
      handler: async () => {
        throw new Error('kaput');
      },
    }),
  ];

  beforeAll(async () => {
    host = await startLocalHost({
      definitions,
      settings: storage(),
      host: parseHostJson({}),
      port: 0,
      functionKey: 'k3y',
      maxBodyBytes: 1000,
      log: quiet,
    });
  });
  afterAll(() => host.stop());

  it('routes to the most specific function and passes params and query', async () => {
    const res = await fetch(`${host.url}/api/portals/abc?x=1`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual({ id: 'abc', q: '1' });
    expect(await (await fetch(`${host.url}/some/page`)).text()).toBe('page some/page');
  });

  it('answers 404 when no function takes the method', async () => {
    const res = await fetch(`${host.url}/api/portals/abc`, { method: 'DELETE' });
    expect(res.status).toBe(404);
  });

  it('requires the function key on non-anonymous routes', async () => {
    const body = JSON.stringify({ name: 'x' });
    const denied = await fetch(`${host.url}/api/portals`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json' },
    });
    expect(denied.status).toBe(401);
    const wrong = await fetch(`${host.url}/api/portals`, {
      method: 'POST',
      body,
      headers: { 'x-functions-key': 'nope' },
    });
    expect(wrong.status).toBe(401);
    const ok = await fetch(`${host.url}/api/portals`, {
      method: 'POST',
      body,
      headers: { 'x-functions-key': 'k3y', 'content-type': 'application/json' },
    });
    expect(ok.status).toBe(201);
    expect(ok.headers.get('location')).toBe('/api/portals/1');
    expect(await ok.json()).toEqual({ name: 'x' });
  });

  it('refuses a body over the limit with 413', async () => {
    const res = await fetch(`${host.url}/api/portals`, {
      method: 'POST',
      body: 'x'.repeat(5000),
      headers: { 'x-functions-key': 'k3y' },
    });
    expect(res.status).toBe(413);
  });

  it('sends a streamed body chunked, each chunk as the function makes it', async () => {
    const res = await fetch(`${host.url}/api/stream`);
    expect(res.headers.get('transfer-encoding')).toBe('chunked');
    expect(res.headers.get('content-length')).toBeNull();
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    const first = await reader.read();
    expect(decoder.decode(first.value)).toBe('first\n');
    clientHasFirstChunk();
    let rest = '';
    for (let next = await reader.read(); !next.done; next = await reader.read()) rest += decoder.decode(next.value);
    expect(rest).toBe('second\n');
  });

  it('cuts the connection when a streamed body fails mid-way, so the client sees it incomplete', async () => {
    const res = await fetch(`${host.url}/api/stream-fails`);
    expect(res.status).toBe(200);
    await expect(res.text()).rejects.toThrow();
  });

  it('answers a bare 500 when a function throws', async () => {
    const res = await fetch(`${host.url}/api/boom`);
    expect(res.status).toBe(500);
    expect(await res.text()).toBe('');
  });

  it('says clearly when the port is taken', async () => {
    await expect(
      startLocalHost({ definitions, settings: storage(), host: parseHostJson({}), port: host.port, log: quiet }),
    ).rejects.toBeInstanceOf(PortInUseError);
  });
});

describe('local host: timer and queue', () => {
  it('reads NCRONTAB with seconds, in UTC', () => {
    expect(nextOccurrence('0 30 9 * * *', new Date('2024-05-01T08:00:00Z')).toISOString()).toBe(
      '2024-05-01T09:30:00.000Z',
    );
    expect(nextOccurrence('*/2 * * * * *', new Date('2024-05-01T08:00:01Z')).toISOString()).toBe(
      '2024-05-01T08:00:02.000Z',
    );
    expect(() => nextOccurrence('0 * * * *')).toThrow(/six fields/);
  });

  it('sends what the timer set on its queue output, base64-encoded, and the queue function receives each item', async () => {
    const queueName = `q${randomBytes(6).toString('hex')}`;
    const queueOutput = output.storageQueue({ queueName, connection: 'AzureWebJobsStorage' });
    const received: { message: unknown; dequeueCount: unknown }[] = [];
    const timer: TimerDefinition = {
      kind: 'timer',
      name: 'tick',
      schedule: '0 0 0 1 1 *',
      queueOutput,
      queueName,
      handler: async (_timer, context: InvocationContext) => {
        context.extraOutputs.set(queueOutput, [{ n: 1 }, { n: 2 }]);
      },
    };
    const worker: QueueDefinition = {
      kind: 'queue',
      name: 'work',
      queueName,
      handler: async (message, context) => {
        received.push({ message, dequeueCount: context.triggerMetadata?.dequeueCount });
      },
    };
    const host = await startLocalHost({
      definitions: [timer, worker],
      settings: storage(),
      host: parseHostJson({}),
      port: 0,
      log: quiet,
    });
    try {
      expect(host.timers()).toEqual([{ name: 'tick', schedule: '0 0 0 1 1 *', next: expect.any(Date) }]);
      await host.runTimer('tick');
      const deadline = Date.now() + 10_000;
      while (received.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(received.map((r) => r.message)).toEqual(expect.arrayContaining([{ n: 1 }, { n: 2 }]));
      expect(received.every((r) => r.dequeueCount === 1)).toBe(true);
    } finally {
      await host.stop();
      await new QueueClient(process.env.AzureWebJobsStorage as string, queueName).deleteIfExists();
    }
  });

  it('fires a timer on its schedule', async () => {
    const queueName = `q${randomBytes(6).toString('hex')}`;
    let ticks = 0;
    const timer: TimerDefinition = {
      kind: 'timer',
      name: 'often',
      schedule: '* * * * * *',
      queueName,
      queueOutput: output.storageQueue({ queueName, connection: 'AzureWebJobsStorage' }),
      handler: async () => {
        ticks += 1;
      },
    };
    const host = await startLocalHost({
      definitions: [timer],
      settings: storage(),
      host: parseHostJson({}),
      port: 0,
      log: quiet,
    });
    await new Promise((r) => setTimeout(r, 2500));
    await host.stop();
    expect(ticks).toBeGreaterThanOrEqual(2);
  });
});
