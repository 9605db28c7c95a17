import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';

// The CLI from this checkout's sources (no build needed), each command its own process as users run it.
const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const MAIN = fileURLToPath(new URL('../main.ts', import.meta.url));
const NODE_ARGS = ['--import', 'tsx', '--conditions=source', MAIN];

/**
 * Run `dreamdb` commands as processes for the tests of one file: a temporary folder, an environment with
 * no store configured, and long-running commands (serve) killed after the file's tests.
 */
export function cliProcesses(name: string) {
  const dir = mkdtempSync(join(tmpdir(), `dreamdb-${name}-`));
  const running = new Set<ChildProcessWithoutNullStreams>();
  after(() => {
    for (const child of running) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  const env: NodeJS.ProcessEnv = { ...process.env, DREAMDB_STORE: '', DREAMDB_EMBEDDED: '' };

  /** Run a command to its end. */
  function dreamdb(args: string[], options: { input?: string; env?: NodeJS.ProcessEnv } = {}) {
    const result = spawnSync(process.execPath, [...NODE_ARGS, ...args], {
      cwd: ROOT,
      encoding: 'utf8',
      env: options.env ?? env,
      ...(options.input !== undefined && { input: options.input }),
    });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  /** Start a long-running command; resolves with its first stdout line matching `pattern`. */
  async function start(args: string[], pattern: RegExp) {
    const child = spawn(process.execPath, [...NODE_ARGS, ...args], { cwd: ROOT, env });
    running.add(child);
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk;
    });
    const match = await new Promise<RegExpExecArray>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk;
        const found = pattern.exec(out);
        if (found) resolve(found);
      });
      child.once('exit', (code) => reject(new Error(`dreamdb ${args[0]} exited ${code}: ${stderr}`)));
    });
    const stop = async () => {
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      const code = await exited;
      running.delete(child);
      return code;
    };
    return { child, match, stop };
  }

  return { dir, env, dreamdb, start };
}
