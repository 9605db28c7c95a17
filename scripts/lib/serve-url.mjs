// Where a `dreamdb serve` child listens: the URL its first line prints. Shared by npm start, the e2e
// harness and the server's process tests (only node: built-ins: it runs before node_modules exists).

/** The URL a spawned `dreamdb serve` prints once it listens; rejects when it exits first. */
export function serveUrl(child) {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = /dreamdb serve: (http:\/\/[^ ;]+)/.exec(out);
      if (match) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`dreamdb serve exited with ${code}: ${out}`)));
  });
}
