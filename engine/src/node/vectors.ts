import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { VectorFile } from '../conformance/vectors.js';

/** spec/vectors/ of this checkout (the same two levels up from src/node and from dist/node). */
export const VECTORS_DIR = fileURLToPath(new URL('../../../spec/vectors/', import.meta.url));

/** Every *.json vector file in `dir`, by file name. */
export async function loadVectorFiles(dir: string = VECTORS_DIR): Promise<Map<string, VectorFile>> {
  const files = new Map<string, VectorFile>();
  for (const name of (await readdir(dir)).filter((n) => n.endsWith('.json')).sort()) {
    files.set(name, JSON.parse(await readFile(`${dir}/${name}`, 'utf8')) as VectorFile);
  }
  return files;
}
