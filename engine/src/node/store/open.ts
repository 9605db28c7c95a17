import { join } from 'node:path';
import { EngineError } from '../../errors.js';
import type { IfMatchStyle } from '../../store/etag.js';
import type { ObjectStore } from '../../store/object-store.js';
import {
  type Holder,
  holdStore,
  openOwned,
  readHolder,
  StoreHeldError,
  storeThroughHolder,
} from './holder.js';
import type { HttpStore } from './http-store.js';
import type { StoreServer } from './server.js';

/** A store opened from configuration, with the embedded server when one was started. */
export interface OpenedStore {
  readonly store: ObjectStore;
  /** The in-process embedded store server, when this process holds the directory it named. */
  readonly server?: StoreServer;
  close(): Promise<void>;
}

type Env = Record<string, string | undefined>;

/** The default embedded store directory: $DREAMDB_HOME/store, or ./.dreamdb/store. */
export function defaultStoreDir(env: Env = process.env): string {
  return join(env.DREAMDB_HOME ?? '.dreamdb', 'store');
}

/** How `openStore` opens a directory. */
export interface OpenStoreOptions {
  /**
   * Hold a directory no other process holds: while this process runs, every other process that opens it
   * goes through this one's loopback endpoint (`dreamdb serve`).
   */
  readonly hold?: boolean;
}

/**
 * Open the store a configuration names (DREAMDB_STORE when `spec` is not given):
 * - nothing, a path, or file:DIR: the embedded store on that directory. When a live process holds it
 *   (its holder file, spec 0005 §7.1), through that process's loopback endpoint; else opened directly
 *   (this process owns it; `hold` shares it while it runs); DREAMDB_EMBEDDED=http holds it and talks
 *   to it through HTTP instead;
 * - s3://bucket/prefix: an S3-compatible store; endpoint from AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL /
 *   S3_ENDPOINT (else AWS), region from AWS_REGION / AWS_DEFAULT_REGION, credentials from
 *   AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN (unsigned when absent),
 *   DREAMDB_S3_STYLE=path|virtual, DREAMDB_S3_IF_MATCH=quoted|bare;
 * - http://host:port/bucket/prefix (HTTP/1.1 keep-alive), https:// (HTTP/2 by ALPN, else HTTP/1.1) or
 *   h2c://host:port/bucket/prefix (HTTP/2 with prior knowledge): a store at that URL, path-style.
 */
export async function openStore(
  spec: string | undefined = process.env.DREAMDB_STORE,
  env: Env = process.env,
  options: OpenStoreOptions = {},
): Promise<OpenedStore> {
  const text = spec?.trim() ?? '';
  if (text === '' || text.startsWith('/') || text.startsWith('.') || text.startsWith('file:')) {
    const dir = text === '' ? defaultStoreDir(env) : text.replace(/^file:(\/\/)?/, '');
    return openDirectory(dir, options.hold === true, env.DREAMDB_EMBEDDED === 'http');
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new EngineError(
      'E_BAD_REQUEST',
      `DREAMDB_STORE ${JSON.stringify(text)} is not a directory, s3://bucket/prefix, or http(s)://host/bucket/prefix`,
    );
  }
  const credentials =
    env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
      ? {
          accessKeyId: env.AWS_ACCESS_KEY_ID,
          secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
          ...(env.AWS_SESSION_TOKEN && { sessionToken: env.AWS_SESSION_TOKEN }),
        }
      : undefined;
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const ifMatch = (env.DREAMDB_S3_IF_MATCH as IfMatchStyle | undefined) ?? 'quoted';
  if (ifMatch !== 'quoted' && ifMatch !== 'bare')
    throw new EngineError('E_BAD_REQUEST', `DREAMDB_S3_IF_MATCH must be quoted or bare`);
  const { HttpStore } = await import('./http-store.js');
  let store: HttpStore;
  if (url.protocol === 's3:') {
    const endpoint = env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL ?? env.S3_ENDPOINT;
    const style = (env.DREAMDB_S3_STYLE as 'path' | 'virtual' | undefined) ?? (endpoint ? 'path' : 'virtual');
    store = new HttpStore({
      endpoint: endpoint ?? `https://s3.${region}.amazonaws.com`,
      bucket: url.hostname,
      prefix: url.pathname.replace(/^\/+/, ''),
      region,
      style,
      ifMatch,
      ...(credentials && { credentials }),
    });
  } else if (url.protocol === 'http:' || url.protocol === 'https:' || url.protocol === 'h2c:') {
    const [bucket, ...prefix] = url.pathname.replace(/^\/+/, '').split('/');
    if (!bucket)
      throw new EngineError(
        'E_BAD_REQUEST',
        `store URL ${text} names no bucket (http://host:port/<bucket>/<prefix>)`,
      );
    store = new HttpStore({
      endpoint: `${url.protocol === 'h2c:' ? 'http:' : url.protocol}//${url.host}`,
      bucket,
      prefix: prefix.join('/'),
      region,
      ifMatch,
      protocol: url.protocol === 'h2c:' ? 'h2c' : 'auto',
      ...(credentials && { credentials }),
    });
  } else {
    throw new EngineError(
      'E_BAD_REQUEST',
      `store scheme ${url.protocol} is not supported (use a directory, s3://, http://, https:// or h2c://)`,
    );
  }
  return { store, close: () => store.close() };
}

/** An embedded store directory: through its holder, held here, or owned directly. */
async function openDirectory(dir: string, hold: boolean, overHttp: boolean): Promise<OpenedStore> {
  const through = async (holder: Holder): Promise<OpenedStore> => {
    const store = await storeThroughHolder(dir, holder);
    return { store, close: () => store.close() };
  };
  const holder = await readHolder(dir);
  if (holder) return through(holder);
  try {
    if (!hold && !overHttp) {
      // This process owns the directory: its files are read and written directly, with no HTTP hop.
      const store = await openOwned(dir);
      return { store, close: () => store.close() };
    }
    const held = await holdStore(dir);
    if (!overHttp) return { store: held.store, server: held.server, close: () => held.close() };
    // The same store behind its HTTP contract, in-process (what an origin mounting it sees).
    const store = await storeThroughHolder(dir, held.holder);
    return {
      store,
      server: held.server,
      close: async () => {
        await store.close();
        await held.close();
      },
    };
  } catch (error) {
    // Taken by a holder between the look above and the lock: go through it.
    if (error instanceof StoreHeldError && error.holder) return through(error.holder);
    throw error;
  }
}
