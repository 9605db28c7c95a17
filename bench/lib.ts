/** Shared helpers for bench scripts: timing and a table that puts every figure beside its baseline. */

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
