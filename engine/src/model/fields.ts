import { Tag } from 'cbor-x';
import { assertModality } from '../address/modality.js';
import { assertMultihash, type Multihash } from '../address/multihash.js';
import { TAGS, untagTick } from '../cbor/tags.js';
import { EngineError, quote } from '../errors.js';
import type { Tick } from '../time/ticks.js';
import { assertName } from './names.js';

/** Longest free text (titles, messages, labels) a record holds. */
export const MAX_TEXT = 4096;
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

function wrong(path: string, why: string): never {
  throw new EngineError('E_FIELD', `${path}: ${why}`);
}

/**
 * Reads the fields of one decoded record, naming each field's path in every error, and refuses
 * fields it does not know: a record has one encoding, so its hash has one value.
 */
export class FieldReader {
  private readonly record: Record<string, unknown>;

  constructor(
    value: unknown,
    private readonly path: string,
    known: readonly string[],
  ) {
    if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Uint8Array) {
      wrong(path, `expected a map, got ${quote(value)}`);
    }
    if (value instanceof Map) wrong(path, 'map keys must all be text');
    this.record = value as Record<string, unknown>;
    for (const key of Object.keys(this.record)) {
      if (!known.includes(key)) wrong(`${path}.${key}`, `unknown field (known: ${known.join(', ')})`);
    }
  }

  /** The path of a field, for messages. */
  at(key: string): string {
    return `${this.path}.${key}`;
  }

  has(key: string): boolean {
    return this.record[key] !== undefined;
  }

  raw(key: string): unknown {
    const value = this.record[key];
    if (value === undefined) wrong(this.at(key), 'is missing');
    return value;
  }

  name(key: string): string {
    const value = this.raw(key);
    try {
      return assertName(value, this.at(key));
    } catch (error) {
      return wrong(this.at(key), (error as Error).message.replace(/^E_NAME: \S+ /, ''));
    }
  }

  text(key: string, max = MAX_TEXT): string {
    const value = this.raw(key);
    if (typeof value !== 'string') wrong(this.at(key), `expected text, got ${quote(value)}`);
    if (value.length === 0 || value.length > max) wrong(this.at(key), `text must be 1-${max} characters`);
    return value;
  }

  optionalText(key: string, max = MAX_TEXT): string | undefined {
    return this.has(key) ? this.text(key, max) : undefined;
  }

  oneOf<T extends string>(key: string, choices: readonly T[]): T {
    const value = this.raw(key);
    if (!choices.includes(value as T))
      wrong(this.at(key), `expected one of ${choices.join(', ')}, got ${quote(value)}`);
    return value as T;
  }

  uint(key: string): number {
    const value = this.raw(key);
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
      wrong(this.at(key), `expected an unsigned integer, got ${quote(value)}`);
    }
    return value;
  }

  int64(key: string): bigint {
    const value = this.raw(key);
    const big = typeof value === 'number' && Number.isSafeInteger(value) ? BigInt(value) : value;
    if (typeof big !== 'bigint' || big < INT64_MIN || big > INT64_MAX) {
      wrong(this.at(key), `expected a signed 64-bit integer, got ${quote(value)}`);
    }
    return big;
  }

  optionalInt64(key: string): bigint | undefined {
    return this.has(key) ? this.int64(key) : undefined;
  }

  tick(key: string): Tick {
    return this.tagged(key, TAGS.timeAnchor);
  }

  duration(key: string): Tick {
    return this.tagged(key, TAGS.duration);
  }

  optionalDuration(key: string): Tick | undefined {
    return this.has(key) ? this.duration(key) : undefined;
  }

  private tagged(key: string, tag: number): Tick {
    try {
      return untagTick(this.raw(key), this.at(key), tag);
    } catch (error) {
      if (error instanceof EngineError && error.code === 'E_FIELD') throw error;
      return wrong(this.at(key), (error as Error).message);
    }
  }

  modality(key: string): string {
    const value = this.raw(key);
    if (!(value instanceof Tag) || value.tag !== TAGS.modality) {
      wrong(this.at(key), `expected a modality tag (CBOR tag ${TAGS.modality}), got ${quote(value)}`);
    }
    try {
      return assertModality(value.value, this.at(key));
    } catch (error) {
      return wrong(this.at(key), (error as Error).message.replace(/^E_MODALITY: [^:]+: /, ''));
    }
  }

  multihashes(key: string): Multihash[] {
    return this.multihashesOf(this.array(key), key);
  }

  /** Tagged multihashes from a list, errors naming `key`. */
  multihashesOf(list: readonly unknown[], key: string): Multihash[] {
    return list.map((entry, i) => {
      const where =
        list.length === 1 && !Array.isArray(this.record[key]) ? this.at(key) : `${this.at(key)}[${i}]`;
      if (!(entry instanceof Tag) || entry.tag !== TAGS.multihash) {
        wrong(where, `expected a multihash (CBOR tag ${TAGS.multihash}), got ${quote(entry)}`);
      }
      try {
        return assertMultihash(entry.value, where);
      } catch (error) {
        return wrong(where, (error as Error).message);
      }
    });
  }

  array(key: string): unknown[] {
    const value = this.raw(key);
    if (!Array.isArray(value)) wrong(this.at(key), `expected an array, got ${quote(value)}`);
    return value;
  }

  map(key: string): Record<string, unknown> {
    const value = this.raw(key);
    if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Uint8Array) {
      wrong(this.at(key), `expected a map, got ${quote(value)}`);
    }
    if (value instanceof Map || value instanceof Tag) wrong(this.at(key), 'expected a map with text keys');
    return value as Record<string, unknown>;
  }
}

/** Throw E_FIELD at `path`. */
export function fieldError(path: string, why: string): never {
  return wrong(path, why);
}
