/**
 * The object-store contract (spec 0005): the subset of the S3 REST API DreamDB uses. Every backend —
 * the embedded store, any S3-compatible store, the in-memory one for unit tests — implements it.
 */

/** A byte range [start, end): end is one past the last byte. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

/** What a store says about an object. */
export interface ObjectInfo {
  readonly key: string;
  readonly size: number;
  /** Normalized ETag (etag.ts). */
  readonly etag: string;
  /** When the object was last written, where the store says (LIST and HEAD do on S3). */
  readonly modified?: Date;
}

/** The bytes of an object, or of a range of it. */
export interface GetResult {
  readonly body: Uint8Array;
  readonly etag: string;
  /** Size of the whole object. */
  readonly size: number;
}

/** Conditions of a PUT: create-only (ifNoneMatch "*") or compare-and-swap (ifMatch ETag). */
export interface PutOptions {
  readonly ifNoneMatch?: '*';
  readonly ifMatch?: string;
  readonly contentType?: string;
  /**
   * The body's multihash (hex) as an in-process caller just computed it: a store may use it instead of
   * hashing the body again. Never set from a network request.
   */
  readonly multihash?: string;
}

/** One page of a listing, keys in ascending byte order. */
export interface ListPage {
  readonly objects: ObjectInfo[];
  /** Present when more keys follow; pass it back to get the next page. */
  readonly nextToken?: string;
}

export interface ListOptions {
  readonly token?: string;
  readonly maxKeys?: number;
}

/**
 * An object store. Errors are EngineErrors: E_NOT_FOUND (404), E_PRECONDITION (412: a lost CAS race or
 * an existing key under ifNoneMatch), E_RANGE (416), E_BAD_REQUEST, E_TOO_LARGE, E_FORBIDDEN,
 * E_STORE / E_STORE_TIMEOUT (the store failed or did not answer after retries).
 */
export interface ObjectStore {
  /** A short description for messages, e.g. "s3://bucket/prefix". */
  readonly name: string;
  get(key: string, range?: ByteRange): Promise<GetResult>;
  head(key: string): Promise<ObjectInfo>;
  /** Store `body` under `key`; the store may keep the array, so the caller must not change it afterwards. */
  put(key: string, body: Uint8Array, options?: PutOptions): Promise<{ etag: string }>;
  /** Optional: store a body given as parts, in order, without joining them first (large objects). */
  putParts?(key: string, parts: readonly Uint8Array[], options?: PutOptions): Promise<{ etag: string }>;
  delete(key: string): Promise<void>;
  /** One page of keys under a prefix. Bootstrap, GC and fsck only: never on a read or write hot path. */
  list(prefix: string, options?: ListOptions): Promise<ListPage>;
  close?(): Promise<void>;
}

/** Every key under a prefix, page by page. */
export async function* listAll(
  store: ObjectStore,
  prefix: string,
  maxKeys?: number,
): AsyncGenerator<ObjectInfo> {
  let token: string | undefined;
  do {
    const page = await store.list(prefix, {
      ...(token !== undefined && { token }),
      ...(maxKeys !== undefined && { maxKeys }),
    });
    yield* page.objects;
    token = page.nextToken;
  } while (token !== undefined);
}
