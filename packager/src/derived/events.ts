import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { createInterface } from 'node:readline';
import { assertName, MAX_TICK, secondsToTicks, type Tick, ticksFromSecondsNumber } from '@dreamdb/engine';
import type { WriteItem } from '@dreamdb/engine/write';
import { parse } from 'csv-parse';
import { MediaError } from '../errors.js';
import { checkOrigin, DERIVED_BUCKET, type DerivedTrack, reiterable } from './track.js';

export interface UserEventOptions {
  /** The tick of the media's time zero (IngestReport.origin): event times count from it. */
  readonly origin: bigint;
  /** Track name (default "events"). */
  readonly track?: string;
  /** 'jsonl', 'csv' or 'tsv'; by default from the extension (.jsonl/.ndjson, .csv, .tsv). */
  readonly format?: EventFormat;
}

export type EventFormat = 'jsonl' | 'csv' | 'tsv';

/** Fields that give an event's time and length; every other field goes into the payload. */
const TIME_FIELDS = new Set(['tick', 'seconds', 'duration', 'duration_s']);

/**
 * User events from a JSONL or CSV file (CSV: a header row names the columns) as items of an event track
 * 'events' (event.annotation). Each row gives its time as `tick` (integer nanoseconds, or seconds with an
 * "s" suffix: "1.5s") or `seconds` (a number), optionally its length as `duration` (same forms) or
 * `duration_s`; `label` and every other field are kept in the payload. Times count from `origin`. Rows are
 * read as a stream; a bad row throws a one-line error naming the file, the line and the problem (after the
 * rows before it came out). Two rows at one tick are refused, as a track holds one item per tick.
 *
 * CSV cells are text: an empty cell is left out, a cell that is a plain decimal number becomes a number,
 * and any other stays a string. Exact decimal seconds ("1.5", "1.5s") become ticks exactly; a JSON number
 * of seconds is a double, taken to the nanosecond.
 */
export function userEvents(file: string, options: UserEventOptions): DerivedTrack {
  const origin = checkOrigin(options.origin, 'userEvents');
  const name = assertName(options.track ?? 'events', 'userEvents track');
  const format = options.format ?? eventFormat(file);

  async function* items(): AsyncGenerator<WriteItem> {
    const info = await stat(file).catch((error: NodeJS.ErrnoException) => {
      throw new MediaError(file, error.code === 'ENOENT' ? 'no such file' : error.message);
    });
    if (info.isDirectory()) throw new MediaError(file, 'is a directory, not an events file');
    const seen = new Map<Tick, number>();
    const rows = format === 'jsonl' ? jsonlRows(file) : csvRows(file, format === 'tsv' ? '\t' : ',');
    for await (const { line, row } of rows) {
      const fail = (reason: string): never => {
        throw new MediaError(file, `line ${line}: ${reason}`);
      };
      const item = eventItem(row, origin, fail);
      const earlier = seen.get(item.tick);
      if (earlier !== undefined)
        fail(
          `tick ${item.tick} is already taken by the event on line ${earlier} (a track holds one item per tick)`,
        );
      seen.set(item.tick, line);
      yield item;
    }
  }

  return {
    track: { name, kind: 'event', modality: 'event.annotation', bucketDuration: DERIVED_BUCKET },
    items: reiterable(items),
  };
}

/** The format of an events file by its extension. */
export function eventFormat(file: string): EventFormat {
  const ext = extname(file).toLowerCase();
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  if (ext === '.csv') return 'csv';
  if (ext === '.tsv') return 'tsv';
  throw new MediaError(
    file,
    `cannot tell the format of an events file from "${ext}" (use .jsonl, .ndjson, .csv or .tsv)`,
  );
}

/** One row of an events file and the (1-based) line it is on. */
interface Row {
  readonly line: number;
  readonly row: Record<string, unknown>;
}

async function* jsonlRows(file: string): AsyncGenerator<Row> {
  const input = createReadStream(file, { encoding: 'utf8' });
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let line = 0;
  try {
    for await (const raw of lines) {
      line++;
      const text = line === 1 && raw.startsWith('\uFEFF') ? raw.slice(1) : raw;
      if (text.trim() === '') continue;
      let row: unknown;
      try {
        row = JSON.parse(text);
      } catch (error) {
        throw new MediaError(file, `line ${line}: not JSON (${(error as Error).message})`);
      }
      if (typeof row !== 'object' || row === null || Array.isArray(row))
        throw new MediaError(
          file,
          `line ${line}: expected a JSON object, found ${Array.isArray(row) ? 'an array' : JSON.stringify(row)}`,
        );
      yield { line, row: row as Record<string, unknown> };
    }
  } finally {
    lines.close();
    input.destroy();
  }
}

const DECIMAL = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/;

async function* csvRows(file: string, delimiter: string): AsyncGenerator<Row> {
  const input = createReadStream(file);
  const parser = input.pipe(
    parse({ columns: true, bom: true, delimiter, skip_empty_lines: true, info: true }),
  );
  try {
    for await (const { record, info } of parser as AsyncIterable<{
      record: Record<string, string>;
      info: { lines: number };
    }>) {
      const row: Record<string, unknown> = {};
      for (const [key, cell] of Object.entries(record)) {
        if (cell === '') continue;
        // Time fields stay text, so that decimal seconds are read exactly.
        if (!TIME_FIELDS.has(key) && DECIMAL.test(cell)) {
          const n = Number(cell);
          row[key] = Number.isInteger(n) && !Number.isSafeInteger(n) ? cell : n;
        } else row[key] = cell;
      }
      yield { line: info.lines, row };
    }
  } catch (error) {
    if (error instanceof MediaError) throw error;
    const e = error as Error & { lines?: number };
    const reason = e.message.replace(/^Invalid /, 'invalid ');
    throw new MediaError(
      file,
      e.lines !== undefined && !/line \d+/.test(reason) ? `line ${e.lines}: ${reason}` : reason,
    );
  } finally {
    input.destroy();
  }
}

/** A time or duration field: integer nanoseconds (a number or digits), or seconds with an "s" suffix. */
function ticksOf(value: unknown, field: string, fail: (reason: string) => never): Tick {
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value) && value >= 0) return BigInt(value);
    if (Number.isInteger(value) && value > 0)
      fail(`${field} ${value} is past 2^53 ns and lost precision as a JSON number; write it as a string`);
    fail(
      `${field} ${value} is not a whole non-negative number of nanoseconds (seconds need an "s" suffix, as "1.5s")`,
    );
  }
  if (typeof value === 'string') {
    if (/^[0-9]+$/.test(value)) return BigInt(value);
    const seconds = /^([0-9]+(?:\.[0-9]+)?)s$/.exec(value);
    if (seconds) return exact(() => secondsToTicks(seconds[1]!), field, fail);
  }
  return fail(
    `${field} ${JSON.stringify(value)} is neither integer nanoseconds nor seconds with an "s" suffix (as "1.5s")`,
  );
}

/** A conversion of the engine's, its refusal (a time past the last tick) worded as the row's. */
function exact(convert: () => Tick, field: string, fail: (reason: string) => never): Tick {
  try {
    return convert();
  } catch (error) {
    return fail(`${field}: ${(error as Error).message.replace(/^E_[A-Z_]+: /, '')}`);
  }
}

/** A seconds field: a JSON number (a double, taken to the nanosecond) or decimal text (exact). */
function secondsOf(value: unknown, field: string, fail: (reason: string) => never): Tick {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0) return exact(() => ticksFromSecondsNumber(value), field, fail);
  } else if (typeof value === 'string') {
    const text = /^([0-9]+(?:\.[0-9]+)?)s?$/.exec(value);
    if (text) return exact(() => secondsToTicks(text[1]!), field, fail);
  }
  return fail(`${field} ${JSON.stringify(value)} is not a non-negative number of seconds`);
}

/** The item of one row, or `fail` with what is wrong with it. */
export function eventItem(
  row: Record<string, unknown>,
  origin: Tick,
  fail: (reason: string) => never,
): WriteItem {
  const has = (k: string) => row[k] !== undefined;
  if (has('tick') && has('seconds')) fail('has both tick and seconds; give one');
  if (!has('tick') && !has('seconds'))
    fail('has no time: give tick (integer nanoseconds, or seconds as "1.5s") or seconds');
  const time = has('tick') ? ticksOf(row.tick, 'tick', fail) : secondsOf(row.seconds, 'seconds', fail);
  if (has('duration') && has('duration_s')) fail('has both duration and duration_s; give one');
  const duration = has('duration')
    ? ticksOf(row.duration, 'duration', fail)
    : has('duration_s')
      ? secondsOf(row.duration_s, 'duration_s', fail)
      : undefined;
  const tick = origin + time;
  if (tick + (duration ?? 0n) > MAX_TICK) fail(`time ${time} ns (+ duration) is past the last tick`);
  const payload: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) {
    if (k === '__proto__') fail('a field may not be named __proto__');
    if (!TIME_FIELDS.has(k) && v !== undefined) payload[k] = v;
  }
  return { tick, ...(duration !== undefined && { duration }), payload };
}
