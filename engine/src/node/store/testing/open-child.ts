/**
 * Another process opening a store directory, for holder.test.ts: `open-child.ts DIR READ_KEY WRITE_KEY
 * TEXT` opens DIR with openStore, reads one key, writes another and prints what it saw as one JSON line.
 */
import { openStore } from '../open.js';

const [dir, readKey, writeKey, text] = process.argv.slice(2) as [string, string, string, string];
// No environment: DREAMDB_STORE or DREAMDB_EMBEDDED of the test run must not change what is opened.
const opened = await openStore(dir, {});
try {
  const read = new TextDecoder().decode((await opened.store.get(readKey)).body);
  await opened.store.put(writeKey, new TextEncoder().encode(text));
  process.stdout.write(`${JSON.stringify({ name: opened.store.name, read })}\n`);
} finally {
  await opened.close();
}
