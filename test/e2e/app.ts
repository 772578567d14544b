import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/**
 * The app as a user runs it: `node dist/src/local/start.js` (what `npm start` runs after building) in a child
 * process, reached over HTTP at the URL it prints.
 */

const ROOT = path.resolve(__dirname, '../..');
const ENTRY = path.join(ROOT, 'dist/src/local/start.js');

export interface RunningApp {
  url: string;
  child: ChildProcess;
  /** Everything the app printed so far. */
  output(): string;
  /** Waits until the output matches. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** SIGTERM (Ctrl+C's clean shutdown); resolves with the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL: the app dies mid-work, as in a crash (an Azurite it started would be left running). */
  kill(): Promise<void>;
}

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(path.join(process.env.LICENSE_SYNC_TEST_WORK_DIR ?? os.tmpdir(), prefix));
}

/** Starts the app with these settings on top of the test's environment (minus the suite's storage). */
export async function startApp(env: Record<string, string | undefined>, timeoutMs = 30_000): Promise<RunningApp> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, PORT: '0' };
  // In-memory Azurite of its own unless the test passes a storage.
  delete childEnv.AzureWebJobsStorage;
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete childEnv[key];
    else childEnv[key] = value;
  }
  const child = spawn(process.execPath, [ENTRY], { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const waiters = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    out += chunk.toString();
    for (const wake of waiters) wake();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      for (const wake of waiters) wake();
      resolve(code);
    }),
  );

  const waitForOutput = (pattern: RegExp, wait = timeoutMs) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const check = () => {
        const match = out.match(pattern);
        if (match) return done(() => resolve(match));
        if (child.exitCode !== null || child.signalCode !== null) {
          return done(() =>
            reject(
              new Error(`The app exited (${child.exitCode ?? child.signalCode}) before printing ${pattern}:\n${out}`),
            ),
          );
        }
      };
      const timer = setTimeout(() => done(() => reject(new Error(`Timed out waiting for ${pattern}:\n${out}`))), wait);
      const done = (finish: () => void) => {
        clearTimeout(timer);
        waiters.delete(check);
        finish();
      };
      waiters.add(check);
      check();
    });

  const [, url] = await waitForOutput(/Listening on (http:\/\/127\.0\.0\.1:\d+)/);
  // The rest of the start-up lines.
  await waitForOutput(/Press Ctrl\+C to stop/);
  return {
    url: url as string,
    child,
    output: () => out,
    waitForOutput,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      // A clean stop takes a moment (running syncs get their grace period); past that, it is a hang.
      const force = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const code = await exited;
      clearTimeout(force);
      return code;
    },
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

export async function api<T = unknown>(
  app: { url: string },
  method: string,
  route: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: T }> {
  const response = await fetch(`${app.url}${route}`, {
    method,
    headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
}

export async function eventually<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(
        `Timed out waiting for ${what}${last ? `: ${last instanceof Error ? last.message : JSON.stringify(last)}` : ''}`,
      );
    await new Promise((r) => setTimeout(r, 200));
  }
}
