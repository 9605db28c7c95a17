import { parseTimeArg, tickToHex } from '@dreamdb/engine';
import { UsageError } from './errors.js';

/** Option values of the query commands, checked: a bad one is a usage error naming the option. */

/** A count option (--k, --probes, --rerank): a positive integer, or a usage error naming the option. */
export function countOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^[1-9][0-9]*$/.test(value) || !Number.isSafeInteger(n))
    throw new UsageError(`${name} ${JSON.stringify(value)} is not a positive integer`);
  return n;
}

/** A number option (--rrf-k, weights): a finite number >= 0. */
export function numberOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0)
    throw new UsageError(`${name} ${JSON.stringify(value)} is not a number >= 0`);
  return n;
}

/** A query vector: comma-separated finite numbers. */
export function vectorOption(value: string): number[] {
  const parts = value.split(',');
  const numbers = parts.map((p) => (p.trim() === '' ? Number.NaN : Number(p)));
  const bad = numbers.findIndex((n) => !Number.isFinite(n));
  if (bad >= 0)
    throw new UsageError(`--vector: component ${bad} (${JSON.stringify(parts[bad])}) is not a number`);
  return numbers;
}

/** A comma-separated list option (--tracks, --labels), without empty entries. */
export function listOption(name: string, value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const list = value.split(',').filter((v) => v !== '');
  if (list.length === 0) throw new UsageError(`${name} is empty`);
  return list;
}

/** The time window [--from, --to) of a query, checked non-empty. */
export function windowOptions(opts: { from?: string; to?: string }, genesis: bigint | undefined) {
  const t0 = opts.from === undefined ? undefined : parseTimeArg(opts.from, { name: '--from', genesis });
  const t1 = opts.to === undefined ? undefined : parseTimeArg(opts.to, { name: '--to', genesis });
  if (t0 !== undefined && t1 !== undefined && t1 <= t0)
    throw new UsageError(`--to ${opts.to} must be after --from ${opts.from}`);
  return { ...(t0 !== undefined && { t0 }), ...(t1 !== undefined && { t1 }) };
}

/** The index knobs of a vector query, checked against each other and k. */
export function vectorKnobs(opts: { exact?: boolean; probes?: string; rerank?: string }, k: number) {
  const probes = countOption('--probes', opts.probes);
  const rerank = countOption('--rerank', opts.rerank);
  if (opts.exact && (probes !== undefined || rerank !== undefined))
    throw new UsageError('--probes and --rerank tune the index: not with --exact');
  if (rerank !== undefined && rerank < k) throw new UsageError(`--rerank ${rerank} is under --k (${k})`);
  return {
    ...(opts.exact && { exact: true }),
    ...(probes !== undefined && { probes }),
    ...(rerank !== undefined && { rerank }),
  };
}

/** A query's hit time as it prints: tick as decimal and hex. */
export const at = (tick: bigint) => ({ tick: tick.toString(), hex: tickToHex(tick) });

/** One JSON line on standard output. */
export const print = (line: unknown) => process.stdout.write(`${JSON.stringify(line)}\n`);
