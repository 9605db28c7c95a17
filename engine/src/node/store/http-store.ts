import { setTimeout as sleep } from 'node:timers/promises';
import { XMLParser } from 'fast-xml-parser';
import { type Dispatcher, H2CClient, Pool } from 'undici';
import { equalBytes } from '../../address/multihash.js';
import { EngineError } from '../../errors.js';
import { type IfMatchStyle, ifMatchHeader, normalizeEtag } from '../../store/etag.js';
import type {
  ByteRange,
  GetResult,
  ListOptions,
  ListPage,
  ObjectInfo,
  ObjectStore,
  PutOptions,
} from '../../store/object-store.js';
import { rangeHeader } from '../../store/range.js';
import { engineErrorOf } from './s3-errors.js';
import { type Credentials, sha256Hex, signRequest } from './sigv4.js';

/** How to reach an S3-compatible store (the embedded one, RGW, MinIO, R2, AWS). */
export interface HttpStoreOptions {
  /** Scheme, host and port: http://127.0.0.1:7480, https://s3.us-east-1.amazonaws.com. */
  readonly endpoint: string;
  readonly bucket: string;
  /** A key prefix inside the bucket ("" for none). */
  readonly prefix?: string;
  readonly region?: string;
  /** SigV4 credentials; requests are sent unsigned when absent. */
  readonly credentials?: Credentials;
  /** path: /<bucket>/<key> (default); virtual: <bucket>.<host>/<key>. */
  readonly style?: 'path' | 'virtual';
  /**
   * auto (default): HTTP/2 by ALPN on https, HTTP/1.1 keep-alive on http (faster than h2c here: spec 0005
   * §6); h2c: HTTP/2 with prior knowledge, one connection (the embedded store speaks it); h1: HTTP/1.1.
   */
  readonly protocol?: 'auto' | 'h1' | 'h2c';
  /** How If-Match is spelled; "bare" for Ceph RGW 16, which only matches an unquoted ETag. */
  readonly ifMatch?: IfMatchStyle;
  /** Per-attempt timeout in ms (default 30 000). */
  readonly timeoutMs?: number;
  /** Retries after the first attempt for 5xx, 429, timeouts and connection errors (default 4). */
  readonly retries?: number;
  /** HTTP/1.1 connections kept per origin (default 16). */
  readonly connections?: number;
  /** How messages name the store (default: its endpoint and bucket). */
  readonly name?: string;
}

/** HTTP/2 flow-control windows of the client's side: per stream, and per connection. */
const H2_STREAM_WINDOW = 8 << 20;
const H2_CONNECTION_WINDOW = 64 << 20;
const RETRY_STATUS = new Set([429, 500, 502, 503, 504]);
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  isArray: (name) => name === 'Contents',
});

/** Percent-encode a key segment the way S3 and SigV4 expect (RFC 3986 unreserved characters kept). */
function encodeSegment(segment: string): string {
  return encodeURIComponent(segment).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

interface Attempt {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Uint8Array;
}

/** An S3-compatible object store reached over HTTP with undici: SigV4, retries with jitter, timeouts. */
export class HttpStore implements ObjectStore {
  readonly name: string;
  private readonly dispatcher: Dispatcher;
  private readonly origin: URL;
  private readonly basePath: string;
  private readonly keyPrefix: string;
  private readonly region: string;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly ifMatchStyle: IfMatchStyle;
  private readonly h2c: boolean;
  /** Whether any answer came back: an h2c connection refused before the first one is the wrong protocol. */
  private answered = false;
  /** Attempts that were retried, for observability. */
  retried = 0;

  constructor(readonly options: HttpStoreOptions) {
    const endpoint = new URL(options.endpoint);
    const virtual = options.style === 'virtual';
    this.origin = virtual
      ? new URL(`${endpoint.protocol}//${options.bucket}.${endpoint.host}`)
      : new URL(endpoint.origin);
    this.basePath = virtual ? '' : `/${encodeSegment(options.bucket)}`;
    this.keyPrefix = options.prefix ? `${options.prefix.replace(/\/+$/, '')}/` : '';
    this.region = options.region ?? 'us-east-1';
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.retries = options.retries ?? 4;
    this.ifMatchStyle = options.ifMatch ?? 'quoted';
    this.name =
      options.name ??
      `${endpoint.origin}/${options.bucket}${this.keyPrefix ? `/${this.keyPrefix.slice(0, -1)}` : ''}`;
    const protocol = options.protocol ?? 'auto';
    this.h2c = protocol === 'h2c';
    const timeouts = {
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
      keepAliveTimeout: 30_000,
    };
    if (protocol === 'h2c') {
      this.dispatcher = new H2CClient(this.origin, {
        ...timeouts,
        pipelining: 128,
        maxConcurrentStreams: 128,
        // HTTP/2 flow control: windows in MiB, so a large GET is not held back by window updates.
        initialWindowSize: H2_STREAM_WINDOW,
        connectionWindowSize: H2_CONNECTION_WINDOW,
      } as H2CClient.Options);
    } else {
      this.dispatcher = new Pool(this.origin, {
        ...timeouts,
        connections: options.connections ?? 16,
        allowH2: protocol === 'auto' && endpoint.protocol === 'https:',
      });
    }
  }

  private pathOf(key: string): string {
    return `${this.basePath}/${(this.keyPrefix + key).split('/').map(encodeSegment).join('/')}`;
  }

  /** One request with retries; returns the final response (any status). */
  private async send(
    method: string,
    path: string,
    query: Record<string, string>,
    headers: Record<string, string>,
    body: Uint8Array | undefined,
    what: string,
  ): Promise<Attempt & { ambiguous: boolean }> {
    const search = new URLSearchParams(query).toString().replace(/\+/g, '%20');
    let ambiguous = false;
    for (let attempt = 0; ; attempt++) {
      try {
        const sendHeaders: Record<string, string> = {
          ...headers,
          host: this.origin.host,
          'x-amz-content-sha256': body && body.length > 0 ? sha256Hex(body) : EMPTY_SHA256,
        };
        if (body) sendHeaders['content-length'] = String(body.length);
        const signed = this.options.credentials
          ? await signRequest(
              {
                method,
                protocol: this.origin.protocol as 'http:' | 'https:',
                hostname: this.origin.hostname,
                ...(this.origin.port && { port: Number(this.origin.port) }),
                path,
                query,
                headers: sendHeaders,
              },
              this.options.credentials,
              this.region,
            )
          : sendHeaders;
        const { host: _host, ...wire } = signed;
        const response = await this.dispatcher.request({
          origin: this.origin,
          method: method as Dispatcher.HttpMethod,
          path: search ? `${path}?${search}` : path,
          headers: wire,
          ...(body && { body }),
          // Keep the connection after HEAD and bodies too (undici closes it by default, to guard
          // against servers that send bodies they should not); stores here speak HTTP correctly.
          reset: false,
          // Every request of the contract is idempotent (content PUTs by their hash, ref PUTs by their
          // condition); saying so lets undici run PUTs side by side on one HTTP/2 connection.
          idempotent: true,
        });
        const bytes = new Uint8Array(await response.body.arrayBuffer());
        this.answered = true;
        if (RETRY_STATUS.has(response.statusCode) && attempt < this.retries) {
          ambiguous = true;
          await this.backoff(attempt);
          continue;
        }
        return { status: response.statusCode, headers: response.headers, body: bytes, ambiguous };
      } catch (error) {
        if (this.h2c && !this.answered && /^ERR_HTTP2/.test(String((error as { code?: string }).code))) {
          // An HTTP/1.1-only server (Ceph RGW's beast, s3rver, most S3 proxies) answers the HTTP/2 preface
          // with an HTTP/1.1 error: no retry can fix that.
          throw new EngineError(
            'E_STORE',
            `${what}: the store does not speak HTTP/2 with prior knowledge (h2c: ${(error as Error).message}); reach it over http:// (HTTP/1.1 keep-alive)`,
          );
        }
        if (attempt >= this.retries) {
          const timeout = /timeout/i.test(
            `${(error as Error).name} ${(error as { code?: string }).code ?? ''}`,
          );
          throw new EngineError(
            timeout ? 'E_STORE_TIMEOUT' : 'E_STORE',
            `${what}: ${timeout ? `no answer within ${this.timeoutMs} ms` : (error as Error).message} (after ${attempt + 1} attempts)`,
          );
        }
        ambiguous = true;
        await this.backoff(attempt);
      }
    }
  }

  /** Full-jitter exponential backoff: a random wait in [0, min(2 s, 50 ms * 2^attempt)). */
  private async backoff(attempt: number): Promise<void> {
    this.retried++;
    await sleep(Math.random() * Math.min(2000, 50 * 2 ** attempt));
  }

  private fail(response: Attempt, what: string): never {
    let code = '';
    let message = '';
    if (response.body.length > 0) {
      try {
        const error = parser.parse(Buffer.from(response.body).toString('utf8')).Error ?? {};
        code = String(error.Code ?? '');
        message = String(error.Message ?? '');
      } catch {
        // not XML: keep the status alone
      }
    }
    throw engineErrorOf(response.status, code, message, what);
  }

  private etagOf(response: Attempt): string {
    return normalizeEtag(String(response.headers.etag ?? ''));
  }

  async get(key: string, range?: ByteRange): Promise<GetResult> {
    const what = `GET ${key} from ${this.name}`;
    const headers: Record<string, string> = range ? { range: rangeHeader(range) } : {};
    const response = await this.send('GET', this.pathOf(key), {}, headers, undefined, what);
    if (response.status !== 200 && response.status !== 206) this.fail(response, what);
    let size = response.body.length;
    const contentRange = String(response.headers['content-range'] ?? '');
    const total = /\/(\d+)$/.exec(contentRange);
    if (total) size = Number(total[1]);
    if (range && response.status === 200) {
      // A store that ignored the Range header sent the whole object: cut the range out of it.
      return {
        body: response.body.subarray(range.start, Math.min(range.end, size)),
        etag: this.etagOf(response),
        size,
      };
    }
    return { body: response.body, etag: this.etagOf(response), size };
  }

  async head(key: string): Promise<ObjectInfo> {
    const what = `HEAD ${key} on ${this.name}`;
    const response = await this.send('HEAD', this.pathOf(key), {}, {}, undefined, what);
    if (response.status !== 200) this.fail(response, what);
    const lastModified = response.headers['last-modified'];
    return {
      key,
      size: Number(response.headers['content-length'] ?? 0),
      etag: this.etagOf(response),
      ...(typeof lastModified === 'string' && { modified: new Date(lastModified) }),
    };
  }

  async put(key: string, body: Uint8Array, options: PutOptions = {}): Promise<{ etag: string }> {
    const what = `PUT ${key} to ${this.name}`;
    const headers: Record<string, string> = {
      'content-type': options.contentType ?? 'application/octet-stream',
    };
    if (options.ifNoneMatch) headers['if-none-match'] = '*';
    if (options.ifMatch !== undefined)
      headers['if-match'] = ifMatchHeader(options.ifMatch, this.ifMatchStyle);
    const response = await this.send('PUT', this.pathOf(key), {}, headers, body, what);
    if (response.status === 200) return { etag: this.etagOf(response) };
    if (response.status === 412 && response.ambiguous) {
      // An attempt failed in flight and the retry lost: the first attempt may have landed. If the key
      // holds exactly our bytes, the write succeeded.
      const current = await this.get(key).catch(() => undefined);
      if (current && equalBytes(current.body, body)) return { etag: current.etag };
    }
    return this.fail(response, what);
  }

  async delete(key: string): Promise<void> {
    const what = `DELETE ${key} on ${this.name}`;
    const response = await this.send('DELETE', this.pathOf(key), {}, {}, undefined, what);
    if (response.status !== 204 && response.status !== 200 && response.status !== 404)
      this.fail(response, what);
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListPage> {
    const what = `LIST ${prefix} on ${this.name}`;
    const query: Record<string, string> = { 'list-type': '2', prefix: this.keyPrefix + prefix };
    if (options.token !== undefined) query['continuation-token'] = options.token;
    if (options.maxKeys !== undefined) query['max-keys'] = String(options.maxKeys);
    const response = await this.send('GET', this.basePath || '/', query, {}, undefined, what);
    if (response.status !== 200) this.fail(response, what);
    const result = parser.parse(Buffer.from(response.body).toString('utf8')).ListBucketResult;
    if (!result) throw new EngineError('E_STORE', `${what}: the answer is not a ListBucketResult`);
    const objects = ((result.Contents ?? []) as Record<string, string>[]).map((c) => ({
      key: String(c.Key).slice(this.keyPrefix.length),
      size: Number(c.Size),
      etag: normalizeEtag(c.ETag),
      ...(c.LastModified && { modified: new Date(String(c.LastModified)) }),
    }));
    const truncated = String(result.IsTruncated) === 'true';
    const next = result.NextContinuationToken;
    return truncated && next ? { objects, nextToken: String(next) } : { objects };
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }
}
