#!/usr/bin/env node
// Make the sample session into a directory: `node samples/lab-session/make.mjs <dir>` writes
//   recording.mp4   3 minutes of 640x360 30 fps video in six scenes of 30 s (H.264, a keyframe every second)
//                   with speech over a quiet background (AAC 48 kHz mono), moov at the end as cameras write it;
//   transcript.vtt  WebVTT cues: the spoken sentences, each from where it starts to where its speech ends;
//   events.jsonl    detections, sensor readings and annotations on the same clock (`dreamdb ingest --events`).
// Everything is made here with ffmpeg's lavfi sources and espeak-ng; the same script makes the same files.
// A stamp (.stamp: the script's hash) makes a second run with the files in place do nothing.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const exec = promisify(execFile);

const WIDTH = 640;
const HEIGHT = 360;
const FPS = 30;
const SCENE_SECONDS = 30;
const OUTPUTS = ['recording.mp4', 'transcript.vtt', 'events.jsonl'];

// ---------------------------------------------------------------------------------------------------
// Moving shapes. A position is an ffmpeg expression of the scene time t (seconds from the scene's start),
// used by the overlay filter that draws the shape and evaluated here for the detections' boxes, so the
// boxes are where the shapes are. Only if/lt/between/min/max/sin/cos/PI are used.

const FUNCTIONS = {
  iff: (c, a, b) => (c ? a : b),
  lt: (a, b) => (a < b ? 1 : 0),
  between: (x, a, b) => (x >= a && x <= b ? 1 : 0),
  min: Math.min,
  max: Math.max,
  sin: Math.sin,
  cos: Math.cos,
  PI: Math.PI,
};
/** An ffmpeg expression of t as a function of t. */
function expression(text) {
  const f = new Function('t', ...Object.keys(FUNCTIONS), `return ${text.replace(/\bif\(/g, 'iff(')};`);
  return (t) => f(t, ...Object.values(FUNCTIONS));
}
const at = (text) => ({ text, of: expression(text) });

// Scene 1, the bench: the arm swings through its home position (calibration), reaches the red cup, lifts it
// and sets it down, and draws back.
const ARM_X = at(
  'if(lt(t,10),-230+50*sin(t*PI/2.5),if(lt(t,17),-230+(t-10)*240/7,if(lt(t,26),10,10-(t-26)*60)))',
);
const LIFT = 'if(between(t,18,24),60*sin((t-18)*PI/6),0)';
const ARM_Y = at(`206-${LIFT}`);
const CUP_X = at('430');
const CUP_Y = at(`194-${LIFT}`);
const ARM = { w: 420, h: 24 };
const ARM_BASE = { x: 20, y: 150, w: 70, h: 100 };
const CUP = { w: 40, h: 56 };
// Scene 2, the colour bars: a calibration marker (a white square with a black cross) sweeps the chart.
const MARKER_X = at('296+260*sin(t*PI/10)');
const MARKER_Y = at('150+90*sin(t*PI/6)');
const MARKER = { w: 48, h: 48 };
// Scene 3, the side door: a person comes in at 4 s, walks to the window and waves from 20 s.
const PERSON_X = at('if(lt(t,4),-200,min(90+(t-4)*26,500))');
const PERSON_Y = at('if(lt(t,20),195+4*sin(t*PI*3),195)');
const BODY = { w: 56, h: 130 };
const HEAD = { w: 34, h: 34 };
const HAND_X = at('if(lt(t,20),-200,min(90+(t-4)*26,500)+58)');
const HAND_Y = at('140+12*sin(t*PI*4)');
// Scene 4, the loading bay: a forklift with a pallet of blue crates drives across, right to left, 3 s to 27 s.
const FORKLIFT_X = at('700-(t-3)*36');
const FORKLIFT_Y = at('170');
const FORKLIFT = { w: 150, h: 80 };
const PALLET_X = at('700-(t-3)*36-75');
const PALLET_Y = at('190');
const PALLET = { w: 70, h: 60 };

const size = (w, h) => `${w}x${h}`;
const base = `r=${FPS}:d=${SCENE_SECONDS}`;
const box = (x, y, w, h, c) => `drawbox=x=${x}:y=${y}:w=${w}:h=${h}:c=${c}:t=fill`;
const overlay = (x, y) => `overlay=x='${x.text}':y='${y.text}'`;

/** The six scenes: a name, what is seen, and a filtergraph whose output is labelled `out`. */
const SCENES = [
  {
    name: 'bench',
    what: 'the robot arm calibrates, then lifts the red cup on the bench',
    graph: (out) =>
      [
        `color=c=0x34404c:s=${size(WIDTH, HEIGHT)}:${base},${box(0, 244, WIDTH, 6, '0x8a6a44')},` +
          `${box(0, 250, WIDTH, 110, '0x6b4a2b')},${box(470, 40, 150, 110, '0x8fb3c9')},` +
          `${box(ARM_BASE.x, ARM_BASE.y, ARM_BASE.w, ARM_BASE.h, '0x222222')}[${out}bg]`,
        `color=c=0xb8bcc0:s=${size(ARM.w, ARM.h)}:${base},${box(ARM.w - 24, 0, 24, ARM.h, '0x3a3a3a')}[${out}arm]`,
        `color=c=0xd01818:s=${size(CUP.w, CUP.h)}:${base}[${out}cup]`,
        `[${out}bg][${out}cup]${overlay(CUP_X, CUP_Y)}[${out}a]`,
        `[${out}a][${out}arm]${overlay(ARM_X, ARM_Y)}[${out}]`,
      ].join(';'),
  },
  {
    name: 'colour bars',
    what: 'the camera check: SMPTE colour bars with a calibration marker sweeping across',
    graph: (out) =>
      [
        `smptehdbars=s=${size(WIDTH, HEIGHT)}:${base}[${out}bg]`,
        `color=c=white:s=${size(MARKER.w, MARKER.h)}:${base},${box(20, 0, 8, 48, 'black')},${box(0, 20, 48, 8, 'black')}[${out}mk]`,
        `[${out}bg][${out}mk]${overlay(MARKER_X, MARKER_Y)}[${out}]`,
      ].join(';'),
  },
  {
    name: 'side door',
    what: 'a person comes in through the side door, walks to the window and waves (light shifting on the wall)',
    graph: (out) =>
      [
        `gradients=s=${size(WIDTH, HEIGHT)}:${base}:c0=0x4e5f6c:c1=0xb49c74:n=2:speed=0.03:seed=5,format=yuv420p,` +
          `${box(0, 330, WIDTH, 30, '0x3c3c3c')},${box(52, 62, 126, 268, '0x2a1c12')},${box(60, 70, 110, 260, '0x5a3a22')},` +
          `${box(440, 60, 180, 110, '0xd8e8f0')}[${out}bg]`,
        `color=c=0x1f4e9a:s=${size(BODY.w, BODY.h)}:${base}[${out}body]`,
        `color=c=0xe0b48c:s=${size(HEAD.w, HEAD.h)}:${base}[${out}head]`,
        `color=c=0xe0b48c:s=14x40:${base}[${out}hand]`,
        `[${out}bg][${out}body]${overlay(PERSON_X, PERSON_Y)}[${out}a]`,
        `[${out}a][${out}head]overlay=x='${PERSON_X.text}+11':y='${PERSON_Y.text}-36'[${out}b]`,
        `[${out}b][${out}hand]${overlay(HAND_X, HAND_Y)}[${out}]`,
      ].join(';'),
  },
  {
    name: 'loading bay',
    what: 'a forklift carries a pallet of blue crates across the loading bay, past the yellow line',
    graph: (out) =>
      [
        `life=s=${size(WIDTH, HEIGHT)}:r=${FPS}:ratio=0.1:mold=20:seed=11:life_color=0x6e6e6e:death_color=0x262626:` +
          `mold_color=0x3c3c30,trim=duration=${SCENE_SECONDS},format=yuv420p,` +
          `${box(0, 0, WIDTH, 120, '0x1c1c24')},${box(0, 292, WIDTH, 8, '0xf0c020')}[${out}bg]`,
        `color=c=0xf0b000:s=${size(FORKLIFT.w, FORKLIFT.h)}:${base},${box(60, 0, 60, 40, '0x202020')},` +
          `${box(0, 60, FORKLIFT.w, 20, '0x303030')}[${out}fl]`,
        // The pallet (two blue crates on a wooden board) and, behind it, the forklift's mast.
        `color=c=0x8a6a44:s=${size(PALLET.w + 5, PALLET.h)}:${base},${box(4, 0, 30, 50, '0x2050c0')},` +
          `${box(36, 0, 30, 50, '0x2858d0')},${box(PALLET.w, 0, 5, PALLET.h, '0x202020')}[${out}pl]`,
        `[${out}bg][${out}fl]${overlay(FORKLIFT_X, FORKLIFT_Y)}[${out}a]`,
        `[${out}a][${out}pl]${overlay(PALLET_X, PALLET_Y)}[${out}]`,
      ].join(';'),
  },
  {
    name: 'thermal camera',
    what: 'the thermal camera: a false-colour picture zooming in',
    graph: (out) =>
      // Rendered at a quarter of the pixels and 10 fps (the fractal is slow), then scaled up to 30 fps.
      `mandelbrot=s=${size(WIDTH / 2, HEIGHT / 2)}:r=10:maxiter=128:end_pts=${10 * SCENE_SECONDS}:start_scale=1.5:` +
      `end_scale=0.05,trim=duration=${SCENE_SECONDS},scale=${WIDTH}:${HEIGHT},fps=${FPS},format=gray,format=yuv420p,` +
      `pseudocolor=preset=inferno[${out}]`,
  },
  {
    name: 'test pattern',
    what: "the camera's moving test pattern while the data is saved",
    graph: (out) => `testsrc2=s=${size(WIDTH, HEIGHT)}:${base}[${out}]`,
  },
];

// ---------------------------------------------------------------------------------------------------
// Speech: what is said, when (seconds from the start), and by whom (an espeak-ng voice).

const VOICES = { ana: 'en-us', ben: 'en-gb' };
const SENTENCES = [
  [1, 'ana', 'Good morning. This is the lab session of November twenty fifth.'],
  [6, 'ana', 'First we calibrate the robot arm. It swings through its home position.'],
  [12, 'ana', 'Now the arm reaches out toward the red cup on the bench.'],
  [18.5, 'ana', 'The gripper closes and lifts the red cup.'],
  [24.5, 'ana', 'It sets the cup down again. The grasp worked.'],
  [32, 'ben', 'Next we check the camera against the colour bars.'],
  [39, 'ben', 'A white marker sweeps across the chart to test the focus.'],
  [48, 'ben', 'The picture is level and sharp. Camera calibration done.'],
  [63, 'ana', 'A person enters through the side door.'],
  [70, 'ana', 'She walks past the bench wearing safety glasses.'],
  [80, 'ana', 'She stops by the window and waves at the camera.'],
  [92, 'ben', 'Warning. A forklift is driving into the loading bay.'],
  [100, 'ben', 'Everyone stays behind the yellow line while it passes.'],
  [108, 'ben', 'The forklift carries a pallet of blue crates to the back.'],
  [122, 'ana', 'We switch to the thermal camera.'],
  [129, 'ana', 'The motor of the arm is getting warm. Forty two degrees.'],
  [140, 'ana', 'The temperature alarm goes off, so we pause the arm.'],
  [152, 'ben', 'The camera shows its test pattern while we save the data.'],
  [162, 'ben', "That is the end of today's session. Thank you."],
];

// ---------------------------------------------------------------------------------------------------
// Events.

/** mulberry32: a small seeded PRNG, so every run makes the same events. */
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Seconds as the exact decimal the events format takes ("12.2s"), from whole milliseconds. */
const seconds = (ms) => `${ms / 1000}s`;
const round1 = (x) => Math.round(x * 10) / 10;
const round2 = (x) => Math.round(x * 100) / 100;

/** A box clipped to the frame as [x, y, w, h] in pixels, or undefined when none of it is in the frame. */
function clip(x, y, w, h) {
  const x0 = Math.max(0, Math.round(x));
  const y0 = Math.max(0, Math.round(y));
  const x1 = Math.min(WIDTH, Math.round(x + w));
  const y1 = Math.min(HEIGHT, Math.round(y + h));
  return x1 - x0 >= 8 && y1 - y0 >= 8 ? [x0, y0, x1 - x0, y1 - y0] : undefined;
}
const union = (a, b) => {
  const x0 = Math.min(a.x, b.x);
  const y0 = Math.min(a.y, b.y);
  return { x: x0, y: y0, w: Math.max(a.x + a.w, b.x + b.w) - x0, h: Math.max(a.y + a.h, b.y + b.h) - y0 };
};

/**
 * What the detector sees: per scene, the objects it tracks (label, the box at scene time t, and the offset
 * of its once-a-second samples within each second, so no two events share a tick).
 */
const DETECTORS = [
  {
    scene: 0,
    label: 'robot-arm',
    offset: 200,
    box: (t) => union(ARM_BASE, { x: ARM_X.of(t), y: ARM_Y.of(t), ...ARM }),
  },
  { scene: 0, label: 'red cup', offset: 600, box: (t) => ({ x: CUP_X.of(t), y: CUP_Y.of(t), ...CUP }) },
  {
    scene: 1,
    label: 'marker',
    offset: 400,
    box: (t) => ({ x: MARKER_X.of(t), y: MARKER_Y.of(t), ...MARKER }),
  },
  {
    scene: 2,
    label: 'person',
    offset: 300,
    box: (t) => ({ x: PERSON_X.of(t), y: PERSON_Y.of(t) - 36, w: BODY.w, h: BODY.h + 36 }),
  },
  {
    scene: 3,
    label: 'forklift',
    offset: 700,
    box: (t) => ({ x: FORKLIFT_X.of(t), y: FORKLIFT_Y.of(t), ...FORKLIFT }),
  },
  {
    scene: 3,
    label: 'pallet',
    offset: 800,
    box: (t) => ({ x: PALLET_X.of(t), y: PALLET_Y.of(t), ...PALLET }),
  },
];

/** Human annotations: start and length in seconds, who, a label and a note. */
const ANNOTATIONS = [
  [0, 0, 'ana', 'session start', 'lab session 25 November: arm calibration, camera check, visitors'],
  [6, 6, 'ana', 'calibration', 'arm swings through its home position, no offset'],
  [12, 14, 'ana', 'grasp', 'the arm lifts the red cup and sets it down; grasp ok'],
  [48, 0, 'ben', 'camera ok', 'colour bars level, focus sharp'],
  [64, 22, 'ana', 'visitor', 'a person came in through the side door, wearing safety glasses'],
  [93, 24, 'ben', 'near miss', 'the forklift passed close to the bench; everyone behind the yellow line'],
  [139, 11, 'ana', 'overheat', 'arm motor over 40 degrees, alarm; arm paused to cool down'],
  [178, 0, 'ben', 'session end', 'data saved'],
];

/** The events: detections (about once a second per visible object), sensor readings, annotations. */
function makeEvents() {
  const rand = random(20261125);
  const gauss = () => (rand() + rand() + rand() + rand() - 2) * 0.866; // about N(0, 0.5²)
  const events = [];
  for (const d of DETECTORS) {
    const start = d.scene * SCENE_SECONDS * 1000;
    for (let s = 0; s < SCENE_SECONDS; s++) {
      const ms = s * 1000 + d.offset;
      const b = d.box(ms / 1000);
      // A realistic detector jitters by a few pixels, and now and then misses one.
      const bbox = clip(b.x + gauss() * 4, b.y + gauss() * 4, b.w + gauss() * 4, b.h + gauss() * 4);
      if (!bbox || rand() < 0.04) continue;
      const visible = (bbox[2] * bbox[3]) / (b.w * b.h);
      const confidence = round2(Math.min(0.99, 0.72 + 0.22 * visible + rand() * 0.06));
      events.push({
        ms: start + ms,
        row: { duration: '1s', kind: 'detection', label: d.label, confidence, bbox },
      });
    }
  }
  // The arm's motor (temperature) and an IMU on the bench (vibration), at the middle of every second: the
  // arm moving shakes the bench, the forklift more; the motor warms in the thermal scene and cools after
  // the pause at 140 s.
  for (let s = 0; s < 6 * SCENE_SECONDS; s++) {
    const t = s + 0.5;
    const warm = (u) => 22 * (1 - Math.exp(-(u - 120) / 6));
    const heat = t < 120 ? 0 : t < 140 ? warm(t) : warm(140) * Math.exp(-(t - 140) / 12);
    const temperature_c = round1(24 + t * 0.01 + heat + gauss() * 0.2);
    const shake =
      (t >= 6 && t < 30 ? 0.08 : 0) + (t >= 93 && t < 117 ? 0.35 * Math.sin((Math.PI * (t - 93)) / 24) : 0);
    const imu_g = round2(1 + shake + Math.abs(gauss()) * 0.02);
    events.push({ ms: s * 1000 + 500, row: { kind: 'sensor', temperature_c, imu_g } });
  }
  for (const [start, length, who, label, note] of ANNOTATIONS) {
    events.push({
      ms: Math.round(start * 1000),
      row: { ...(length > 0 && { duration: `${length}s` }), kind: 'annotation', label, note, who },
    });
  }
  events.sort((a, b) => a.ms - b.ms);
  for (let i = 1; i < events.length; i++) {
    // A track holds one item per tick (and 20 s is left for the reviewer's note in `npm start`).
    if (events[i].ms === events[i - 1].ms) throw new Error(`two events at ${events[i].ms} ms`);
  }
  if (events.some((e) => e.ms === 20_000)) throw new Error('an event at 20 s');
  return events.map(({ ms, row }) => ({ tick: seconds(ms), ...row }));
}

// ---------------------------------------------------------------------------------------------------

/** [hh:]mm:ss.ttt of whole milliseconds. */
function vttTime(ms) {
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor(ms / 60_000) % 60;
  const s = Math.floor(ms / 1000) % 60;
  const pad = (n, w = 2) => String(n).padStart(w, '0');
  return `${pad(h)}:${pad(m)}:${pad(s)}.${pad(ms % 1000, 3)}`;
}

async function duration(file) {
  const { stdout } = await exec('ffprobe', [
    '-v',
    'error',
    '-show_entries',
    'format=duration',
    '-of',
    'default=noprint_wrappers=1:nokey=1',
    file,
  ]);
  return Math.round(Number(stdout.trim()) * 1000);
}

/** Speak every sentence to a WAV file; their lengths in milliseconds. */
async function speak(dir) {
  return Promise.all(
    SENTENCES.map(async ([, who, text], i) => {
      const wav = join(dir, `line-${i}.wav`);
      await exec('espeak-ng', ['-v', VOICES[who], '-s', '160', '-w', wav, text]);
      return { wav, ms: await duration(wav) };
    }),
  );
}

/** The ffmpeg arguments that make the recording from the scenes and the spoken lines. */
function ffmpegArgs(lines, output) {
  const total = SCENES.length * SCENE_SECONDS;
  const graph = SCENES.map((scene, i) => `${scene.graph(`s${i}`)}`);
  graph.push(
    `${SCENES.map((_, i) => `[s${i}]`).join('')}concat=n=${SCENES.length}:v=1:a=0,format=yuv420p,setsar=1[v]`,
  );
  // A quiet room (pink noise around -45 dBFS), the forklift's engine while it passes, the temperature
  // alarm's beeps before it is spoken of, and the sentences at their times.
  graph.push(`anoisesrc=r=48000:d=${total}:c=pink:a=0.012:seed=7[room]`);
  graph.push(
    `anoisesrc=r=48000:d=${total}:c=brown:a=0.5:seed=9,lowpass=f=300,` +
      `volume='if(between(t,93,117),0.3*sin(PI*(t-93)/24),0)':eval=frame[engine]`,
  );
  graph.push(
    `sine=r=48000:d=${total}:f=1800,volume='if(between(t,136.5,139.5)*lt(t-floor(t*2)/2,0.25),0.12,0)':eval=frame[alarm]`,
  );
  lines.forEach((_, i) => {
    const delay = Math.round(SENTENCES[i][0] * 1000);
    graph.push(`[${i}:a]aresample=48000,volume=0.8,adelay=${delay}:all=1[l${i}]`);
  });
  const mix = ['room', 'engine', 'alarm', ...lines.map((_, i) => `l${i}`)];
  graph.push(`${mix.map((l) => `[${l}]`).join('')}amix=inputs=${mix.length}:normalize=0:duration=first[a]`);
  return [
    '-v',
    'error',
    '-y',
    ...lines.flatMap((l) => ['-i', l.wav]),
    '-filter_complex',
    graph.join(';'),
    '-map',
    '[v]',
    '-map',
    '[a]',
    '-t',
    String(total),
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-pix_fmt',
    'yuv420p',
    '-g',
    String(FPS),
    '-keyint_min',
    String(FPS),
    '-sc_threshold',
    '0',
    '-c:a',
    'aac',
    '-b:a',
    '96k',
    '-ar',
    '48000',
    '-ac',
    '1',
    '-map_metadata',
    '-1',
    '-fflags',
    '+bitexact',
    '-f',
    'mp4',
    output,
  ];
}

async function main() {
  const out = process.argv[2];
  if (!out) {
    console.error('usage: node samples/lab-session/make.mjs <output directory>');
    process.exit(2);
  }
  const dir = resolve(out);
  const self = fileURLToPath(import.meta.url);
  const stamp = join(dir, '.stamp');
  const hash = createHash('sha256').update(readFileSync(self)).digest('hex');
  if (
    OUTPUTS.every((f) => existsSync(join(dir, f))) &&
    existsSync(stamp) &&
    readFileSync(stamp, 'utf8').trim() === hash
  ) {
    console.log(`sample session in ${dir} is up to date`);
    return;
  }
  mkdirSync(dir, { recursive: true });
  rmSync(stamp, { force: true });
  const started = Date.now();
  const work = mkdtempSync(join(dir, '.work-'));
  try {
    const lines = await speak(work);
    // Cues: each sentence from its start to the end of its speech; they must not overlap.
    const cues = lines.map((l, i) => ({ start: Math.round(SENTENCES[i][0] * 1000), ms: l.ms }));
    cues.forEach((c, i) => {
      const next = cues[i + 1]?.start ?? SCENES.length * SCENE_SECONDS * 1000;
      if (c.start + c.ms > next) throw new Error(`sentence ${i + 1} (${c.ms} ms) runs into the next one`);
    });
    const vtt = ['WEBVTT', ''];
    cues.forEach((c, i) => {
      vtt.push(`${vttTime(c.start)} --> ${vttTime(c.start + c.ms)}`, SENTENCES[i][2], '');
    });
    writeFileSync(join(work, 'transcript.vtt'), vtt.join('\n'));
    const events = makeEvents();
    writeFileSync(join(work, 'events.jsonl'), events.map((e) => `${JSON.stringify(e)}\n`).join(''));
    await exec('ffmpeg', ffmpegArgs(lines, join(work, 'recording.mp4')), { maxBuffer: 1 << 24 });
    for (const f of OUTPUTS) renameSync(join(work, f), join(dir, f));
    writeFileSync(stamp, `${hash}\n`);
    const counts = {};
    for (const e of events) counts[e.kind] = (counts[e.kind] ?? 0) + 1;
    console.log(
      `sample session in ${dir}: ${SCENES.length} scenes, ${cues.length} spoken cues, ${events.length} events ` +
        `(${Object.entries(counts)
          .map(([k, n]) => `${n} ${k}`)
          .join(', ')}) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
