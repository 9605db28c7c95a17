import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { ticksFromSecondsNumber } from '@dreamdb/engine';
import type { WriteItem } from '@dreamdb/engine/write';
import * as mediaCaptions from 'media-captions';
import { MediaError } from '../errors.js';
import { checkOrigin, DERIVED_BUCKET, type DerivedTrack, reiterable } from './track.js';

export interface CaptionOptions {
  /** The tick of the media's time zero (IngestReport.origin): cue times count from it. */
  readonly origin: bigint;
  /** 'vtt' or 'srt'; by default from the extension (.vtt, .webvtt, .srt), else from the content. */
  readonly format?: CaptionFormat;
  /** Track name (default "captions"). */
  readonly name?: string;
}

export type CaptionFormat = 'vtt' | 'srt';

/** The payload of a caption item: the cue's text (markup kept), and its id and WebVTT settings if any. */
export interface CaptionCue {
  readonly text: string;
  readonly id?: string;
  /** WebVTT cue settings as written on the timing line, e.g. { align: "start", line: "10%" }. */
  readonly settings?: Readonly<Record<string, string>>;
}

/** What is used of media-captions: its .d.ts re-exports without file extensions, which nodenext cannot follow. */
interface ParsedCue {
  readonly id: string;
  readonly startTime: number;
  readonly endTime: number;
  readonly text: string;
}
const { parseText } = mediaCaptions as unknown as {
  parseText(text: string, options: { type: CaptionFormat; strict: boolean }): Promise<{ cues: ParsedCue[] }>;
};

/** A captions file larger than this is refused (it is read whole). */
const MAX_BYTES = 64 * 1024 * 1024;

/**
 * The cues of a WebVTT or SRT file as items of an event track 'captions' (text.cue): each at origin + its
 * start, lasting until its end. The file is checked whole before the first item: a malformed one is
 * refused with a one-line error naming the file and the line at fault. Parsing is media-captions' (strict
 * mode); a structural pass here catches what that parser would silently skip (a block with no timing, a
 * cue whose timing it dropped). WebVTT STYLE, REGION and NOTE blocks are not kept.
 */
export function captions(file: string, options: CaptionOptions): DerivedTrack {
  const origin = checkOrigin(options.origin, 'captions');
  async function* items(): AsyncGenerator<WriteItem> {
    yield* await captionItems(file, origin, options.format);
  }
  return {
    track: {
      name: options.name ?? 'captions',
      kind: 'event',
      modality: 'text.cue',
      bucketDuration: DERIVED_BUCKET,
    },
    items: reiterable(items),
  };
}

/** The format of a captions file: by its extension, else by its first line. */
export function captionFormat(file: string, text: string): CaptionFormat {
  const ext = extname(file).toLowerCase();
  if (ext === '.vtt' || ext === '.webvtt') return 'vtt';
  if (ext === '.srt') return 'srt';
  const lines = text.split(/\r?\n|\r/, 3);
  if (/^WEBVTT(?:[ \t]|$)/.test(lines[0] ?? '')) return 'vtt';
  if (/^\d+\s*$/.test(lines[0] ?? '') && (lines[1] ?? '').includes('-->')) return 'srt';
  if ((lines[0] ?? '').includes('-->')) return 'srt';
  throw new MediaError(
    file,
    'line 1: neither WebVTT (starts with WEBVTT) nor SRT (a cue number, then a timing)',
  );
}

/** One cue block as the structural pass sees it. */
interface Block {
  /** 1-based number of the timing line. */
  readonly line: number;
  readonly id: string;
  readonly timing: string;
  readonly text: string;
}

/** Split the file into blank-line separated blocks and find each cue's id, timing line and text. */
function cueBlocks(file: string, lines: readonly string[], format: CaptionFormat): Block[] {
  const blocks: Block[] = [];
  const fail = (line: number, reason: string): never => {
    throw new MediaError(file, `line ${line}: ${reason}`);
  };
  let i = 0;
  if (format === 'vtt') {
    if (!/^WEBVTT(?:[ \t]|$)/.test(lines[0] ?? '')) fail(1, 'a WebVTT file starts with "WEBVTT"');
    while (i < lines.length && lines[i] !== '') i++; // the header block
  }
  // Blocks end at an empty line, as the parser sees them (a line of spaces is a line of text).
  while (i < lines.length) {
    if (lines[i] === '') {
      i++;
      continue;
    }
    const start = i;
    while (i < lines.length && lines[i] !== '') i++;
    const block = lines.slice(start, i);
    const head = block[0]!;
    if (format === 'vtt' && /^(?:NOTE|STYLE|REGION)(?:[ \t]|$)/.test(head)) continue;
    const at = head.includes('-->') ? 0 : block[1]?.includes('-->') ? 1 : -1;
    if (at < 0) {
      // The timing is the block's first line, or its second after an id (an SRT cue number).
      const where = block.length > 1 ? 1 : 0;
      fail(
        start + where + 1,
        `expected a cue timing "start --> end"${where === 1 ? ` after ${JSON.stringify(head)}` : ''}, found ${JSON.stringify(block[where])}`,
      );
    }
    // A timing among the text: the blank line before a cue is missing (the parser would merge the two).
    const stray = block.findIndex((l, k) => k > at && l.includes('-->'));
    if (stray >= 0) {
      fail(
        start + stray + 1,
        `a cue timing inside the text of the cue timed on line ${start + at + 1} (a blank line must come before each cue)`,
      );
    }
    blocks.push({
      line: start + at + 1,
      id: at === 1 ? head : '',
      timing: block[at]!,
      text: block.slice(at + 1).join('\n'),
    });
  }
  return blocks;
}

/** WebVTT cue settings from a timing line: "00:01.000 --> 00:02.000 align:start" → { align: "start" }. */
function settingsOf(timing: string): Record<string, string> | undefined {
  const after =
    timing
      .split('-->')[1]
      ?.trim()
      .split(/[ \t]+/)
      .slice(1) ?? [];
  const settings: Record<string, string> = {};
  for (const s of after) {
    const sep = s.search(/[:=]/);
    if (sep > 0) settings[s.slice(0, sep)] = s.slice(sep + 1);
  }
  return Object.keys(settings).length > 0 ? settings : undefined;
}

/** Parse a captions file into cue items, or refuse it naming the line at fault. */
export async function captionItems(
  file: string,
  origin: bigint,
  format?: CaptionFormat,
): Promise<WriteItem[]> {
  const info = await stat(file).catch((error: NodeJS.ErrnoException) => {
    throw new MediaError(file, error.code === 'ENOENT' ? 'no such file' : error.message);
  });
  if (info.isDirectory()) throw new MediaError(file, 'is a directory, not a captions file');
  if (info.size > MAX_BYTES)
    throw new MediaError(file, `is ${info.size} bytes, too large for a captions file`);
  const raw = await readFile(file, 'utf8');
  const text = raw.startsWith('\uFEFF') ? raw.slice(1) : raw;
  const type = format ?? captionFormat(file, text);
  const lines = text.split(/\r?\n|\r/);
  const blocks = cueBlocks(file, lines, type);
  let cues: ParsedCue[];
  try {
    ({ cues } = await parseText(text, { type, strict: true }));
  } catch (error) {
    const e = error as Error & { line?: number };
    const reason = e.message.replace(/ on line \d+$/, '');
    throw new MediaError(file, e.line !== undefined ? `line ${e.line}: ${reason}` : reason);
  }
  // Pair the parser's cues with the blocks in order: a block without its cue is one the parser dropped.
  const items: WriteItem[] = [];
  const byTick = new Map<bigint, number>();
  let c = 0;
  for (const [n, block] of blocks.entries()) {
    const cue = cues[c];
    if (!cue || cue.id !== block.id || cue.text !== block.text) {
      throw new MediaError(
        file,
        `line ${block.line}: cue ${n + 1} has a bad timing ${JSON.stringify(block.timing)} (want [hh:]mm:ss.ttt --> [hh:]mm:ss.ttt, end after start)`,
      );
    }
    c++;
    const tick = origin + ticksFromSecondsNumber(cue.startTime);
    const end = origin + ticksFromSecondsNumber(cue.endTime);
    const earlier = byTick.get(tick);
    if (earlier !== undefined) {
      throw new MediaError(
        file,
        `line ${block.line}: cue ${n + 1} starts at the same time as the cue on line ${earlier} (a track holds one item per tick)`,
      );
    }
    byTick.set(tick, block.line);
    const settings = type === 'vtt' ? settingsOf(block.timing) : undefined;
    const payload: CaptionCue = {
      text: cue.text,
      ...(block.id !== '' && { id: block.id }),
      ...(settings && { settings }),
    };
    items.push({ tick, duration: end - tick, payload });
  }
  if (c !== cues.length)
    throw new MediaError(file, `the parser found ${cues.length} cues where ${c} were expected`);
  return items;
}
