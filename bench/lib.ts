/** Shared helpers for bench scripts: timing, a table that puts every figure beside its baseline, media. */

import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Writer } from '@dreamdb/engine/write';
import { makeClip } from '@dreamdb/packager';

export interface Row {
  name: string;
  value: number;
  unit: string;
  /** Extra text, e.g. a check result. */
  note?: string;
}

/** Seconds taken by an async or sync function. */
export async function timed(fn: () => unknown | Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/** Best of `runs` timings (the least disturbed by the other core's work). */
export async function best(runs: number, fn: () => unknown | Promise<unknown>): Promise<number> {
  let min = Number.POSITIVE_INFINITY;
  for (let i = 0; i < runs; i++) min = Math.min(min, await timed(fn));
  return min;
}

/** The p-quantile (0..1) of samples, nearest rank; NaN of none. */
export function quantile(xs: readonly number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? Number.NaN;
}

/** Print rows with their ratio to the row named `baseline` (higher value = better). */
export function printTable(title: string, rows: Row[], baseline: string): void {
  const base = rows.find((r) => r.name === baseline)?.value ?? Number.NaN;
  console.log(`\n${title}`);
  console.log(`${'path'.padEnd(54)}${'figure'.padStart(14)}  ${'unit'.padEnd(10)}${'ratio'.padStart(8)}`);
  for (const r of rows) {
    const ratio = r.value / base;
    console.log(
      `${r.name.padEnd(54)}${r.value.toFixed(r.value >= 100 ? 0 : 2).padStart(14)}  ${r.unit.padEnd(10)}${`${ratio.toFixed(2)}x`.padStart(8)}${r.note ? `  ${r.note}` : ''}`,
    );
  }
  console.log(`(ratio: figure / ${baseline})`);
}

/** Where benches keep the media they make (reused across runs). */
export const BENCH_MEDIA = join(tmpdir(), 'dreamdb-bench-media');

/** A 720p H.264/AAC recording of `seconds`, made once and kept in BENCH_BENCH_MEDIA for later runs. */
export function recording(seconds: number): string {
  mkdirSync(BENCH_MEDIA, { recursive: true });
  const file = join(BENCH_MEDIA, `talk-720p-${seconds}s.mp4`);
  if (existsSync(file)) return file;
  console.log(`making ${file} (once)…`);
  makeClip(`${file}.part.mp4`, {
    seconds,
    size: '1280x720',
    rate: 30,
    audio: 48000,
    encode: [
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-b:v',
      '3M',
      '-g',
      '60',
      '-c:a',
      'aac',
      '-b:a',
      '128k',
    ],
  });
  renameSync(`${file}.part.mp4`, file);
  return file;
}

/**
 * A page with hls.js (the repository's copy, at /hls.min.js) and `script`, on a loopback server of its
 * own: Chromium lets loopback pages read loopback origins. The page has a muted `<video id="video">`.
 */
export async function hlsJsPage(script: string): Promise<{ base: string; stop(): Promise<void> }> {
  const hls = readFileSync(fileURLToPath(new URL('../node_modules/hls.js/dist/hls.min.js', import.meta.url)));
  const html = `<!doctype html><meta charset="utf-8"><video id="video" muted playsinline width="950"></video>
<script src="/hls.min.js"></script>
<script>
const video = document.getElementById('video');
${script}
</script>`;
  const server = createServer((req, res) => {
    if (req.url === '/hls.min.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(hls);
    else res.writeHead(200, { 'content-type': 'text/html' }).end(html);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The detection track the ingest benches write: one event track `det` on timeline `run`, 60 s buckets. */
export function detectionWriter(): Writer {
  return new Writer().timeline({ name: 'run' }).track({
    timeline: 'run',
    name: 'det',
    kind: 'event',
    modality: 'event.detection',
    bucketDuration: 60_000_000_000n,
  });
}
