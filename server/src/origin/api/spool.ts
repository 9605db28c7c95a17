import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isAlive } from '@dreamdb/engine/node';

/**
 * Upload spools: a folder per upload in progress, named for the process that owns it
 * (`dreamdb-upload-<pid>-<random>`), so a server starting later can tell the folders a killed server left
 * (nothing was published from them) from those of servers still running.
 */

const PREFIX = 'dreamdb-upload-';
const OWNED = /^dreamdb-upload-([1-9][0-9]*)-/;

/** A new spool folder under `dir` for an upload of this process. */
export const createSpool = (dir: string): Promise<string> => mkdtemp(join(dir, `${PREFIX}${process.pid}-`));

/**
 * Remove the spool folders under `dir` whose owning process is gone, and return their names. A folder of
 * a live process (this one, or another server on the same temporary directory) is left alone, as is
 * anything not named like a spool. Process ids are those of this machine's (one namespace per
 * temporary directory, as with the OS's own).
 */
export async function removeStaleSpools(dir: string): Promise<string[]> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const stale = entries.filter((entry) => {
    const pid = Number(OWNED.exec(entry.name)?.[1]);
    return entry.isDirectory() && pid > 0 && pid !== process.pid && !isAlive(pid);
  });
  await Promise.all(stale.map((entry) => rm(join(dir, entry.name), { recursive: true, force: true })));
  return stale.map((entry) => entry.name);
}
