import type { AccessDoc } from '@dreamdb/engine/api';
import { clampTick } from './access/rights.js';
import { tokenFromFragment } from './access/token.js';
import { Api, ApiError, type HitDoc } from './api.js';
import { EventBus, type PlayerEvents } from './bus.js';
import { Clock } from './clock.js';
import { AccessController } from './controller/access-controller.js';
import { AnnotationController } from './controller/annotation-controller.js';
import { PlaybackController } from './controller/playback-controller.js';
import { SearchController } from './controller/search-controller.js';
import type { ShowTarget } from './controller/shared.js';
import { TimelineController } from './controller/timeline-controller.js';
import { VersionsController } from './controller/versions-controller.js';
import { byId } from './dom.js';
import { setupIngest } from './ingest.js';
import { bindKeys } from './keys.js';
import type { Lane } from './timeline.js';
import { readState, SharedView, type ViewState } from './url-state.js';
import './style.css';

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
  /** The tick at the playhead (the clock's: media time mapped to ticks, a clip's start included). */
  now(): bigint;
  hits(): readonly HitDoc[];
  /** What the link's token allows (open mode when the origin checks none). */
  access(): AccessDoc;
}

declare global {
  interface Window {
    dreamdb: PlayerHandle;
  }
}

// The composition root: one clock, bus and view shared by the controllers, which never call one another.
// The capability token comes from the fragment (never sent to a server) and lives in memory from here on.
const token = tokenFromFragment(location.hash);
const api = new Api('', token);
const bus = new EventBus<PlayerEvents>();
const view = new SharedView(readState(location.search, { space: 'demo', timeline: '' }));
const video = byId<HTMLVideoElement>('video');
const clock = new Clock(video, bus);
const shared = { clock, bus, view };

const access = new AccessController({ api, view });
const grantedWindow = (timeline: string) => access.window(timeline);
const playback = new PlaybackController({ ...shared, video, api, token, window: grantedWindow, busy });
const timeline = new TimelineController({
  ...shared,
  api,
  canvas: byId<HTMLCanvasElement>('lanes'),
  tip: byId('tip'),
  window: grantedWindow,
});
const search = new SearchController({ ...shared, api, status, window: grantedWindow });
const versions = new VersionsController({
  ...shared,
  api,
  show,
  busy,
  readable: (ref) => access.allows('read', ref),
  readableTimeline: (name) => access.readableTimeline(name),
  listable: () => !access.current.window,
});
const annotations = new AnnotationController({
  ...shared,
  api,
  status,
  show,
  can: (right, ref) => access.allows(right, ref),
});
/** Whether a version was ever shown: a refusal before that leaves nothing to show but the refusal. */
let shown = false;

setupIngest({
  api,
  space: () => view.state.space,
  ref: () => versions.uploadRef(),
  open: (name) => show({ ref: versions.uploadRef(), timeline: name }),
});

bindKeys(window, {
  togglePlay: () => playback.togglePlay(),
  stepFrames: (n) => playback.stepFrames(n),
  stepSeconds: (s) => playback.stepSeconds(s),
  shuttle: (direction) => playback.shuttle(direction),
  jumpEvent: (direction) => timeline.jumpEvent(direction),
  zoom: (factor) => timeline.zoom(factor),
  annotate: () => annotations.focus(),
});

/** Show another version or timeline: another timeline's playhead, view and search start afresh. */
async function show(target: ShowTarget): Promise<void> {
  const ref = target.ref ?? view.state.ref;
  if (target.timeline === undefined) view.set({ ref, t: clock.now() });
  else {
    const fresh = { t: undefined, from: undefined, to: undefined, q: undefined, like: undefined };
    view.set({ ref, timeline: target.timeline, ...fresh });
    search.clear();
  }
  await load();
}

/** Show the view's version: its document, then its playback, lanes and lists at once, then playhead and search. */
async function load(): Promise<void> {
  window.dreamdb.ready = false;
  const doc = await versions.open();
  // A token's window holds the playhead before anything plays; a shared link starts at its beginning.
  const granted = access.window(doc.timeline);
  clock.setWindow(granted);
  access.apply(versions.uploadRef());
  // Playback, the lanes' items and the version lists do not wait for one another.
  await Promise.all([playback.attach(doc), timeline.load(doc), versions.list(doc)]);
  const t = granted ? clampTick(view.state.t ?? granted.from, granted) : view.state.t;
  if (t !== undefined) await clock.seek(t);
  await search.restore();
  shown = true;
  window.dreamdb.ready = true;
  status(`${doc.tracks.length} tracks · manifest ${doc.manifest.slice(4, 16)}…`);
}

/** The player is busy until `work` settles: not ready meanwhile, and a failure is shown. */
function busy(work: Promise<void>): void {
  window.dreamdb.ready = false;
  work.then(() => {
    window.dreamdb.ready = true;
  }, fail);
}

function status(message: string, error = false): void {
  const line = byId('status');
  line.textContent = message;
  line.classList.toggle('error', error);
}

function fail(error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  window.dreamdb.error = message;
  status(message, true);
  // A refused token (401: expired, revoked, missing) stops the player whenever it comes; a 403 before
  // anything was shown leaves nothing else to show. The origin's own message says why.
  if (error instanceof ApiError && (error.status === 401 || (error.status === 403 && !shown)))
    access.deny(error.status, error.body.message || message);
}

window.dreamdb = {
  ready: false,
  state: () => ({ ...view.state }),
  lanes: () => timeline.currentLanes(),
  xOf: (tick) => timeline.xOf(tick),
  yOf: (id) => timeline.yOf(id),
  seek: (tick) => clock.seek(tick),
  now: () => clock.now(),
  hits: () => search.currentHits(),
  access: () => access.current,
};

/** Ask what the token allows, then show the view's version. */
async function start(): Promise<void> {
  await access.load();
  await load();
}

clock.beat();
start().catch(fail);
