import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { range } from '@dreamdb/engine/query';
import { MemoryStore, Session, SpaceStore } from '@dreamdb/engine/store';
import { publish, type WriteItem, Writer } from '@dreamdb/engine/write';
import { type AudioLevel, audioLevels, levelWindows } from './audio-level.js';
import { type CaptionCue, captions } from './captions.js';
import { userEvents } from './events.js';
import { splitJpegs, type Thumbnail, thumbnails } from './thumbnails.js';
import { type DerivedTrack, writeDerived } from './track.js';

const S = 1_000_000_000n;
const ORIGIN = 7_000_000n; // a non-zero origin, as ingest gives for inputs with priming
const dir = mkdtempSync(join(tmpdir(), 'dreamdb-derived-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** 5 s of testsrc2 and, as mono PCM, 3 s of a 440 Hz sine (amplitude 1/8) then 2 s of silence. */
const AV = [
  '-f',
  'lavfi',
  '-i',
  'testsrc2=size=192x108:rate=25:duration=5',
  '-f',
  'lavfi',
  '-i',
  'sine=frequency=440:sample_rate=48000:duration=3',
  '-f',
  'lavfi',
  '-i',
  'anullsrc=r=48000:cl=mono:d=2',
  '-filter_complex',
  '[1:a][2:a]concat=n=2:v=0:a=1[a]',
  '-map',
  '0:v',
  '-map',
  '[a]',
  '-c:v',
  'libx264',
  '-preset',
  'ultrafast',
  '-pix_fmt',
  'yuv420p',
  '-c:a',
  'pcm_s16le',
];
let av: string;
/** av with its video 1.3 s after its audio; with its audio 1.3 s after its video; all from 1.3 s on. */
let lateVideo: string;
let lateAudio: string;
let shifted: string;
before(() => {
  av = join(dir, 'av.mkv');
  execFileSync('ffmpeg', ['-v', 'error', '-y', ...AV, av]);
  const remux = (name: string, args: string[]) => {
    const file = join(dir, name);
    execFileSync('ffmpeg', ['-v', 'error', '-y', ...args, '-c', 'copy', file]);
    return file;
  };
  const offset = ['-i', av, '-itsoffset', '1.3', '-i', av];
  lateVideo = remux('late-video.mkv', [...offset, '-map', '1:v', '-map', '0:a']);
  lateAudio = remux('late-audio.mkv', [...offset, '-map', '0:v', '-map', '1:a']);
  shifted = remux('shifted.mkv', ['-i', av, '-output_ts_offset', '1.3']);
});

async function all<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const value of iterable) out.push(value);
  return out;
}
const collect = (derived: DerivedTrack): Promise<WriteItem[]> => all(derived.items);

function write(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** The error a promise rejects with (it must reject). */
async function refusal(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  assert.fail('expected a refusal');
}

test('thumbnails: one JPEG per 2 s at origin + 0, 2, 4 s, 160 px wide', async () => {
  const derived = thumbnails(av, { origin: ORIGIN });
  assert.deepEqual(derived.track, {
    name: 'thumbnails',
    kind: 'event',
    modality: 'image.jpeg',
    bucketDuration: 60n * S,
    attrs: { width: 160, every_seconds: 2 },
  });
  const items = await collect(derived);
  assert.equal(items.length, Math.ceil(5 / 2));
  assert.deepEqual(
    items.map((i) => [i.tick, i.duration]),
    [0n, 2n, 4n].map((s) => [ORIGIN + s * S, 2n * S]),
  );
  for (const [n, item] of items.entries()) {
    const { image, width, height } = item.payload as Thumbnail;
    assert.deepEqual([width, height], [160, 90]);
    const file = join(dir, `thumb-${n}.jpg`);
    writeFileSync(file, image);
    const probe = JSON.parse(
      execFileSync('ffprobe', [
        '-v',
        'error',
        '-show_entries',
        'stream=codec_name,width,height',
        '-of',
        'json',
        file,
      ]).toString(),
    ) as { streams: { codec_name: string; width: number; height: number }[] };
    assert.deepEqual(probe.streams, [{ codec_name: 'mjpeg', width: 160, height: 90 }]);
  }
  // Each thumbnail is the frame shown at its time: the frame-exact picture ffmpeg gives at that instant.
  const frameAt2s = execFileSync('ffmpeg', [
    ...['-v', 'error', '-i', av, '-map', '0:v', '-vf', 'select=eq(n\\,50),scale=160:-2'],
    ...['-fps_mode', 'passthrough', '-c:v', 'mjpeg', '-q:v', '5', '-f', 'image2pipe', 'pipe:1'],
  ]);
  assert.deepEqual(Buffer.from((items[1]!.payload as Thumbnail).image), frameAt2s);
});

test('thumbnails of a video starting late begin with the interval it starts in', async () => {
  const items = await collect(thumbnails(lateVideo, { origin: ORIGIN, everySeconds: 1, width: 64 }));
  // Video from 1.3 s to 6.3 s: its first frame for [1 s, 2 s), then the pictures at 2, 3, 4, 5, 6 s.
  assert.deepEqual(
    items.map((i) => i.tick),
    [1n, 2n, 3n, 4n, 5n, 6n].map((s) => ORIGIN + s * S),
  );
  assert.deepEqual(
    items.map((i) => (i.payload as Thumbnail).width),
    [64, 64, 64, 64, 64, 64],
  );
  const firstFrame = execFileSync('ffmpeg', [
    ...['-v', 'error', '-i', lateVideo, '-map', '0:v', '-frames:v', '1', '-vf', 'scale=64:-2'],
    ...['-c:v', 'mjpeg', '-q:v', '5', '-f', 'image2pipe', 'pipe:1'],
  ]);
  assert.deepEqual(Buffer.from((items[0]!.payload as Thumbnail).image), firstFrame);
  // As ingest does, times count from the container's start: a whole input at 1.3 s starts at origin.
  const whole = await collect(thumbnails(shifted, { origin: ORIGIN }));
  assert.deepEqual(
    whole.map((i) => i.tick),
    [0n, 2n, 4n].map((s) => ORIGIN + s * S),
  );
});

test('splitJpegs cuts JPEGs however the bytes are chunked, and skips FF D9 inside a header segment', async () => {
  const first = (await collect(thumbnails(av, { origin: 0n, everySeconds: 5 })))[0]!.payload as Thumbnail;
  // A COM segment holding FF D9 FF D8, as a naive marker scan would misread.
  const jpeg = first.image;
  const com = Buffer.from([0xff, 0xfe, 0x00, 0x06, 0xff, 0xd9, 0xff, 0xd8]);
  const tricky = Buffer.concat([jpeg.subarray(0, 2), com, jpeg.subarray(2)]);
  const stream = Buffer.concat([jpeg, tricky, jpeg]);
  for (const size of [1, 7, 4096, stream.length]) {
    async function* chunks() {
      for (let i = 0; i < stream.length; i += size) yield stream.subarray(i, i + size);
    }
    const images = await all(splitJpegs(chunks()));
    assert.equal(images.length, 3, `chunks of ${size}`);
    assert.deepEqual(Buffer.from(images[0]!.bytes), Buffer.from(jpeg));
    assert.deepEqual(Buffer.from(images[1]!.bytes), tricky);
    assert.deepEqual([images[2]!.width, images[2]!.height], [160, 90]);
  }
  const cut = (async function* () {
    yield stream.subarray(0, jpeg.length + 10);
  })();
  await assert.rejects(all(splitJpegs(cut, 'x.mkv')), /x\.mkv: .*ends inside an image/);
});

test('audio levels: 50 windows of 100 ms, the tone at peak 1/8, the silence at 0', async () => {
  const derived = audioLevels(av, { origin: ORIGIN });
  assert.equal(derived.track.modality, 'sensor.audio-level');
  assert.equal(derived.track.name, 'audio-level');
  const items = await collect(derived);
  assert.equal(items.length, 50);
  assert.deepEqual(
    items.map((i) => [i.tick, i.duration]),
    items.map((_, k) => [ORIGIN + BigInt(k) * 100_000_000n, 100_000_000n]),
  );
  const levels = items.map((i) => i.payload as AudioLevel);
  for (const [k, level] of levels.entries()) {
    if (k < 29) {
      assert.ok(Math.abs(level.peak - 0.125) <= 0.01, `window ${k}: peak ${level.peak}`);
      assert.ok(Math.abs(level.rms - 0.125 / Math.SQRT2) <= 0.01, `window ${k}: rms ${level.rms}`);
    }
    if (k > 30) assert.deepEqual(level, { peak: 0, rms: 0 }, `window ${k}`);
    // Rounded to 3 decimals.
    assert.equal(Math.round(level.peak * 1000) / 1000, level.peak);
  }
});

test('audio levels of audio starting late: windows on the input timeline, the first padded', async () => {
  const items = await collect(audioLevels(lateAudio, { origin: ORIGIN, windowMs: 500 }));
  // Audio from 1.3 s to 6.3 s: windows [1.0, 1.5) … [6.0, 6.5), the last holding 0.3 s.
  assert.equal(items.length, 11);
  assert.equal(items[0]!.tick, ORIGIN + 1n * S);
  assert.equal(items.at(-1)!.tick, ORIGIN + 6n * S);
  assert.equal(items.at(-1)!.duration, 300_000_000n);
  assert.ok(Math.abs((items[1]!.payload as AudioLevel).peak - 0.125) <= 0.01);
  // As ingest does, times count from the container's start: a whole input at 1.3 s starts at origin.
  const whole = await collect(audioLevels(shifted, { origin: ORIGIN }));
  assert.equal(whole.length, 50);
  assert.equal(whole[0]!.tick, ORIGIN);
});

test('levelWindows reads samples split across chunks', async () => {
  const samples = Int16Array.from([100, -200, 32767, -32768, 0, 0, 5]);
  const bytes = Buffer.from(samples.buffer);
  for (const size of [1, 3, bytes.length]) {
    async function* chunks() {
      for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
    }
    assert.deepEqual(await all(levelWindows(chunks(), 2)), [
      { index: 0, samples: 2, peak: 0.006, rms: 0.005 },
      { index: 1, samples: 2, peak: 1, rms: 1 },
      { index: 2, samples: 2, peak: 0, rms: 0 },
      { index: 3, samples: 1, peak: 0, rms: 0 },
    ]);
  }
});

const VTT = `WEBVTT
Kind: captions

NOTE a comment

intro
00:00:01.500 --> 00:00:03.000 align:start line:10%
Hello <b>there</b>

00:00:04.000 --> 00:00:05.250
Second
two lines

01:00:00.001 --> 01:00:02.000
Third
`;

const SRT = `1\r
00:00:01,500 --> 00:00:03,000\r
Hello\r
\r
2\r
00:00:04,000 --> 00:00:05,250\r
Second\r
two lines\r
\r
3\r
01:00:00,001 --> 01:00:02,000\r
Third\r
`;

test('captions: WebVTT and SRT cues at exact ticks, with ids and settings', async () => {
  const vtt = await collect(captions(write('c.vtt', VTT), { origin: ORIGIN }));
  assert.deepEqual(vtt, [
    {
      tick: ORIGIN + 1_500_000_000n,
      duration: 1_500_000_000n,
      payload: { text: 'Hello <b>there</b>', id: 'intro', settings: { align: 'start', line: '10%' } },
    },
    { tick: ORIGIN + 4n * S, duration: 1_250_000_000n, payload: { text: 'Second\ntwo lines' } },
    { tick: ORIGIN + 3600n * S + 1_000_000n, duration: 1_999_000_000n, payload: { text: 'Third' } },
  ]);
  const srt = await collect(captions(write('c.srt', SRT), { origin: ORIGIN }));
  assert.deepEqual(
    srt.map((i) => [i.tick, i.duration, (i.payload as CaptionCue).text, (i.payload as CaptionCue).id]),
    [
      [ORIGIN + 1_500_000_000n, 1_500_000_000n, 'Hello', '1'],
      [ORIGIN + 4n * S, 1_250_000_000n, 'Second\ntwo lines', '2'],
      [ORIGIN + 3600n * S + 1_000_000n, 1_999_000_000n, 'Third', '3'],
    ],
  );
  // Without a telling extension, the content says which.
  const sniffed = await collect(captions(write('c.txt', SRT), { origin: 0n }));
  assert.equal(sniffed.length, 3);
  const track = captions(write('c2.vtt', VTT), { origin: 0n }).track;
  assert.deepEqual(track, { name: 'captions', kind: 'event', modality: 'text.cue', bucketDuration: 60n * S });
});

test('captions: a malformed file is refused, naming the file and the line', async () => {
  const cases: [string, string, RegExp][] = [
    [
      'bad-ts.vtt',
      VTT.replace('00:00:04.000 -->', '00:00:0x.000 -->'),
      /bad-ts\.vtt: line 10: .*00:00:0x\.000/,
    ],
    [
      'bad-arrow.srt',
      SRT.replace('00:00:04,000 -->', '00:00:04,000 ->'),
      /bad-arrow\.srt: line 6: expected a cue timing/,
    ],
    [
      'backwards.srt',
      SRT.replace('00:00:04,000 --> 00:00:05,250', '00:00:06,000 --> 00:00:05,250'),
      /backwards\.srt: line 6: cue 2 has a bad timing/,
    ],
    [
      'merged.srt',
      SRT.replace('two lines\r\n\r\n3', 'two lines\r\n3'),
      /merged\.srt: line 10: a cue timing inside the text/,
    ],
    ['no-header.vtt', VTT.replace('WEBVTT\n', ''), /no-header\.vtt: line 1: .*WEBVTT/],
    [
      'same-start.vtt',
      VTT.replace('00:00:04.000 -->', '00:00:01.500 -->'),
      /same-start\.vtt: line 10: .*same time as the cue on line 7/,
    ],
    ['prose.txt', 'just some words\n', /prose\.txt: line 1: neither WebVTT/],
  ];
  for (const [name, text, pattern] of cases) {
    const error = await refusal(collect(captions(write(name, text), { origin: 0n })));
    assert.match(error.message, pattern, name);
    assert.equal(error.message.includes('\n'), false, `${name}: one line`);
  }
  const missing = await refusal(collect(captions(join(dir, 'none.vtt'), { origin: 0n })));
  assert.match(missing.message, /none\.vtt: no such file/);
});

test('events: JSONL with tick, "1.5s" and seconds forms, durations, extra fields kept', async () => {
  const file = write(
    'e.jsonl',
    [
      '{"tick": 1000000000, "label": "start", "user": "ana"}',
      '',
      '{"tick": "1.5s", "duration": "0.25s", "label": "click", "x": 10, "tags": ["a"]}',
      '{"seconds": 2.001, "duration_s": 0.5, "label": "note"}',
      '{"tick": "3000000000", "duration": 100}',
      '{"seconds": "4.000000001"}',
    ].join('\n'),
  );
  const derived = userEvents(file, { origin: ORIGIN });
  assert.deepEqual(derived.track, {
    name: 'events',
    kind: 'event',
    modality: 'event.annotation',
    bucketDuration: 60n * S,
  });
  assert.deepEqual(await collect(derived), [
    { tick: ORIGIN + 1n * S, payload: { label: 'start', user: 'ana' } },
    {
      tick: ORIGIN + 1_500_000_000n,
      duration: 250_000_000n,
      payload: { label: 'click', x: 10, tags: ['a'] },
    },
    { tick: ORIGIN + 2_001_000_000n, duration: 500_000_000n, payload: { label: 'note' } },
    { tick: ORIGIN + 3n * S, duration: 100n, payload: {} },
    { tick: ORIGIN + 4n * S + 1n, payload: {} },
  ]);
  assert.equal(userEvents(file, { origin: 0n, track: 'clicks' }).track.name, 'clicks');
});

test('events: CSV with a header row; numbers typed, seconds exact', async () => {
  const file = write(
    'e.csv',
    [
      'tick,seconds,duration,duration_s,label,score,note',
      '1000000000,,,,start,3,',
      '1.5s,,0.25s,,click,-0.5,"a, quoted\nnote"',
      ',2.001,,0.5,note,,x',
    ].join('\n'),
  );
  assert.deepEqual(await collect(userEvents(file, { origin: ORIGIN })), [
    { tick: ORIGIN + 1n * S, payload: { label: 'start', score: 3 } },
    {
      tick: ORIGIN + 1_500_000_000n,
      duration: 250_000_000n,
      payload: { label: 'click', score: -0.5, note: 'a, quoted\nnote' },
    },
    { tick: ORIGIN + 2_001_000_000n, duration: 500_000_000n, payload: { label: 'note', note: 'x' } },
  ]);
});

test('events: a bad row is refused, naming the file, the line and the problem', async () => {
  const cases: [string, string, RegExp][] = [
    ['no-time.jsonl', '{"tick": 1}\n{"label": "x"}\n', /no-time\.jsonl: line 2: has no time/],
    [
      'both.jsonl',
      '{"tick": 1}\n\n{"tick": 2, "seconds": 1}\n',
      /both\.jsonl: line 3: has both tick and seconds/,
    ],
    [
      'float-tick.jsonl',
      '{"tick": 1.5}\n',
      /float-tick\.jsonl: line 1: tick 1\.5 is not a whole .*"s" suffix/,
    ],
    ['bad-s.jsonl', '{"tick": "1.5 s"}\n', /bad-s\.jsonl: line 1: tick "1\.5 s" is neither/],
    ['neg.jsonl', '{"seconds": -1}\n', /neg\.jsonl: line 1: seconds -1 is not a non-negative/],
    ['json.jsonl', '{"tick": 1}\n{"tick": 2,}\n', /json\.jsonl: line 2: not JSON/],
    ['array.jsonl', '[1, 2]\n', /array\.jsonl: line 1: expected a JSON object/],
    [
      'dup.jsonl',
      '{"tick": "1s"}\n{"seconds": 1}\n',
      /dup\.jsonl: line 2: tick \d+ is already taken by the event on line 1/,
    ],
    ['bad.csv', 'seconds,label\n1,a\n2,b\nsoon,c\n', /bad\.csv: line 4: seconds "soon" is not/],
    ['ragged.csv', 'seconds,label\n1,a\n2,b,extra\n', /ragged\.csv: .*line 3/],
  ];
  for (const [name, text, pattern] of cases) {
    const error = await refusal(collect(userEvents(write(name, text), { origin: 0n })));
    assert.match(error.message, pattern, name);
    assert.equal(error.message.includes('\n'), false, `${name}: one line: ${error.message}`);
  }
  assert.throws(() => userEvents(join(dir, 'e.txt'), { origin: 0n }), /e\.txt: cannot tell the format/);
});

test('all four derived tracks publish and read back', async () => {
  const session = new Session(new SpaceStore(new MemoryStore(), 'lab'));
  const writer = new Writer();
  writer.timeline({ name: 's1' });
  const reports = [];
  for (const derived of [
    thumbnails(av, { origin: ORIGIN }),
    audioLevels(av, { origin: ORIGIN }),
    captions(write('p.vtt', VTT), { origin: ORIGIN }),
    userEvents(write('p.jsonl', '{"seconds": 1, "label": "hi"}\n'), { origin: ORIGIN }),
  ])
    reports.push(await writeDerived(writer, 's1', derived, { batch: 16 }));
  assert.deepEqual(
    reports.map((r) => [r.name, r.count]),
    [
      ['thumbnails', 3],
      ['audio-level', 50],
      ['captions', 3],
      ['events', 1],
    ],
  );
  assert.equal(reports[1]!.end, ORIGIN + 5n * S);
  await publish(session, writer, { ref: 'main', message: 'derived' });
  const main = (await session.resolve('main'))!;
  const { items } = await range(session, main, { timeline: 's1', t0: 0n, t1: 7200n * S });
  const count = (track: string) => items.filter((i) => i.track === track).length;
  assert.deepEqual(
    [count('thumbnails'), count('audio-level'), count('captions'), count('events')],
    [3, 50, 3, 1],
  );
  const thumb = items.find((i) => i.track === 'thumbnails')!.payload as Thumbnail;
  assert.equal(thumb.image[0], 0xff);
  assert.equal(thumb.width, 160);
});
