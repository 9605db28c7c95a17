/** All of standard input (for small inputs such as JSON and hex; large inputs are streamed instead). */
export async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The text of an argument, or of stdin when the argument is "-" or missing. */
export async function argOrStdin(arg: string | undefined): Promise<string> {
  return arg === undefined || arg === '-' ? (await readStdin()).toString('utf8') : arg;
}
