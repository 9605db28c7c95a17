import { spawnSync } from 'node:child_process';
import { runVectorsAt } from '@dreamdb/engine/conformance';
import type { Command } from 'commander';

/** Tools DreamDB uses from the OS, and what for. */
const TOOLS: { name: string; args: string[]; use: string }[] = [
  { name: 'b3sum', args: ['--version'], use: 'independent BLAKE3 check' },
  { name: '/usr/bin/python3', args: ['-c', 'import cbor2'], use: 'independent CBOR check (python3-cbor2)' },
  { name: 'ffmpeg', args: ['-version'], use: 'media ingest (packager)' },
  { name: 'gst-launch-1.0', args: ['--version'], use: 'second HLS/DASH client (origin interop tests)' },
  { name: 'chromium', args: ['--version'], use: 'player tests' },
];

/** `dreamdb check`: run every conformance vector against this build and list the tools this machine has. */
export function registerCheck(program: Command): void {
  program
    .command('check')
    .description(
      'run the conformance vectors in spec/vectors against this build, and list the OS tools found',
    )
    .option('--vectors <dir>', "the vectors directory (default: the engine's spec/vectors)")
    .action(async (opts: { vectors?: string }) => {
      const { loadVectorFiles, VECTORS_DIR } = await import('@dreamdb/engine/node');
      let failed = 0;
      let passed = 0;
      // Every folder: the engine's vectors (top level, dag/, text/) and the origin's (serving/).
      const { runServingVector } = await import('../../origin/hls/vectors.js');
      for (const [path, file] of await loadVectorFiles(opts.vectors ?? VECTORS_DIR)) {
        const outcomes =
          (await runVectorsAt(path, file)) ??
          (path.startsWith('serving/')
            ? (file as unknown as { vectors: Parameters<typeof runServingVector>[0][] }).vectors.map(
                runServingVector,
              )
            : undefined);
        if (!outcomes) {
          failed++;
          process.stdout.write(`FAIL ${path}: no runner for this folder\n`);
          continue;
        }
        const bad = outcomes.filter((o) => !o.ok);
        passed += outcomes.length - bad.length;
        failed += bad.length;
        const spec = (file as { spec?: string }).spec ?? '';
        const title = (file as { title?: string }).title ?? '';
        process.stdout.write(
          `${bad.length === 0 ? 'ok  ' : 'FAIL'} spec ${spec.padEnd(4)} ${path.padEnd(18)} ${outcomes.length - bad.length}/${outcomes.length}  ${title}\n`,
        );
        for (const o of bad) process.stdout.write(`       ${o.name}: ${o.detail}\n`);
      }
      process.stdout.write('\ntools:\n');
      for (const tool of TOOLS) {
        const found = spawnSync(tool.name, tool.args, { stdio: 'ignore' }).status === 0;
        process.stdout.write(`  ${found ? 'found  ' : 'missing'} ${tool.name.padEnd(17)} ${tool.use}\n`);
      }
      process.stdout.write(`\nvectors: ${passed} passed, ${failed} failed\n`);
      if (failed > 0) process.exitCode = 1;
    });
}
