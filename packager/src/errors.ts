/** A refusal of a media input: one line naming the file and the reason (exit code 2 in the CLI). */
export class MediaError extends Error {
  constructor(
    readonly file: string,
    /** The reason alone, without the file (for a message that names the input otherwise). */
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`);
    this.name = 'MediaError';
  }
}
