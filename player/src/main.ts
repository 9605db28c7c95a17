import type { TimelineDoc } from '@dreamdb/engine/api';
import { setupAnnotations } from './annotate.js';
import { Api, ApiError, type HitDoc } from './api.js';
import { formatClock, formatMedia, mediaToTick, tickToMedia } from './clock.js';
import { setupIngest } from './ingest.js';
import { bindKeys } from './keys.js';
import { buildLanes, laneTracks } from './lanes.js';
import { attach, type EngineName, type Playback } from './playback.js';
import { type Lane, type Span, spanAt, Timeline } from './timeline.js';
import { readState, type ViewState, writeState } from './url-state.js';
import './style.css';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const video = $<HTMLVideoElement>('video');
const api = new Api();

/** What the e2e tests and the console can read: where things are, and when the player is ready. */
interface PlayerHandle {
  ready: boolean;
  error?: string;
  state(): ViewState;
  lanes(): readonly Lane[];
  /** The canvas x of a tick on the timeline, in CSS pixels (for clicking a mark). */
  xOf(tick: bigint): number;
  /** The canvas y of a lane's middle. */
  yOf(laneId: string): number;
  seek(tick: bigint): Promise<void>;
  hits(): readonly HitDoc[];
}

declare global {
  interface Window {
    dreamdb: PlayerHandle;
  }
}

const state: ViewState = readState(location.search, { space: 'demo', timeline: '' });
let doc: TimelineDoc;
let playback: Playback | undefined;
let genesis: bigint | undefined;
let hits: readonly HitDoc[] = [];
let lanes: Lane[] = [];
let selection: [bigint, bigint] | undefined;

const timeline = new Timeline($<HTMLCanvasElement>('lanes'), {
  seek: (tick) => void seek(tick),
  hover: (tick, lane, span, x) => showHover(tick, lane, span, x),
  view: (from, to) => {
    state.from = from;
    state.to = to;
    saveState();
  },
  select: (span) => {
    selection = span;
    $('selection').textContent = span ? `selected ${formatMedia(span[0])}–${formatMedia(span[1])}` : '';
  },
});

const annotations = setupAnnotations({
  api,
  space: () => state.space,
  doc: () => doc,
  playhead: () => mediaToTick(video.currentTime),
  selection: () => selection,
  show: async (ref) => {
    state.ref = ref;
    state.t = mediaToTick(video.currentTime);
    saveState();
    await load();
  },
  status,
});

/** Where an upload goes: the ref on view, or main when an earlier version (a manifest hash) is on view. */
const uploadRef = () => (/^1e20[0-9a-f]{64}$/.test(state.ref) ? 'main' : state.ref);

setupIngest({
  api,
  space: () => state.space,
  ref: uploadRef,
  open: async (name) => {
    state.ref = uploadRef();
    showTimeline(name);
    await load();
  },
});

/** Switch to another timeline of the space: its own playhead, view and search start afresh. */
function showTimeline(name: string): void {
  state.timeline = name;
  state.t = undefined;
  state.from = undefined;
  state.to = undefined;
  state.q = undefined;
  state.like = undefined;
  hits = [];
  renderHits();
  saveState();
}

/** Keep the URL in step with the view (replaceState: no history entry per seek). */
let saveTimer = 0;
function saveState(): void {
  clearTimeout(saveTimer);
  saveTimer = window.setTimeout(() => history.replaceState(null, '', writeState(state)), 150);
}

/** Put the video at a tick: the frame whose presentation interval holds it (within one frame). */
async function seek(tick: bigint): Promise<void> {
  state.t = tick;
  saveState();
  timeline.setPlayhead(tick);
  const target = tickToMedia(tick);
  // An engine still settling after a load (shaka clamps a seek to the range it knows so far) can move a
  // seek elsewhere: the seek is made again until it lands.
  for (let attempt = 0; attempt < 3 && Math.abs(video.currentTime - target) >= 1e-6; attempt++) {
    const seeked = new Promise<void>((resolve) =>
      video.addEventListener('seeked', () => resolve(), { once: true }),
    );
    video.currentTime = target;
    await seeked;
  }
}

function status(message: string, error = false): void {
  const el = $('status');
  el.textContent = message;
  el.classList.toggle('error', error);
}

function showHover(
  tick: bigint | undefined,
  lane: Lane | undefined,
  span: Span | undefined,
  x: number,
): void {
  const tip = $('tip');
  if (tick === undefined) {
    tip.hidden = true;
    return;
  }
  // Scrubbing over the session shows the thumbnail of the moment under the pointer.
  const thumbs = lanes.find((l) => l.kind === 'thumbs');
  const thumb = thumbs && spanAt(thumbs.spans, Number(tick), Number.POSITIVE_INFINITY);
  const image = tip.querySelector('img')!;
  if (thumb?.image) {
    image.src = thumb.image;
    image.hidden = false;
  } else image.hidden = true;
  const what =
    span && lane && (lane.kind === 'marks' || lane.kind === 'captions' || lane.kind === 'hits')
      ? `${lane.label}: ${span.label ?? ''}${span.text ? ` — ${span.text}` : ''}${span.rank ? ` #${span.rank}` : ''}`
      : '';
  tip.querySelector('span')!.textContent = `${formatMedia(span && what ? span.tick : tick)} ${what}`;
  tip.style.left = `${Math.max(0, x - 80)}px`;
  tip.hidden = false;
}

/** What the clock shows, so an animation frame with nothing new writes nothing to the page. */
const shown = { tick: -1n, text: -1n, at: 0, rendition: '' };

function renderClock(): void {
  const tick = mediaToTick(video.currentTime);
  if (tick !== shown.tick) {
    shown.tick = tick;
    timeline.setPlayhead(tick);
  }
  // Playing, the digits change faster than they can be read: ten times a second is enough.
  const playing = !video.paused && !video.ended;
  if (tick !== shown.text && (!playing || performance.now() - shown.at >= 100)) {
    shown.text = tick;
    shown.at = performance.now();
    $('media-time').textContent = formatMedia(tick);
    $('clock-time').textContent = formatClock(tick, genesis) ?? '';
  }
  const rendition = playback ? `${playback.engine.toUpperCase()} · ${playback.rendition()}` : '';
  if (rendition !== shown.rendition) $('rendition').textContent = shown.rendition = rendition;
}

/** While the video plays, the clock follows it every animation frame; paused, its events redraw it. */
let looping = false;
function frameLoop(): void {
  renderClock();
  if (video.paused || video.ended) looping = false;
  else requestAnimationFrame(frameLoop);
}
video.addEventListener('play', () => {
  if (looping) return;
  looping = true;
  requestAnimationFrame(frameLoop);
});
for (const event of ['seeking', 'seeked', 'pause', 'timeupdate', 'loadeddata', 'resize'])
  video.addEventListener(event, renderClock);

/** Show a version of the timeline: its lanes, its playback with the chosen engine, its search tracks. */
async function load(): Promise<void> {
  window.dreamdb.ready = false;
  if (!state.timeline) {
    state.timeline = (await api.timelines(state.space, state.ref))[0] ?? '';
    if (!state.timeline) throw new Error(`space ${state.space} has no timeline at ${state.ref}`);
  }
  doc = await api.timeline(state.space, state.timeline, state.ref);
  genesis = doc.genesis === undefined ? undefined : BigInt(doc.genesis);
  $('title').textContent = `${doc.space} / ${doc.timeline}`;
  // The session runs from tick 0 (media time 0) to past its last item.
  const last = doc.tracks.reduce(
    (max, t) => (t.last !== undefined && BigInt(t.last) > max ? BigInt(t.last) : max),
    0n,
  );
  timeline.setExtent(0n, last + 2_000_000_000n);
  if (state.from !== undefined && state.to !== undefined) timeline.setView(state.from, state.to);
  // Playback, the lanes' items and the version lists do not wait for one another.
  const [, items] = await Promise.all([
    attachPlayback(),
    api.items(state.space, state.timeline, state.ref, laneTracks(doc)),
    refs(),
  ]);
  lanes = buildLanes(doc, items);
  timeline.setLanes([...lanes, hitsLane()]);
  await restoreView();
}

/** The chosen engine on the video, for the version on screen (an engine switch does only this). */
async function attachPlayback(): Promise<void> {
  await playback?.destroy();
  playback = await attach(video, state.engine, doc.playback);
  timeline.setFrameSeconds(playback.frameSeconds());
}

/** The playhead and the search of the state, then ready. */
async function restoreView(): Promise<void> {
  if (state.t !== undefined) await seek(state.t);
  if (state.q || state.like !== undefined) {
    $<HTMLInputElement>('query').value = state.q ?? '';
    await search(state.q ?? '', state.like);
  }
  window.dreamdb.ready = true;
  status(`${doc.tracks.length} tracks · manifest ${doc.manifest.slice(4, 16)}…`);
}

function hitsLane(): Lane {
  return {
    id: 'hits',
    label: 'search hits',
    kind: 'hits',
    // In tick order, as every lane (the timeline finds spans by binary search); the rank is kept.
    spans: hits
      .map((h, i) => ({ tick: BigInt(h.tick), duration: BigInt(h.duration), label: h.track, rank: i + 1 }))
      .sort((x, y) => (x.tick < y.tick ? -1 : x.tick > y.tick ? 1 : 0)),
  };
}

/** Run a search: text (BM25 over captions and annotations), frames like the one at `like`, or both fused. */
async function search(text: string, like: bigint | undefined): Promise<void> {
  const q = text.trim();
  state.q = q || undefined;
  state.like = like;
  saveState();
  if (!q && like === undefined) {
    hits = [];
  } else {
    const window = timeWindow();
    try {
      const answer =
        like === undefined
          ? await api.text(state.space, {
              ref: state.ref,
              timeline: state.timeline,
              query: q,
              k: 20,
              ...window,
            })
          : await api.hybrid(state.space, {
              ref: state.ref,
              timeline: state.timeline,
              ...(q && { text: q }),
              like: like.toString(),
              k: 20,
              ...window,
            });
      hits = answer.hits;
      status(`${hits.length} hits`);
    } catch (error) {
      hits = [];
      status(error instanceof ApiError ? error.message : String(error), true);
    }
  }
  timeline.setLane(hitsLane());
  renderHits();
}

/** The time filter of the search form, as ticks; empty: the whole session. */
function timeWindow(): { from?: string; to?: string } {
  if (!$<HTMLInputElement>('in-view').checked || state.from === undefined || state.to === undefined)
    return {};
  return { from: state.from.toString(), to: state.to.toString() };
}

function renderHits(): void {
  const list = $<HTMLOListElement>('hits');
  list.replaceChildren(
    ...hits.map((hit) => {
      const li = document.createElement('li');
      const button = document.createElement('button');
      button.type = 'button';
      button.dataset.tick = hit.tick;
      const snippet = describeHit(hit);
      button.textContent = `${formatMedia(BigInt(hit.tick))} · ${hit.track}${snippet ? ` · ${snippet}` : ''}`;
      button.title = `score ${hit.score.toPrecision(4)}`;
      button.addEventListener('click', () => void seek(BigInt(hit.tick)));
      li.append(button);
      return li;
    }),
  );
}

/** What made a hit: the terms it matched, and how alike its frame looks. */
function describeHit(hit: HitDoc): string {
  if ('matches' in hit) return hit.matches.map((m) => m.term).join(', ');
  const parts: string[] = hit.matched.text?.terms.map((t) => t.term) ?? [];
  if (hit.matched.vector) parts.push(`looks ${(hit.matched.vector.score * 100).toFixed(0)}% alike`);
  return parts.join(', ');
}

/** Make a select's options the names, with `selected` chosen. */
function fillSelect(select: HTMLSelectElement, names: readonly string[], selected: string): void {
  select.replaceChildren(
    ...names.map((name) => {
      const option = document.createElement('option');
      option.value = name;
      option.textContent = name;
      option.selected = name === selected;
      return option;
    }),
  );
}

async function refs(): Promise<void> {
  const select = $<HTMLSelectElement>('ref');
  try {
    const { refs } = await api.refs(state.space);
    const names = refs.map((r) => r.name);
    if (!names.includes(state.ref)) names.push(state.ref);
    fillSelect(select, names, state.ref);
  } catch {
    // A store without a refs listing still plays.
  }
  const timelines = $<HTMLSelectElement>('timeline');
  try {
    const names = await api.timelines(state.space, state.ref);
    fillSelect(timelines, names, state.timeline);
  } catch {
    timelines.replaceChildren();
  }
  // The history of the version on screen: any earlier manifest can be shown (time travel).
  const history = $<HTMLSelectElement>('history');
  try {
    const { entries } = await api.log(state.space, state.ref, 100);
    history.replaceChildren(
      ...entries.map((e, i) => {
        const option = document.createElement('option');
        option.value = e.manifest;
        const when = new Date(Number(BigInt(e.created) / 1_000_000n))
          .toISOString()
          .slice(0, 19)
          .replace('T', ' ');
        option.textContent = `${i === 0 ? 'latest · ' : ''}${when} · ${e.message ?? e.manifest.slice(4, 12)}`;
        option.selected = e.manifest === doc.manifest;
        return option;
      }),
    );
  } catch {
    history.replaceChildren();
  }
}

function jumpEvent(direction: -1 | 1): void {
  const now = mediaToTick(video.currentTime);
  const marks = lanes.filter((l) => l.kind === 'marks').flatMap((l) => l.spans.map((s) => s.tick));
  marks.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  // A few ms of slack, so a second press moves on from the mark just reached.
  const slack = 5_000_000n;
  const next = direction > 0 ? marks.find((t) => t > now + slack) : marks.findLast((t) => t < now - slack);
  if (next !== undefined) void seek(next);
}

bindKeys(window, {
  togglePlay: () => (video.paused ? void video.play() : video.pause()),
  stepFrames: (n) => {
    video.pause();
    const frame = playback?.frameSeconds() ?? 1 / 30;
    void seek(mediaToTick(Math.max(0, video.currentTime + n * frame)));
  },
  stepSeconds: (s) => void seek(mediaToTick(Math.max(0, video.currentTime + s))),
  shuttle: (direction) => {
    if (direction === 0) {
      video.pause();
      video.playbackRate = 1;
    } else if (direction < 0) {
      video.pause();
      void seek(mediaToTick(Math.max(0, video.currentTime - 1)));
    } else {
      video.playbackRate = video.paused ? 1 : Math.min(4, video.playbackRate * 2);
      void video.play();
    }
  },
  jumpEvent,
  zoom: (factor) => timeline.zoom(factor),
  annotate: () => $<HTMLInputElement>('label').focus(),
});

for (const id of ['label', 'note']) {
  $<HTMLInputElement>(id).addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      annotations.add();
    }
  });
}

$<HTMLFormElement>('search').addEventListener('submit', (e) => {
  e.preventDefault();
  const mode = $<HTMLSelectElement>('mode').value;
  const text = mode === 'like' ? '' : $<HTMLInputElement>('query').value;
  void search(text, mode === 'text' ? undefined : mediaToTick(video.currentTime));
});

$<HTMLSelectElement>('engine').addEventListener('change', (e) => {
  state.engine = (e.target as HTMLSelectElement).value as EngineName;
  state.t = mediaToTick(video.currentTime);
  saveState();
  window.dreamdb.ready = false;
  void attachPlayback()
    .then(() => seek(state.t ?? 0n))
    .then(() => {
      window.dreamdb.ready = true;
    })
    .catch(fail);
});

$<HTMLSelectElement>('timeline').addEventListener('change', (e) => {
  showTimeline((e.target as HTMLSelectElement).value);
  void load().catch(fail);
});

$<HTMLSelectElement>('history').addEventListener('change', (e) => {
  state.ref = (e.target as HTMLSelectElement).value;
  state.t = mediaToTick(video.currentTime);
  saveState();
  void load().catch(fail);
});

$<HTMLSelectElement>('ref').addEventListener('change', (e) => {
  state.ref = (e.target as HTMLSelectElement).value;
  state.t = mediaToTick(video.currentTime);
  saveState();
  void load().catch(fail);
});

video.addEventListener('seeked', () => {
  state.t = mediaToTick(video.currentTime);
  saveState();
});
video.addEventListener('pause', () => {
  state.t = mediaToTick(video.currentTime);
  saveState();
});

function fail(error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  window.dreamdb.error = message;
  status(message, true);
}

window.dreamdb = {
  ready: false,
  state: () => ({ ...state }),
  lanes: () => lanes,
  xOf: (tick) => timeline.xOf(tick),
  yOf: (id) => timeline.yOf(id),
  seek,
  hits: () => hits,
};

$<HTMLSelectElement>('engine').value = state.engine;
renderClock();
load().catch(fail);
