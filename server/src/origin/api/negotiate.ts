import { decodeCanonical, EngineError, encodeCanonical, toJsonForm } from '@dreamdb/engine';
import type { Context } from 'hono';
import { accepts } from 'hono/accepts';
import { bodyLimit } from 'hono/body-limit';

/**
 * Content negotiation of the verb routes. A response is built once as a tree where 64-bit integers
 * (ticks, durations, nanosecond times) are bigints and stored CBOR values are wrapped in Payload; the
 * JSON form then writes bigints as decimal strings and payloads in the engine's JSON form, and the CBOR
 * form keeps both as they are (integers, native CBOR values).
 */

/** How a request or response body is encoded. */
export type Form = 'json' | 'cbor';

export const JSON_TYPE = 'application/json';
export const CBOR_TYPE = 'application/cbor';
export const NDJSON_TYPE = 'application/x-ndjson';
export const CBOR_SEQ_TYPE = 'application/cbor-seq';
export const OCTETS_TYPE = 'application/octet-stream';

/** A stored CBOR value (an item's payload, a track's attrs): JSON form in JSON, itself in CBOR. */
export class Payload {
  constructor(readonly value: unknown) {}
}

/** The media type the client prefers among `supports` (the first one when it states no preference). */
export function preferred(c: Context, supports: readonly string[]): string {
  return accepts(c, { header: 'Accept', supports: [...supports], default: supports[0]! });
}

/** The tree in JSON terms: bigints as decimal strings, payloads in JSON form, undefined fields dropped. */
export function toJson(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Payload) return toJsonForm(value.value);
  if (Array.isArray(value)) return value.map(toJson);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = toJson(v);
    return out;
  }
  return value;
}

/** The tree in CBOR terms: payloads unwrapped, undefined fields dropped (the encoder refuses them). */
export function toCbor(value: unknown): unknown {
  if (value instanceof Payload) return value.value;
  if (Array.isArray(value)) return value.map(toCbor);
  if (value !== null && typeof value === 'object' && !(value instanceof Uint8Array)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = toCbor(v);
    return out;
  }
  return value;
}

/** One record of a JSON or CBOR response, encoded. */
export function encodeAs(form: Form, value: unknown): Uint8Array {
  return form === 'cbor'
    ? encodeCanonical(toCbor(value))
    : new TextEncoder().encode(JSON.stringify(toJson(value)));
}

/** Answer with the tree as JSON, or as deterministic CBOR when the client's Accept prefers it. */
export function respond(
  c: Context,
  value: unknown,
  headers: Record<string, string> = {},
  status: 200 | 201 | 400 | 401 | 403 | 404 | 409 | 410 | 412 | 413 | 415 | 416 | 429 | 500 | 501 | 507 = 200,
): Response {
  const form: Form = preferred(c, [JSON_TYPE, CBOR_TYPE]) === CBOR_TYPE ? 'cbor' : 'json';
  const body = encodeAs(form, value);
  return c.body(body as Uint8Array<ArrayBuffer>, status, {
    ...headers,
    'content-type': form === 'cbor' ? CBOR_TYPE : `${JSON_TYPE}; charset=utf-8`,
    vary: 'Accept',
  });
}

/** A request body as decoded: its form (so payloads are read in the right convention) and its value. */
export interface Body {
  readonly form: Form;
  readonly value: unknown;
}

/** The media type of a Content-Type header, lowercased, parameters dropped. */
const mediaType = (header: string | undefined) => header?.split(';')[0]?.trim().toLowerCase();

/**
 * The request body: JSON, or deterministic CBOR (RFC 8949 §4.2.1, DreamDB profile) by Content-Type; an
 * empty body is `{}` (every field defaulted). Other types are 415; unparseable bytes are 400.
 */
export async function readBody(c: Context): Promise<Body> {
  const bytes = new Uint8Array(await c.req.arrayBuffer());
  if (bytes.length === 0) return { form: 'json', value: {} };
  const type = mediaType(c.req.header('content-type'));
  if (type === JSON_TYPE) {
    try {
      return { form: 'json', value: JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) };
    } catch (error) {
      throw new EngineError('E_BAD_REQUEST', `body: not valid JSON (${(error as Error).message})`);
    }
  }
  if (type === CBOR_TYPE) {
    try {
      return { form: 'cbor', value: decodeCanonical(bytes) };
    } catch (error) {
      throw new EngineError('E_BAD_REQUEST', `body: not deterministic CBOR (${detail(error)})`);
    }
  }
  throw new UnsupportedType(type);
}

/** 415: a body in a media type the verbs do not read. */
export class UnsupportedType extends Error {
  constructor(readonly type: string | undefined) {
    super(`body: Content-Type ${type ?? '(none)'} is not ${JSON_TYPE} or ${CBOR_TYPE}`);
  }
}

/** An engine error's message without its code prefix (the code travels in the `error` field). */
export const detail = (error: unknown) => (error as Error).message.replace(/^E_[A-Z_]+: /, '');

/** Refuse bodies over `maxBytes` with 413 before reading them (by Content-Length) or while reading. */
export const limitBody = (maxBytes: number) =>
  bodyLimit({
    maxSize: maxBytes,
    onError: (c) =>
      c.json({ error: 'E_TOO_LARGE', message: `body: over the limit of ${maxBytes} bytes` }, 413),
  });
