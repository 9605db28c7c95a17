/** @dreamdb/server: the origin and the CLI. Nothing imports this package; it is the top of the stack. */
export { buildProgram, runCli } from './cli/program.js';
export { createOrigin, type OriginOptions } from './origin/app.js';
