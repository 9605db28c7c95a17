import { createHash, randomBytes } from 'node:crypto';
import { createServer as createH1Server, type IncomingMessage, type ServerResponse } from 'node:http';
import {
  createServer as createH2Server,
  type Http2ServerRequest,
  type Http2ServerResponse,
} from 'node:http2';
import { type AddressInfo, createServer as createTcpServer, isIPv4, isIPv6, type Socket } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { XMLBuilder } from 'fast-xml-parser';
import { EngineError } from '../../errors.js';
import { parseRangeHeader } from '../../store/range.js';
import { FsStore, MAX_OBJECT_BYTES, pageKeys } from './fs-store.js';
import { s3ErrorOf } from './s3-errors.js';
import { type Credentials, verifyRequest } from './sigv4.js';

/** How to run the embedded store's HTTP server. */
export interface StoreServerOptions {
  /** The store directory, opened here and released on close (unless `store` is given). */
  readonly dir?: string;
  /**
   * An already-open store to serve; its opener keeps it (and its lock) after the server closes. One
   * process takes one lock on a directory, whatever serves it.
   */
  readonly store?: FsStore;
  readonly host?: string;
  /** 0 (default) picks a free port. */
  readonly port?: number;
  /** The bucket served (default dreamdb); an open store serves its own. */
  readonly bucket?: string;
  /** When given, requests must carry a valid SigV4 signature from one of these keys. */
  readonly credentials?: readonly Credentials[];
  /**
   * Without credentials, accept unsigned requests on a non-loopback address too; refused otherwise.
   * Loopback without credentials is anonymous by default.
   */
  readonly allowAnonymous?: boolean;
  readonly maxObjectBytes?: number;
}

/** Counters of a running store server. */
export interface StoreServerStats {
  connections: number;
  h2Connections: number;
  requests: number;
  lists: number;
}

/** A running embedded store. */
export interface StoreServer {
  /** Base URL, e.g. http://127.0.0.1:7480 (the bucket is the first path segment). */
  readonly url: string;
  readonly port: number;
  readonly bucket: string;
  readonly store: FsStore;
  readonly stats: StoreServerStats;
  close(): Promise<void>;
}

type Request = IncomingMessage | Http2ServerRequest;
type Response = ServerResponse | Http2ServerResponse;

const xml = new XMLBuilder({ ignoreAttributes: false, format: false, suppressEmptyNode: true });
/** HTTP/2 flow-control windows of the store's side: per stream, and per connection. */
const H2_STREAM_WINDOW = 8 << 20;
const H2_CONNECTION_WINDOW = 64 << 20;
/** The largest DATA frame the store takes: fewer frames (and events) per large PUT than 16 KiB ones. */
const H2_FRAME = 1 << 20;
const XML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>';
const S3_NS = 'http://s3.amazonaws.com/doc/2006-03-01/';

/**
 * Serve a store directory over the S3 REST subset of spec 0005: HTTP/1.1 keep-alive and h2c (HTTP/2
 * with prior knowledge) on one port, told apart by the connection's first bytes.
 */
export async function startStoreServer(options: StoreServerOptions): Promise<StoreServer> {
  const host = options.host ?? '127.0.0.1';
  const secrets = new Map((options.credentials ?? []).map((c) => [c.accessKeyId, c.secretAccessKey]));
  // Checked before the directory is taken: a refused start leaves no lock behind.
  if (secrets.size === 0 && !isLoopback(host) && options.allowAnonymous !== true) {
    throw new EngineError(
      'E_FORBIDDEN',
      `the embedded store on ${host} (not a loopback address) would take anonymous writes from the network: ` +
        'give SigV4 credentials (--access-key and --secret-key), or allow it explicitly (--insecure-open; ' +
        'allowAnonymous: true in the API)',
    );
  }
  if (options.store === undefined && options.dir === undefined)
    throw new EngineError('E_BAD_REQUEST', 'startStoreServer needs a store directory or an open store');
  const store = options.store ?? (await FsStore.open(options.dir!, options.bucket ?? 'dreamdb'));
  const ownsStore = options.store === undefined;
  const bucket = store.bucket;
  const stats: StoreServerStats = { connections: 0, h2Connections: 0, requests: 0, lists: 0 };
  const context: Context = {
    store,
    bucket,
    stats,
    secrets,
    anonymous: secrets.size === 0,
    maxObjectBytes: options.maxObjectBytes ?? MAX_OBJECT_BYTES,
  };
  const handler = (req: Request, res: Response) => {
    stats.requests++;
    handle(context, req, res).catch((error) => sendError(res, error, req.url ?? ''));
  };
  const h1 = createH1Server({ keepAliveTimeout: 65_000 }, handler);
  // Many large PUTs in flight on one session (a publish uploads 16 at a time) must not trip the 10 MB
  // default session memory (ENHANCE_YOUR_CALM).
  // Flow-control windows of 64 KiB (HTTP/2's default) stall a large PUT on a window update every 64 KiB;
  // windows in MiB let a body stream at the speed of the disk (bench/http2.ts measures it).
  const h2 = createH2Server(
    {
      settings: { maxConcurrentStreams: 256, initialWindowSize: H2_STREAM_WINDOW, maxFrameSize: H2_FRAME },
      maxSessionMemory: 512,
    },
    handler,
  );
  h2.on('session', (session) => session.setLocalWindowSize(H2_CONNECTION_WINDOW));
  const sockets = new Set<Socket>();
  const tcp = createTcpServer({ noDelay: true }, (socket) => {
    stats.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.once('readable', () => {
      const head: Buffer | null = socket.read();
      if (head === null) return;
      socket.unshift(head);
      // An HTTP/2 connection opens with "PRI * HTTP/2.0"; no HTTP/1 method starts with "PRI".
      if (head.subarray(0, 3).toString('latin1') === 'PRI') {
        stats.h2Connections++;
        h2.emit('connection', socket);
      } else {
        h1.emit('connection', socket);
      }
    });
  });
  try {
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(options.port ?? 0, host, () => resolve());
    });
  } catch (error) {
    if (ownsStore) await store.close();
    throw error;
  }
  const port = (tcp.address() as AddressInfo).port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    bucket,
    store,
    stats,
    async close() {
      await new Promise<void>((resolve) => {
        tcp.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      h1.close();
      h2.close();
      if (ownsStore) await store.close();
    },
  };
}

/** Whether a bind address reaches only this machine (127.0.0.0/8, ::1, localhost). */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (bare === 'localhost') return true;
  if (isIPv4(bare)) return bare.startsWith('127.');
  if (isIPv6(bare)) return bare === '::1' || /^::ffff:127\./.test(bare);
  return false;
}

interface Context {
  readonly store: FsStore;
  readonly bucket: string;
  readonly stats: StoreServerStats;
  readonly secrets: Map<string, string>;
  readonly anonymous: boolean;
  readonly maxObjectBytes: number;
}

function headersOf(req: Request): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (name.startsWith(':') || value === undefined) continue;
    out[name] = Array.isArray(value) ? value.join(',') : String(value);
  }
  const authority = (req.headers as Record<string, string | undefined>)[':authority'];
  if (out.host === undefined && authority !== undefined) out.host = authority;
  return out;
}

async function authenticate(
  context: Context,
  req: Request,
  rawPath: string,
  query: URLSearchParams,
): Promise<void> {
  const headers = headersOf(req);
  if (context.anonymous && headers.authorization === undefined) return;
  if (context.secrets.size === 0) return; // anonymous store: signatures are not checked
  const [hostname, port] = (headers.host ?? '').split(':');
  await verifyRequest(
    {
      method: req.method ?? 'GET',
      protocol: 'http:',
      hostname: hostname ?? '',
      ...(port !== undefined && { port: Number(port) }),
      path: rawPath,
      query: Object.fromEntries(query),
      headers,
    },
    (id) => context.secrets.get(id),
  );
}

async function handle(context: Context, req: Request, res: Response): Promise<void> {
  const target = req.url ?? '/';
  const q = target.indexOf('?');
  const rawPath = q < 0 ? target : target.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : target.slice(q + 1));
  await authenticate(context, req, rawPath, query);
  let path: string;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    throw new EngineError('E_BAD_REQUEST', `path ${rawPath} is not valid percent-encoding`);
  }
  const slash = path.indexOf('/', 1);
  const bucket = slash < 0 ? path.slice(1) : path.slice(1, slash);
  const key = slash < 0 ? '' : path.slice(slash + 1);
  const method = req.method ?? 'GET';
  if (bucket === '') {
    if (method !== 'GET') throw new EngineError('E_BAD_REQUEST', `${method} / is not supported`);
    return sendXml(res, 200, {
      ListAllMyBucketsResult: {
        '@_xmlns': S3_NS,
        Owner: { ID: 'dreamdb', DisplayName: 'dreamdb' },
        Buckets: { Bucket: [{ Name: context.bucket, CreationDate: '2026-01-01T00:00:00.000Z' }] },
      },
    });
  }
  if (bucket !== context.bucket) {
    throw Object.assign(
      new EngineError('E_NOT_FOUND', `bucket ${bucket} does not exist (this store serves ${context.bucket})`),
      {
        s3Code: 'NoSuchBucket',
      },
    );
  }
  if (query.has('uploads') || query.has('uploadId')) {
    throw new EngineError(
      'E_BAD_REQUEST',
      'multipart upload is not supported in v0 (objects are at most 100 MiB)',
    );
  }
  if (key === '') {
    if (method === 'HEAD') return void res.writeHead(200).end();
    if (method === 'GET') return listObjects(context, res, query);
    throw new EngineError('E_BAD_REQUEST', `${method} on a bucket is not supported`);
  }
  switch (method) {
    case 'GET':
    case 'HEAD':
      return getObject(context, req, res, bucket, key, method === 'HEAD');
    case 'PUT':
      return putObject(context, req, res, bucket, key);
    case 'DELETE':
      await context.store.delete(key, bucket);
      res.writeHead(204).end();
      return;
    default:
      throw new EngineError('E_BAD_REQUEST', `method ${method} is not supported`);
  }
}

async function getObject(
  context: Context,
  req: Request,
  res: Response,
  bucket: string,
  key: string,
  headOnly: boolean,
) {
  const info = await context.store.head(key, bucket);
  const rangeHeader = req.headers.range;
  const range = typeof rangeHeader === 'string' ? parseRangeHeader(rangeHeader, info.size, key) : undefined;
  const headers: Record<string, string | number> = {
    etag: `"${info.etag}"`,
    'last-modified': info.modified.toUTCString(),
    'accept-ranges': 'bytes',
    'content-type': 'application/octet-stream',
  };
  if (headOnly) {
    res.writeHead(200, { ...headers, 'content-length': info.size }).end();
    return;
  }
  const opened = await context.store.openRead(key, range, bucket, info);
  const length = opened.range.end - opened.range.start;
  if (range) headers['content-range'] = `bytes ${opened.range.start}-${opened.range.end - 1}/${opened.size}`;
  res.writeHead(range ? 206 : 200, { ...headers, 'content-length': length });
  if (opened.stream) await pipeline(opened.stream, res as NodeJS.WritableStream);
  else res.end(opened.body!);
}

async function* checkedBody(req: Request, declared: string | undefined, limit: number, key: string) {
  const sha = declared && /^[0-9a-f]{64}$/.test(declared) ? createHash('sha256') : undefined;
  const md5Header = req.headers['content-md5'];
  const md5 = typeof md5Header === 'string' ? createHash('md5') : undefined;
  let total = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > limit) throw new EngineError('E_TOO_LARGE', `${key}: body is over ${limit} bytes`);
    sha?.update(chunk);
    md5?.update(chunk);
    yield chunk;
  }
  if (sha && sha.digest('hex') !== declared) {
    throw new EngineError('E_HASH_MISMATCH', `${key}: the body does not match its x-amz-content-sha256`);
  }
  if (md5 && md5.digest('base64') !== md5Header) {
    throw new EngineError('E_HASH_MISMATCH', `${key}: the body does not match its Content-MD5`);
  }
}

async function putObject(context: Context, req: Request, res: Response, bucket: string, key: string) {
  const length = Number(req.headers['content-length'] ?? Number.NaN);
  if (length > context.maxObjectBytes) {
    throw new EngineError(
      'E_TOO_LARGE',
      `${key}: ${length} bytes is over the ${context.maxObjectBytes}-byte object limit`,
    );
  }
  if (String(req.headers['content-encoding'] ?? '').includes('aws-chunked')) {
    throw new EngineError(
      'E_BAD_REQUEST',
      `${key}: aws-chunked uploads are not supported; send a plain body`,
    );
  }
  const ifNoneMatch = req.headers['if-none-match'];
  const ifMatch = req.headers['if-match'];
  if (ifNoneMatch !== undefined && ifNoneMatch !== '*') {
    throw new EngineError('E_BAD_REQUEST', `${key}: If-None-Match on PUT must be *`);
  }
  const declared = req.headers['x-amz-content-sha256'];
  const { etag } = await context.store.putStream(
    key,
    checkedBody(req, typeof declared === 'string' ? declared : undefined, context.maxObjectBytes, key),
    {
      ...(ifNoneMatch === '*' && { ifNoneMatch: '*' as const }),
      ...(typeof ifMatch === 'string' && { ifMatch }),
      maxBytes: context.maxObjectBytes,
    },
    bucket,
  );
  res.writeHead(200, { etag: `"${etag}"`, 'content-length': 0 }).end();
}

async function listObjects(context: Context, res: Response, query: URLSearchParams) {
  context.stats.lists++;
  const prefix = query.get('prefix') ?? '';
  const delimiter = query.get('delimiter') ?? '';
  const v2 = query.get('list-type') === '2';
  const urlEncoded = query.get('encoding-type') === 'url';
  const maxKeysText = query.get('max-keys');
  const maxKeys = maxKeysText === null ? 1000 : Number(maxKeysText);
  if (!Number.isInteger(maxKeys) || maxKeys < 0)
    throw new EngineError('E_BAD_REQUEST', `max-keys ${maxKeysText} is not a count`);
  const tokenText = v2 ? query.get('continuation-token') : query.get('marker');
  const startAfter = query.get('start-after');
  let token: string | undefined;
  if (tokenText) token = v2 ? Buffer.from(tokenText, 'base64url').toString('utf8') : tokenText;
  else if (startAfter) token = startAfter;
  const page =
    maxKeys === 0
      ? { keys: [], commonPrefixes: [] }
      : pageKeys(await context.store.keysUnder(prefix, context.bucket), {
          prefix,
          maxKeys,
          ...(token !== undefined && { token }),
          ...(delimiter !== '' && { delimiter }),
        });
  const next = 'nextToken' in page ? page.nextToken : undefined;
  const encode = (key: string) => (urlEncoded ? encodeURIComponent(key).replace(/%2F/g, '/') : key);
  const infos = await Promise.all(page.keys.map((key) => context.store.head(key, context.bucket)));
  const body: Record<string, unknown> = {
    '@_xmlns': S3_NS,
    Name: context.bucket,
    Prefix: encode(prefix),
    MaxKeys: maxKeys,
    IsTruncated: next !== undefined,
    Contents: infos.map((o) => ({
      Key: encode(o.key),
      LastModified: o.modified.toISOString(),
      ETag: `"${o.etag}"`,
      Size: o.size,
      StorageClass: 'STANDARD',
    })),
    CommonPrefixes: page.commonPrefixes.map((p) => ({ Prefix: encode(p) })),
  };
  if (delimiter !== '') body.Delimiter = encode(delimiter);
  if (urlEncoded) body.EncodingType = 'url';
  if (v2) {
    body.KeyCount = infos.length + page.commonPrefixes.length;
    if (tokenText) body.ContinuationToken = tokenText;
    if (next !== undefined) body.NextContinuationToken = Buffer.from(next, 'utf8').toString('base64url');
  } else {
    body.Marker = tokenText ?? '';
    if (next !== undefined) body.NextMarker = next;
  }
  return sendXml(res, 200, { ListBucketResult: body });
}

function sendXml(res: Response, status: number, value: unknown) {
  const text = XML_HEAD + xml.build(value);
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendError(res: Response, error: unknown, resource: string) {
  const { status, code, message } = s3ErrorOf(error);
  const s3Code = (error as { s3Code?: string }).s3Code ?? code;
  if (res.headersSent) {
    res.destroy?.();
    return;
  }
  const text =
    XML_HEAD +
    xml.build({
      Error: {
        Code: s3Code,
        Message: message,
        Resource: resource.split('?')[0],
        RequestId: randomBytes(8).toString('hex'),
      },
    });
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(text) });
  if (res.req?.method === 'HEAD')
    res.end(); // a HEAD answer has no body
  else res.end(text);
}
