#!/usr/bin/env node
// The dreamdb program: runs the compiled CLI (npm run build makes it).
import { existsSync } from 'node:fs';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('dreamdb: not built yet; run `npm run build` in the repository root first\n');
  process.exit(1);
}
await import(main.href);
