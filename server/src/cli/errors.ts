import { EngineError } from '@dreamdb/engine';

/** A refusal of the command line itself: exit code 2, one line. */
export class UsageError extends Error {}

/** Exit code for a failure: 2 when the input was bad (usage, engine refusal, missing file), 1 otherwise. */
export function exitCodeOf(error: unknown): number {
  if (error instanceof UsageError || error instanceof EngineError) return 2;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'EISDIR' || code === 'EACCES' ? 2 : 1;
}

/** One line naming the problem, without a stack trace. */
export function describe(error: unknown): string {
  const err = error as NodeJS.ErrnoException;
  if (err?.code === 'ENOENT' && err.path) return `no such file: ${err.path}`;
  if (err?.code === 'EISDIR' && err.path) return `is a directory, not a file: ${err.path}`;
  return (err?.message ?? String(error)).split('\n')[0]!;
}
