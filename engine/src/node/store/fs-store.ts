import { randomBytes } from 'node:crypto';
import { createReadStream, type ReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, unlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { createMultihasher, hashBytes, multihashToHex } from '../../address/multihash.js';
import { toHex } from '../../cbor/json-form.js';
import { EngineError } from '../../errors.js';
import { etagEquals } from '../../store/etag.js';
import { parseObjectKey } from '../../store/keys.js';
import { ObjectCache } from '../../store/object-cache.js';
import type {
  ByteRange,
  GetResult,
  ListOptions,
  ListPage,
  ObjectInfo,
  ObjectStore,
  PutOptions,
} from '../../store/object-store.js';
import { clipRange } from '../../store/range.js';
import '../native-blake3.js';

/** Largest object the store accepts (v0 has no multipart upload; buckets split below this). */
export const MAX_OBJECT_BYTES = 100 * 1024 * 1024;
const MAX_KEY_BYTES = 1024;
const KEY_SEGMENT = /^[A-Za-z0-9!_.*'()&$@=;:+,?~ -]+$/;

/** Options of a streamed PUT. */
export interface PutStreamOptions extends PutOptions {
  /** Refuse bodies longer than this (E_TOO_LARGE). */
  readonly maxBytes?: number;
}

/** A range of an object opened for sending: small ranges come as bytes, large ones as a stream. */
export interface OpenedObject {
  readonly size: number;
  readonly etag: string;
  readonly range: ByteRange;
  readonly body?: Buffer;
  readonly stream?: ReadStream;
}

/** The lock file of a store directory: the pid of the process that owns it. */
export const PID_FILE = 'store.pid';

/** Ranges up to this size are read in one call; larger ones are streamed in 1 MiB reads. */
export const BUFFERED_READ_BYTES = 256 * 1024;
/** Bytes of small files kept in memory (each checked against a stat before it is served). */
export const SMALL_CACHE_BYTES = 64 << 20;

/**
 * The embedded store's files: one directory, one file per key, written crash-safe (temp file, fsync,
 * rename, fsync of the directory), so a key shows either its old bytes or its new ones, never a part.
 * One process owns a directory (a pid lock), which makes its in-process per-key locks enough for
 * linearizable compare-and-swap.
 */
export class FsStore implements ObjectStore {
  readonly name: string;
  private readonly bucketsDir: string;
  private readonly tmpDir: string;
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly etags = new Map<string, { mtimeMs: number; size: number; etag: string }>();
  /** Small files' bytes, served without a read while the file's size and mtime are unchanged. */
  private readonly small = new ObjectCache(SMALL_CACHE_BYTES);
  private readonly smallStamps = new Map<string, number>();
  private readonly contentInfo = new Map<string, ObjectInfo & { modified: Date; mtimeMs: number }>();

  private constructor(
    readonly dir: string,
    readonly bucket: string,
  ) {
    this.name = `embedded store ${dir}`;
    this.bucketsDir = join(dir, 'buckets');
    this.tmpDir = join(dir, 'tmp');
  }

  /** Open (creating if needed) a store directory; refused if another live process holds it. */
  static async open(dir: string, bucket = 'dreamdb'): Promise<FsStore> {
    const store = new FsStore(dir, bucket);
    await mkdir(join(store.bucketsDir, bucket), { recursive: true });
    await store.takeOwnership();
    // Temp files are writes that never finished: a crash left them, nothing refers to them.
    await rm(store.tmpDir, { recursive: true, force: true });
    await mkdir(store.tmpDir, { recursive: true });
    return store;
  }

  private async takeOwnership(): Promise<void> {
    const pidFile = join(this.dir, PID_FILE);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const handle = await open(pidFile, 'wx');
        await handle.writeFile(String(process.pid));
        await handle.close();
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
        if (pid === process.pid || (pid > 0 && isAlive(pid))) {
          throw new EngineError('E_STORE', `store directory ${this.dir} is in use by process ${pid}`);
        }
        await unlink(pidFile).catch(() => {});
      }
    }
    throw new EngineError('E_STORE', `could not take store directory ${this.dir}`);
  }

  /** Release the directory. */
  async close(): Promise<void> {
    await unlink(join(this.dir, PID_FILE)).catch(() => {});
  }

  /** The file of a key, after checking the key is one the store can hold. */
  pathOf(bucket: string, key: string): string {
    if (bucket !== this.bucket)
      throw new EngineError(
        'E_NOT_FOUND',
        `bucket ${bucket} does not exist (this store serves ${this.bucket})`,
      );
    const segments = key.split('/');
    if (
      key.length === 0 ||
      Buffer.byteLength(key) > MAX_KEY_BYTES ||
      segments.some((s) => s === '' || s === '.' || s === '..' || !KEY_SEGMENT.test(s))
    ) {
      throw new EngineError(
        'E_BAD_REQUEST',
        `key ${JSON.stringify(key.slice(0, 200))} is not a valid key (no empty, "." or ".." segments; printable ASCII)`,
      );
    }
    checkLayout(key);
    return join(this.bucketsDir, bucket, ...segments);
  }

  async head(key: string, bucket = this.bucket): Promise<ObjectInfo & { modified: Date; mtimeMs: number }> {
    const path = this.pathOf(bucket, key);
    // Content never changes under its key except through this store (a repair), so a cached content
    // object needs no stat; refs and other keys are checked on disk every time.
    const known = this.contentInfo.get(path);
    if (known && this.small.has(path)) return known;
    const info = await stat(path).catch((error) => {
      throw notFound(error, key);
    });
    if (!info.isFile()) throw new EngineError('E_NOT_FOUND', `${key} does not exist`);
    return {
      key,
      size: info.size,
      etag: await this.etagOf(key, path, info.size, info.mtimeMs),
      modified: info.mtime,
      mtimeMs: info.mtimeMs,
    };
  }

  /** ETag: the BLAKE3 digest of the bytes (for content objects, the digest in their key). */
  private async etagOf(key: string, path: string, size: number, mtimeMs: number): Promise<string> {
    const content = parseObjectKey(key);
    if (content) return content.multihash.slice(4);
    const cached = this.etags.get(path);
    if (cached && cached.size === size && cached.mtimeMs === mtimeMs) return cached.etag;
    const etag = toHex(hashBytes(await readFile(path)).subarray(2));
    this.etags.set(path, { size, mtimeMs, etag });
    return etag;
  }

  /** Open an object (or a range of it) for streaming out. */
  async openRead(
    key: string,
    range?: ByteRange,
    bucket = this.bucket,
    known?: ObjectInfo & { mtimeMs: number },
  ): Promise<OpenedObject> {
    const info = known ?? (await this.head(key, bucket));
    const r = range ? clipRange(range, info.size, key) : { start: 0, end: info.size };
    const path = this.pathOf(bucket, key);
    if (info.size <= BUFFERED_READ_BYTES) {
      // The stat just taken proves the cached copy current (same size, same mtime).
      const stamp = info.mtimeMs * 2 ** 20 + info.size;
      let whole = this.smallStamps.get(path) === stamp ? this.small.get(path) : undefined;
      if (!whole) {
        whole = await this.readRange(path, { start: 0, end: info.size });
        this.small.set(path, whole);
        this.smallStamps.set(path, stamp);
        if (parseObjectKey(key) && 'modified' in info)
          this.contentInfo.set(path, info as ObjectInfo & { modified: Date; mtimeMs: number });
      }
      return {
        size: info.size,
        etag: info.etag,
        range: r,
        body: Buffer.from(whole.buffer, whole.byteOffset + r.start, r.end - r.start),
      };
    }
    if (r.end - r.start <= BUFFERED_READ_BYTES) {
      return { size: info.size, etag: info.etag, range: r, body: await this.readRange(path, r) };
    }
    const stream = createReadStream(path, { start: r.start, end: r.end - 1, highWaterMark: 1 << 20 });
    return { size: info.size, etag: info.etag, range: r, stream };
  }

  /** Bytes [start, end) of a file, with one open and as few reads as the kernel allows. */
  private async readRange(path: string, r: ByteRange): Promise<Buffer> {
    const handle = await open(path, 'r');
    try {
      const body = Buffer.allocUnsafe(r.end - r.start);
      let done = 0;
      while (done < body.length) {
        const { bytesRead } = await handle.read(body, done, body.length - done, r.start + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      return body.subarray(0, done);
    } finally {
      await handle.close();
    }
  }

  async get(key: string, range?: ByteRange, bucket = this.bucket): Promise<GetResult> {
    const info = await this.head(key, bucket);
    const r = range ? clipRange(range, info.size, key) : { start: 0, end: info.size };
    return { body: await this.readRange(this.pathOf(bucket, key), r), etag: info.etag, size: info.size };
  }

  async put(key: string, body: Uint8Array, options: PutOptions = {}): Promise<{ etag: string }> {
    return this.putStream(key, [body], options);
  }

  /** A body given as parts, written one after the other (no joined copy). */
  async putParts(
    key: string,
    parts: readonly Uint8Array[],
    options: PutOptions = {},
  ): Promise<{ etag: string }> {
    return this.putStream(key, parts, options);
  }

  /**
   * Write a body as it streams in: to a temp file, hashed on the way, then renamed into place. A content
   * key must match the body's hash; conditions are checked under the key's lock, so CAS is linearizable.
   */
  async putStream(
    key: string,
    source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
    options: PutStreamOptions = {},
    bucket = this.bucket,
  ): Promise<{ etag: string }> {
    const path = this.pathOf(bucket, key);
    const maxBytes = options.maxBytes ?? MAX_OBJECT_BYTES;
    const tmp = join(this.tmpDir, randomBytes(12).toString('hex'));
    // A hash the in-process caller computed from these very bytes is not computed again.
    const hasher = options.multihash === undefined ? await createMultihasher() : undefined;
    const file = await open(tmp, 'wx');
    let written = 0;
    try {
      if (Array.isArray(source) && !hasher) {
        // Parts in memory: one gathered write.
        written = (source as Uint8Array[]).reduce((n, part) => n + part.length, 0);
        if (written > maxBytes)
          throw new EngineError('E_TOO_LARGE', `${key}: body is over ${maxBytes} bytes`);
        await file.writev(source as Uint8Array[]);
      } else {
        for await (const chunk of source) {
          written += chunk.length;
          if (written > maxBytes)
            throw new EngineError('E_TOO_LARGE', `${key}: body is over ${maxBytes} bytes`);
          hasher?.update(chunk);
          await file.write(chunk);
        }
      }
      await file.sync();
    } catch (error) {
      await file.close();
      await unlink(tmp).catch(() => {});
      throw error;
    }
    await file.close();
    const multihash = hasher ? multihashToHex(hasher.digest()) : options.multihash!;
    const etag = multihash.slice(4);
    try {
      const content = parseObjectKey(key);
      if (content && content.multihash !== multihash) {
        throw new EngineError('E_HASH_MISMATCH', `${key}: the body hashes to ${multihash}, not to its key`);
      }
      return await this.withLock(path, async () => {
        const current = await this.currentEtag(key, path, content !== undefined);
        if (options.ifNoneMatch === '*' && current !== undefined) {
          // Content addressing makes a repeated create of the same bytes a success, once the bytes on
          // disk are verified (a corrupt copy is replaced by the good one).
          if (content && current === etag) {
            // A writer is reusing this object: refresh its time, so collect's grace period protects it
            // like a new one (spec 0006 §2.8).
            const now = new Date();
            await utimes(path, now, now);
            this.forget(path);
            return { etag };
          }
          if (!content) throw new EngineError('E_PRECONDITION', `${key} already exists (If-None-Match: *)`);
        }
        if (options.ifMatch !== undefined && !etagEquals(current, options.ifMatch)) {
          throw new EngineError(
            'E_PRECONDITION',
            `${key} is ${current === undefined ? 'absent' : `at ETag ${current}`}, not at ${options.ifMatch} (If-Match)`,
          );
        }
        await this.install(tmp, path, key);
        this.forget(path);
        const info = await stat(path);
        this.etags.set(path, { size: info.size, mtimeMs: info.mtimeMs, etag });
        return { etag };
      });
    } finally {
      await unlink(tmp).catch(() => {});
    }
  }

  /** The ETag of what is on disk now, or undefined; content objects are re-hashed (repair on re-PUT). */
  private async currentEtag(key: string, path: string, isContent: boolean): Promise<string | undefined> {
    try {
      if (isContent) return toHex(hashBytes(await readFile(path)).subarray(2));
      const info = await stat(path);
      return await this.etagOf(key, path, info.size, info.mtimeMs);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  private async install(tmp: string, path: string, key: string): Promise<void> {
    const dir = path.slice(0, path.lastIndexOf('/'));
    try {
      await mkdir(dir, { recursive: true });
      await rename(tmp, path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOTDIR' || code === 'EISDIR' || code === 'EEXIST') {
        throw new EngineError('E_BAD_REQUEST', `key ${key} collides with another key used as its folder`);
      }
      throw error;
    }
    const handle = await open(dir, 'r');
    await handle.sync(); // the rename itself survives a crash once its directory is synced
    await handle.close();
  }

  async delete(key: string, bucket = this.bucket): Promise<void> {
    const path = this.pathOf(bucket, key);
    this.forget(path);
    await this.withLock(path, () =>
      unlink(path).catch((error) => {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }),
    );
    this.etags.delete(path);
  }

  /** Every key under a prefix, in byte order (S3's listing order). */
  async keysUnder(prefix: string, bucket = this.bucket): Promise<string[]> {
    if (bucket !== this.bucket) throw new EngineError('E_NOT_FOUND', `bucket ${bucket} does not exist`);
    const baseDir = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    if (baseDir.split('/').some((s) => s === '..' || s === '.'))
      throw new EngineError('E_BAD_REQUEST', `prefix ${prefix} is not valid`);
    const keys: string[] = [];
    await walk(join(this.bucketsDir, bucket, baseDir), baseDir, prefix, keys);
    return keys.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  }

  async list(prefix: string, options: ListOptions = {}, bucket = this.bucket): Promise<ListPage> {
    const page = pageKeys(await this.keysUnder(prefix, bucket), { ...options, prefix });
    const objects = await Promise.all(page.keys.map((key) => this.head(key, bucket)));
    return page.nextToken === undefined ? { objects } : { objects, nextToken: page.nextToken };
  }

  /** Drop what is cached about a file whose bytes changed. */
  private forget(path: string): void {
    this.small.delete(path);
    this.smallStamps.delete(path);
    this.contentInfo.delete(path);
    this.etags.delete(path);
  }

  /** Run `fn` with the key's lock held; waiters queue in order. */
  private async withLock<T>(path: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(path) ?? Promise.resolve();
    const run = previous.then(fn, fn);
    const tail = run.catch(() => {});
    this.locks.set(path, tail);
    try {
      return await run;
    } finally {
      if (this.locks.get(path) === tail) this.locks.delete(path);
    }
  }
}

/** One page of a sorted key list, as ListObjects cuts it: after `token`, at most `maxKeys` entries,
 * keys sharing a part up to `delimiter` (after the prefix) rolled into one common prefix. */
export function pageKeys(
  sorted: readonly string[],
  options: { prefix: string; token?: string; maxKeys?: number; delimiter?: string },
): { keys: string[]; commonPrefixes: string[]; nextToken?: string } {
  const maxKeys = Math.min(Math.max(options.maxKeys ?? 1000, 1), 1000);
  const after = options.token === undefined ? undefined : Buffer.from(options.token);
  const keys: string[] = [];
  const commonPrefixes: string[] = [];
  let last: string | undefined;
  for (const key of sorted) {
    if (after !== undefined && Buffer.compare(Buffer.from(key), after) <= 0) continue;
    const rest = key.slice(options.prefix.length);
    const cut = options.delimiter ? rest.indexOf(options.delimiter) : -1;
    const common = cut >= 0 ? options.prefix + rest.slice(0, cut + options.delimiter!.length) : undefined;
    if (common !== undefined && common === commonPrefixes[commonPrefixes.length - 1]) {
      last = key;
      continue;
    }
    if (keys.length + commonPrefixes.length === maxKeys) return { keys, commonPrefixes, nextToken: last! };
    if (common !== undefined) commonPrefixes.push(common);
    else keys.push(key);
    last = key;
  }
  return { keys, commonPrefixes };
}

/** Keys under spaces/ must follow the DreamDB layout (spec 0005 §3). */
function checkLayout(key: string): void {
  if (!key.startsWith('spaces/')) return;
  const parts = key.split('/');
  const space = parts[1] ?? '';
  if (!/^[a-z0-9][a-z0-9._-]{0,63}$/.test(space) || space.includes('..')) {
    throw new EngineError('E_BAD_REQUEST', `space name ${JSON.stringify(space)} in ${key} is not valid`);
  }
  if (parts[2] === 'objects') {
    if (parts.length !== 4 || !parseObjectKey(key)) {
      throw new EngineError(
        'E_BAD_REQUEST',
        `${key}: object keys are spaces/<space>/objects/<BLAKE3 multihash hex>`,
      );
    }
  } else if (parts[2] === 'refs') {
    const ref = parts.slice(3);
    if (
      ref.length === 0 ||
      ref.length > 8 ||
      !ref.every((s) => /^[a-z0-9][a-z0-9._-]{0,63}$/.test(s) && !s.includes('..'))
    ) {
      throw new EngineError(
        'E_BAD_REQUEST',
        `${key}: ref names are 1-8 "/"-separated segments of a-z 0-9 . _ -`,
      );
    }
  } else if (!(parts[2] === 'tombstones' && parts.length === 3)) {
    throw new EngineError(
      'E_BAD_REQUEST',
      `${key}: keys under spaces/<space>/ are objects/..., refs/... or tombstones (spec 0020 §4)`,
    );
  }
}

async function walk(dir: string, relative: string, prefix: string, out: string[]): Promise<void> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if (
      (error as NodeJS.ErrnoException).code === 'ENOENT' ||
      (error as NodeJS.ErrnoException).code === 'ENOTDIR'
    )
      return;
    throw error;
  }
  for (const entry of entries) {
    const key = relative ? `${relative}/${entry.name}` : entry.name;
    if (entry.isDirectory()) {
      if (prefix.startsWith(`${key}/`) || key.startsWith(prefix) || prefix.startsWith(key))
        await walk(join(dir, entry.name), key, prefix, out);
    } else if (entry.isFile() && key.startsWith(prefix)) {
      out.push(key);
    }
  }
}

/** Whether a process is alive: signal 0 checks without sending; EPERM is a live process of another user. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function notFound(error: unknown, key: string): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR'
    ? new EngineError('E_NOT_FOUND', `${key} does not exist`)
    : error;
}
