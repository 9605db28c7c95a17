import { Command, CommanderError } from 'commander';
import { registerCbor } from './commands/cbor.js';
import { registerCheck } from './commands/check.js';
import { registerCollect } from './commands/collect.js';
import { registerDelete } from './commands/delete.js';
import { registerHash } from './commands/hash.js';
import { registerHybrid } from './commands/hybrid.js';
import { registerIngest } from './commands/ingest.js';
import { registerReads } from './commands/read.js';
import { registerSearch } from './commands/search.js';
import { registerServe } from './commands/serve.js';
import { registerFsck, registerStore } from './commands/store.js';
import { registerStream } from './commands/stream.js';
import { registerTenant } from './commands/tenant.js';
import { registerText } from './commands/text.js';
import { registerTime } from './commands/time.js';
import { registerToken } from './commands/token.js';
import { registerUsage } from './commands/usage.js';
import { registerVersions } from './commands/versions.js';
import { registerWrites } from './commands/write.js';
import { describe, exitCodeOf } from './errors.js';

/** The `dreamdb` program: one sub-command per verb or tool, each a thin layer over the engine. */
export function buildProgram(): Command {
  const program = new Command('dreamdb')
    .description('DreamDB: a time-keyed, content-addressed database for recorded sessions')
    .version('0.0.0')
    .showSuggestionAfterError(true)
    .configureOutput({ outputError: () => {} }) // errors are printed once, in runCli
    .exitOverride();
  registerHash(program);
  registerCbor(program);
  registerTime(program);
  registerCheck(program);
  registerStore(program);
  registerFsck(program);
  registerReads(program);
  registerWrites(program);
  registerDelete(program);
  registerCollect(program);
  registerVersions(program);
  registerSearch(program);
  registerText(program);
  registerHybrid(program);
  registerStream(program);
  registerIngest(program);
  registerServe(program);
  registerTenant(program);
  registerUsage(program);
  registerToken(program);
  for (const command of program.commands) command.exitOverride().configureOutput({ outputError: () => {} });
  for (const command of program.commands.flatMap((c) => c.commands)) {
    command.exitOverride().configureOutput({ outputError: () => {} });
  }
  return program;
}

/** Run the program; bad arguments exit 2 with a one-line error naming the problem. */
export async function runCli(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) return 0; // --help, --version
      if (error.code === 'commander.help') {
        process.stderr.write('dreamdb: missing command (see the list above)\n');
        return 2;
      }
      process.stderr.write(`dreamdb: ${error.message.replace(/^error: /, '')}\n`);
      return 2;
    }
    process.stderr.write(`dreamdb: ${describe(error)}\n`);
    return exitCodeOf(error);
  }
}
