import { randomBytes } from 'node:crypto';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { EngineError } from '../../errors.js';
import { FsStore, isAlive, PID_FILE } from './fs-store.js';
import type { HttpStore } from './http-store.js';
import type { StoreServer } from './server.js';
import type { Credentials } from './sigv4.js';

/**
 * One store directory, many processes (spec 0005 §7.1): the process that holds a directory (`dreamdb
 * serve`, `dreamdb store serve`) serves it on loopback and leaves this file, naming that endpoint and a
 * credential made at start, so every other process opening the directory goes through it.
 */
export const HOLDER_FILE = 'holder.json';

/** How long an opener waits for the holder file of a directory just locked (the holder is starting). */
const HOLDER_WAIT_MS = 1000;

/** What the holder file says. */
export interface Holder {
  readonly pid: number;
  /** The loopback S3 endpoint serving the directory, e.g. http://127.0.0.1:39071. */
  readonly url: string;
  readonly bucket: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** A directory this process holds. */
export interface HeldStore {
  /** The directory's files, opened (and locked) by this process. */
  readonly store: FsStore;
  /** The loopback endpoint other processes reach the directory through. */
  readonly server: StoreServer;
  readonly holder: Holder;
  /** Remove the holder file, stop the endpoint, release the directory. */
  close(): Promise<void>;
}

/** The directory is locked by another live process; `holder` says how to reach it, when it shares it. */
export class StoreHeldError extends EngineError {
  constructor(
    readonly dir: string,
    readonly pid: number,
    readonly holder: Holder | undefined,
  ) {
    super(
      'E_STORE',
      holder
        ? `store directory ${dir} is held by process ${pid}, which serves it at ${holder.url}: ` +
            'other dreamdb commands go through it; stop that process to hold the directory here'
        : `store directory ${dir} is in use by process ${pid}, which does not share it (no ${HOLDER_FILE}): ` +
            'wait for it to finish or stop it; a directory held by `dreamdb serve` or `dreamdb store serve` ' +
            'is shared with every other dreamdb command',
    );
  }
}

/**
 * Hold a directory: open its files (taking the lock), serve them on 127.0.0.1 with a fresh SigV4
 * credential, and write the holder file (owner-only, atomically) naming both.
 */
export async function holdStore(dir: string, options: { bucket?: string } = {}): Promise<HeldStore> {
  const store = await openOwned(dir, options.bucket);
  let server: StoreServer | undefined;
  try {
    const credentials: Credentials = {
      accessKeyId: `DREAMDB${randomBytes(8).toString('hex').toUpperCase()}`,
      secretAccessKey: randomBytes(30).toString('base64url'),
    };
    // Loaded here, not at the top: opening a store that is not held stays light.
    const { startStoreServer } = await import('./server.js');
    server = await startStoreServer({ store, credentials: [credentials] });
    const holder: Holder = { pid: process.pid, url: server.url, bucket: store.bucket, ...credentials };
    await writeHolder(dir, holder);
    let closing: Promise<void> | undefined;
    const running = server;
    return {
      store,
      server: running,
      holder,
      close: () => {
        // The file goes first: no new client is sent to an endpoint that is closing.
        closing ??= unlink(join(dir, HOLDER_FILE))
          .catch(() => {})
          .then(() => running.close())
          .then(() => store.close());
        return closing;
      },
    };
  } catch (error) {
    await server?.close();
    await store.close();
    throw error;
  }
}

/** Open a directory's files directly; when another live process has them, a StoreHeldError. */
export async function openOwned(dir: string, bucket?: string): Promise<FsStore> {
  try {
    return await FsStore.open(dir, bucket);
  } catch (error) {
    const pid = error instanceof EngineError && error.code === 'E_STORE' ? await lockOwner(dir) : undefined;
    if (pid === undefined) throw error;
    throw new StoreHeldError(dir, pid, await waitForHolder(dir, pid));
  }
}

/** The holder of a directory, when a live process holds it and left a usable holder file. */
export async function readHolder(dir: string): Promise<Holder | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, HOLDER_FILE), 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    const pid = await lockOwner(dir);
    if (code === 'EACCES' && pid !== undefined) {
      throw new EngineError(
        'E_STORE',
        `store directory ${dir} is held by process ${pid}, whose ${HOLDER_FILE} only its owner may read: ` +
          'run this command as that user, or give --store the URL of a store server you have credentials for',
      );
    }
    if (code === 'EACCES') return undefined; // a dead holder's file: not in the way
    throw error;
  }
  const holder = parseHolder(text);
  // A stale file (its process is gone, or no longer owns the lock: a reused pid) is ignored.
  if (!holder || !isAlive(holder.pid) || (await lockOwner(dir)) !== holder.pid) return undefined;
  return holder;
}

/** A store reaching a held directory through its holder's endpoint, signed with its credential. */
export async function storeThroughHolder(dir: string, holder: Holder): Promise<HttpStore> {
  const { HttpStore } = await import('./http-store.js');
  return new HttpStore({
    name: `embedded store ${dir} through process ${holder.pid} (${holder.url}/${holder.bucket})`,
    endpoint: holder.url,
    bucket: holder.bucket,
    credentials: { accessKeyId: holder.accessKeyId, secretAccessKey: holder.secretAccessKey },
  });
}

/** The live process whose pid is in the directory's lock file. */
async function lockOwner(dir: string): Promise<number | undefined> {
  const text = await readFile(join(dir, PID_FILE), 'utf8').catch(() => '');
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined;
}

/** The holder file of a directory `pid` has just locked, if it writes one soon. */
async function waitForHolder(dir: string, pid: number): Promise<Holder | undefined> {
  const until = Date.now() + HOLDER_WAIT_MS;
  for (;;) {
    const holder = await readHolder(dir);
    if (holder?.pid === pid) return holder;
    if (Date.now() >= until || (await lockOwner(dir)) !== pid) return undefined;
    await sleep(25);
  }
}

function parseHolder(text: string): Holder | undefined {
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const { pid, url, bucket, accessKeyId, secretAccessKey } = value ?? {};
  if (
    !Number.isInteger(pid) ||
    typeof url !== 'string' ||
    !/^http:\/\//.test(url) ||
    typeof bucket !== 'string' ||
    typeof accessKeyId !== 'string' ||
    typeof secretAccessKey !== 'string'
  )
    return undefined;
  return { pid: pid as number, url, bucket, accessKeyId, secretAccessKey };
}

/** Write the holder file: a private temp file, renamed over the old one (readers see all or nothing). */
async function writeHolder(dir: string, holder: Holder): Promise<void> {
  const path = join(dir, HOLDER_FILE);
  const tmp = `${path}.${process.pid}.tmp`;
  await unlink(tmp).catch(() => {});
  const file = await open(tmp, 'wx', 0o600);
  try {
    // Exactly 0600 whatever the umask: the secret is for this user only.
    await file.chmod(0o600);
    await file.writeFile(`${JSON.stringify({ version: 1, ...holder })}\n`);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(tmp, path);
}
