import { EngineError, quote } from '../errors.js';

/**
 * Modality tags (spec 0002 §5): dot-separated lowercase segments naming what an item holds, then
 * optional ";key=value" parameters in ascending key order. A tag whose first segment is a DreamDB family
 * is built in; any other is user-defined and must be reverse-DNS with at least three segments.
 */
export interface Modality {
  /** The segments, e.g. ["video", "h264"] or ["com", "acme", "lidar"]. */
  readonly segments: readonly string[];
  /** Parameters, keys in ascending order. */
  readonly params: ReadonlyMap<string, string>;
  /** True for a tag in a DreamDB family, false for a reverse-DNS user tag. */
  readonly builtin: boolean;
}

/** First segments reserved for DreamDB's own modalities. */
export const FAMILIES: ReadonlySet<string> = new Set([
  'video',
  'audio',
  'image',
  'text',
  'event',
  'vector',
  'sensor',
  'meta',
]);

/** Longest tag accepted, parameters included. */
export const MAX_MODALITY_LENGTH = 255;

const FIRST_SEGMENT = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
const SEGMENT = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const PARAM_KEY = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
const PARAM_VALUE = /^[A-Za-z0-9._+/:-]+$/;

function refuse(tag: string, why: string): never {
  throw new EngineError('E_MODALITY', `modality ${quote(tag)}: ${why}`);
}

/** Parse a modality tag strictly: one spelling per tag, so tags can be compared as strings. */
export function parseModality(tag: string): Modality {
  if (typeof tag !== 'string') return refuse(String(tag), 'is not a string');
  if (tag.length === 0) refuse(tag, 'is empty');
  if (tag.length > MAX_MODALITY_LENGTH) refuse(tag, `is longer than ${MAX_MODALITY_LENGTH} characters`);
  const [path, ...paramTexts] = tag.split(';');
  const segments = path!.split('.');
  segments.forEach((segment, i) => {
    if (segment.length === 0) refuse(tag, `segment ${i + 1} is empty`);
    if (segment.length > 63) refuse(tag, `segment ${quote(segment)} is longer than 63 characters`);
    if (!(i === 0 ? FIRST_SEGMENT : SEGMENT).test(segment)) {
      refuse(
        tag,
        `segment ${quote(segment)} must be lowercase letters, digits and inner hyphens${i === 0 ? ', starting with a letter' : ''}`,
      );
    }
  });
  const builtin = FAMILIES.has(segments[0]!);
  if (!builtin && segments.length < 3) {
    refuse(
      tag,
      `${quote(segments[0])} is not a DreamDB family (${[...FAMILIES].join(', ')}); user tags are reverse-DNS with 3+ segments, e.g. com.acme.lidar`,
    );
  }
  const params = new Map<string, string>();
  let previous = '';
  for (const text of paramTexts) {
    const eq = text.indexOf('=');
    if (eq <= 0) refuse(tag, `parameter ${quote(text)} is not key=value`);
    const key = text.slice(0, eq);
    const value = text.slice(eq + 1);
    if (!PARAM_KEY.test(key))
      refuse(tag, `parameter key ${quote(key)} must be lowercase letters, digits and hyphens`);
    if (!PARAM_VALUE.test(value))
      refuse(tag, `parameter ${key} has an empty or invalid value ${quote(value)}`);
    if (params.has(key)) refuse(tag, `parameter ${key} is given twice`);
    if (key < previous)
      refuse(tag, `parameters must be in ascending key order: ${quote(key)} comes before ${quote(previous)}`);
    params.set(key, value);
    previous = key;
  }
  return { segments, params, builtin };
}

/** The canonical text of a modality (parameters sorted); parseModality(formatModality(m)) equals m. */
export function formatModality(modality: {
  segments: readonly string[];
  params?: ReadonlyMap<string, string>;
}): string {
  const keys = [...(modality.params?.keys() ?? [])].sort();
  const text = [modality.segments.join('.'), ...keys.map((k) => `${k}=${modality.params!.get(k)}`)].join(';');
  const parsed = parseModality(text);
  // A segment holding "." or a value holding ";" would parse back as something else: refuse it.
  const same =
    parsed.segments.length === modality.segments.length &&
    parsed.params.size === keys.length &&
    keys.every((k) => parsed.params.get(k) === modality.params!.get(k));
  if (!same) refuse(text, 'a segment or parameter value holds "." or ";" where it cannot');
  return text;
}

/** Return `tag` if it parses, else throw E_MODALITY. */
export function assertModality(tag: unknown, what = 'modality'): string {
  try {
    parseModality(tag as string);
  } catch (error) {
    throw new EngineError(
      'E_MODALITY',
      `${what}: ${(error as EngineError).message.replace(/^E_MODALITY: /, '')}`,
    );
  }
  return tag as string;
}

/** True when `tag` is a valid modality tag. */
export function isModality(tag: string): boolean {
  try {
    parseModality(tag);
    return true;
  } catch {
    return false;
  }
}
