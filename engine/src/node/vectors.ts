import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { VectorFile } from '../conformance/vectors.js';

/** spec/vectors/ of this checkout (the same two levels up from src/node and from dist/node). */
export const VECTORS_DIR = fileURLToPath(new URL('../../../spec/vectors/', import.meta.url));

/** Every *.json vector file in `dir` and its folders, by path from `dir` (`time.json`, `dag/dag.json`). */
export async function loadVectorFiles(dir: string = VECTORS_DIR): Promise<Map<string, VectorFile>> {
  const files = new Map<string, VectorFile>();
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const paths = entries
    .filter((e) => e.isFile() && e.name.endsWith('.json'))
    .map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join('/'))
    .sort();
  for (const path of paths)
    files.set(path, JSON.parse(await readFile(join(dir, path), 'utf8')) as VectorFile);
  return files;
}
