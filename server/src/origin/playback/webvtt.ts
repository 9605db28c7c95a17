/** One WebVTT cue: start and end in seconds, and its text. */
export interface VttCue {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

const vttTime = (seconds: number) => {
  const ms = Math.round(seconds * 1000);
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor(ms / 60_000) % 60;
  const s = Math.floor(ms / 1000) % 60;
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(h)}:${pad(m)}:${pad(s)}.${pad(ms % 1000, 3)}`;
};

/** A WebVTT file of `cues`, with `headers` (HLS's X-TIMESTAMP-MAP) after the WEBVTT line. */
export function webvtt(cues: readonly VttCue[], headers: readonly string[] = []): string {
  const lines = ['WEBVTT', ...headers, ''];
  for (const cue of cues) {
    // A blank line would end the cue early; "-->" would start a new one.
    const text = cue.text.replace(/\n\s*\n/g, '\n').replace(/-->/g, '->');
    lines.push(`${vttTime(cue.start)} --> ${vttTime(cue.end)}`, text, '');
  }
  return lines.join('\n');
}
