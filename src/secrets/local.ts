import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { AppError } from '../domain/errors';
import {
  channelSecretSchema,
  portalSecretSchema,
  type ChannelSecret,
  type PortalSecret,
  type SecretStore,
} from '../domain/secrets';

/**
 * The secret store of local runs without a Key Vault: one JSON file, `<dataDir>/secrets.json`, readable by its
 * owner only (0600, in a 0700 folder). Every change rewrites the whole file through a temporary file and a
 * rename, so a crash never leaves half a file. The data folder is git-ignored, so the file is never committed.
 */
const fileSchema = z.object({
  version: z.literal(1),
  portals: z.record(z.string(), z.object({ secret: portalSecretSchema, setAt: z.string() })),
  channels: z.record(z.string(), z.object({ secret: channelSecretSchema, setAt: z.string() })).default({}),
});
type SecretsFile = z.infer<typeof fileSchema>;

const FILE_MODE = 0o600;
const DIR_MODE = 0o700;
const LOCK_RETRY_MS = 20;
const LOCK_WAIT_MS = 10_000;
/** A lock file older than this was left by a process that died while writing. */
const LOCK_STALE_MS = 30_000;

export class LocalSecretStore implements SecretStore {
  readonly filePath: string;
  private readonly lockPath: string;
  /** Serialises this process's changes; the lock file serialises them with other processes. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(dataDir: string) {
    this.filePath = path.join(dataDir, 'secrets.json');
    this.lockPath = `${this.filePath}.lock`;
  }

  async set(portalId: string, secret: PortalSecret): Promise<void> {
    const parsed = portalSecretSchema.parse(secret);
    await this.change((file) => {
      file.portals[portalId] = { secret: parsed, setAt: new Date().toISOString() };
    });
  }

  async get(portalId: string): Promise<PortalSecret | undefined> {
    const file = await this.read();
    return Object.hasOwn(file.portals, portalId) ? file.portals[portalId]?.secret : undefined;
  }

  async delete(portalId: string): Promise<void> {
    await this.change((file) => {
      delete file.portals[portalId];
    });
  }

  async setChannel(channelId: string, secret: ChannelSecret): Promise<void> {
    const parsed = channelSecretSchema.parse(secret);
    await this.change((file) => {
      file.channels[channelId] = { secret: parsed, setAt: new Date().toISOString() };
    });
  }

  async getChannel(channelId: string): Promise<ChannelSecret | undefined> {
    const file = await this.read();
    return Object.hasOwn(file.channels, channelId) ? file.channels[channelId]?.secret : undefined;
  }

  async deleteChannel(channelId: string): Promise<void> {
    await this.change((file) => {
      delete file.channels[channelId];
    });
  }

  private async read(): Promise<SecretsFile> {
    let text: string;
    try {
      text = await readFile(this.filePath, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, portals: {}, channels: {} };
      throw unreadable('it could not be read');
    }
    await this.restrictMode();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      // Never quote the content: it holds secrets.
      throw unreadable('it is not valid JSON');
    }
    const parsed = fileSchema.safeParse(json);
    if (!parsed.success) throw unreadable('it does not have the expected shape');
    return parsed.data;
  }

  /** A file someone made readable by others (e.g. copied around) is tightened again. */
  private async restrictMode(): Promise<void> {
    if (process.platform === 'win32') return;
    const info = await stat(this.filePath);
    if ((info.mode & 0o077) !== 0) await chmod(this.filePath, FILE_MODE);
  }

  private change(edit: (file: SecretsFile) => void): Promise<void> {
    const next = this.queue.then(() =>
      this.withLock(async () => {
        const file = await this.read();
        edit(file);
        await this.write(file);
      }),
    );
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async write(file: SecretsFile): Promise<void> {
    const dir = path.dirname(this.filePath);
    const temp = path.join(dir, `.secrets.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
    const handle = await open(temp, 'wx', FILE_MODE);
    try {
      await handle.writeFile(`${JSON.stringify(file, null, 2)}\n`, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await rename(temp, this.filePath);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  private async withLock<T>(work: () => Promise<T>): Promise<T> {
    await mkdir(path.dirname(this.filePath), { recursive: true, mode: DIR_MODE });
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      try {
        const handle = await open(this.lockPath, 'wx', FILE_MODE);
        await handle.close();
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const age = await stat(this.lockPath).then(
          (info) => Date.now() - info.mtimeMs,
          () => 0,
        );
        if (age > LOCK_STALE_MS) {
          await rm(this.lockPath, { force: true });
          continue;
        }
        if (Date.now() > deadline) throw unreadable('another process holds its lock');
        await new Promise((resolve) => setTimeout(resolve, LOCK_RETRY_MS));
      }
    }
    try {
      return await work();
    } finally {
      await rm(this.lockPath, { force: true });
    }
  }
}

function unreadable(why: string): AppError {
  return new AppError('internal_error', {
    detail: `the local secret store (secrets.json in the data folder) is unusable: ${why}`,
  });
}
