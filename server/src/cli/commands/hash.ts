import { hashStream, multihashToHex } from '@dreamdb/engine';
import type { Command } from 'commander';

/** `dreamdb hash <file|->`: the multihash hex of a file or stdin, streamed. */
export function registerHash(program: Command): void {
  program
    .command('hash')
    .description(
      'print the BLAKE3 multihash (1e20 + digest, hex) of a file, or of stdin for "-"; streamed, never read whole',
    )
    .argument('<file>', 'a file path, or - for standard input')
    .action(async (file: string) => {
      const multihash =
        file === '-'
          ? await hashStream(process.stdin)
          : await (await import('@dreamdb/engine/node')).hashFile(file);
      process.stdout.write(`${multihashToHex(multihash)}\n`);
    });
}
