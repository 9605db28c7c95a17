import { createFile, type ISOFile, MP4BoxBuffer } from 'mp4box';

/** What a CMAF header (init segment) says about its one track. */
export interface InitInfo {
  readonly kind: 'video' | 'audio';
  /** RFC 6381 codecs string, e.g. avc1.4d401f, mp4a.40.2. */
  readonly codec: string;
  /** Media units per second of the track's timestamps. */
  readonly timescale: number;
  readonly width?: number;
  readonly height?: number;
  readonly sampleRate?: number;
  readonly channels?: number;
  /** The edit list's start in media units: media before it is not presented (audio priming). */
  readonly presentationStart: number;
  /** trex defaults, used when a fragment does not repeat them. */
  readonly defaultSampleDuration: number;
  readonly defaultSampleFlags: number;
}

/** What a fragment's moof says. */
export interface FragmentInfo {
  /** tfdt: decode time of the first sample, in media units. */
  readonly baseMediaDecodeTime: number;
  /** Sum of the sample durations, in media units. */
  readonly duration: number;
  readonly samples: number;
  /** The first sample is a sync sample (sample_is_non_sync_sample = 0). */
  readonly startsWithSync: boolean;
  /** Composition offset of the first sample (presentation minus decode time), in media units. */
  readonly firstCompositionOffset: number;
}

const NON_SYNC = 0x10000;

function parse(bytes: Uint8Array): ISOFile {
  const file = createFile();
  const buffer = MP4BoxBuffer.fromArrayBuffer(
    bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
    0,
  );
  file.appendBuffer(buffer);
  file.flush();
  return file;
}

/** Read a single-track CMAF header (ftyp + moov). */
export function parseInit(bytes: Uint8Array): InitInfo {
  const file = parse(bytes);
  const info = file.getInfo();
  const track = info.tracks[0];
  if (!track || info.tracks.length !== 1) throw new Error(`expected one track, found ${info.tracks.length}`);
  const trak = file.moov!.traks[0]!;
  const elst = trak.edts?.elst?.entries?.find((e) => e.media_time >= 0);
  const trex = file.moov!.mvex?.trexs?.[0];
  const video = track.video;
  const audio = track.audio;
  return {
    kind: video ? 'video' : 'audio',
    codec: track.codec,
    timescale: track.timescale,
    ...(video && { width: video.width, height: video.height }),
    ...(audio && { sampleRate: audio.sample_rate, channels: audio.channel_count }),
    presentationStart: elst ? Number(elst.media_time) : 0,
    defaultSampleDuration: trex?.default_sample_duration ?? 0,
    defaultSampleFlags: trex?.default_sample_flags ?? 0,
  };
}

/** Read a fragment (moof + mdat) of a track whose header is `init`. */
export function parseFragment(bytes: Uint8Array, init: InitInfo): FragmentInfo {
  const file = parse(bytes);
  const moof = file.moofs?.[0] ?? (file.boxes.find((b) => b.type === 'moof') as ISOFile['moofs'][number]);
  if (!moof) throw new Error('fragment has no moof');
  const traf = moof.trafs[0]!;
  const tfhd = traf.tfhd!;
  const trun = traf.truns[0]!;
  const duration0 = tfhd.default_sample_duration ?? init.defaultSampleDuration;
  const flags0 = tfhd.default_sample_flags ?? init.defaultSampleFlags;
  let duration = 0;
  let samples = 0;
  for (const run of traf.truns) {
    samples += run.sample_count;
    for (let i = 0; i < run.sample_count; i++) duration += run.sample_duration?.[i] ?? duration0;
  }
  const firstFlags =
    trun.flags & 0x4
      ? trun.first_sample_flags
      : trun.flags & 0x400
        ? (trun.sample_flags?.[0] ?? flags0)
        : flags0;
  return {
    baseMediaDecodeTime: Number(traf.tfdt!.baseMediaDecodeTime),
    duration,
    samples,
    startsWithSync: (firstFlags & NON_SYNC) === 0,
    firstCompositionOffset: trun.flags & 0x800 ? (trun.sample_composition_time_offset?.[0] ?? 0) : 0,
  };
}

/**
 * Add `by` media units to a fragment's decode time (every tfdt of its moof), in place. Ingest uses it to
 * put each track's fragments on the timeline's clock, so that players aligning tracks by timestamps
 * alone (hls.js) play them in step. A version 0 tfdt that would overflow 32 bits is refused.
 */
export function shiftDecodeTime(fragment: Uint8Array, by: bigint): void {
  const view = new DataView(fragment.buffer, fragment.byteOffset, fragment.byteLength);
  let shifted = 0;
  const walk = (from: number, to: number, path: string) => {
    for (let at = from; at + 8 <= to; ) {
      const size32 = view.getUint32(at);
      const type = String.fromCharCode(...fragment.subarray(at + 4, at + 8));
      const header = size32 === 1 ? 16 : 8;
      const size = size32 === 1 ? Number(view.getBigUint64(at + 8)) : size32 === 0 ? to - at : size32;
      if (size < header || at + size > to)
        throw new Error(`fragment: box ${type} at ${at} has a bad size ${size}`);
      if (path === '' && type === 'moof') walk(at + header, at + size, 'moof');
      else if (path === 'moof' && type === 'traf') walk(at + header, at + size, 'traf');
      else if (path === 'traf' && type === 'tfdt') {
        const version = view.getUint8(at + header);
        if (version === 1) view.setBigUint64(at + header + 4, view.getBigUint64(at + header + 4) + by);
        else {
          const value = BigInt(view.getUint32(at + header + 4)) + by;
          if (value > 0xffffffffn) throw new Error(`fragment: a 32-bit tfdt cannot hold ${value}`);
          view.setUint32(at + header + 4, Number(value));
        }
        shifted++;
      }
      at += size;
    }
  };
  walk(0, fragment.byteLength, '');
  if (shifted === 0) throw new Error('fragment: no tfdt in its moof');
}
