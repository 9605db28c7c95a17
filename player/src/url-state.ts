import type { EngineName } from './playback.js';

/** What a shared URL restores: where (space, timeline, version), when (playhead, view), what (query). */
export interface ViewState {
  space: string;
  timeline: string;
  ref: string;
  engine: EngineName;
  /** Playhead tick. */
  t?: bigint;
  /** Visible window on the timeline. */
  from?: bigint;
  to?: bigint;
  /** Search: the text, and whether to look for frames like the one at `like`. */
  q?: string;
  like?: bigint;
}

const tick = (v: string | null) => (v && /^[0-9]+$/.test(v) ? BigInt(v) : undefined);

/** The state a URL's query holds, with defaults for what it lacks. */
export function readState(search: string, defaults: { space: string; timeline: string }): ViewState {
  const p = new URLSearchParams(search);
  return {
    space: p.get('space') || defaults.space,
    timeline: p.get('timeline') || defaults.timeline,
    ref: p.get('ref') || 'main',
    engine: p.get('engine') === 'dash' ? 'dash' : 'hls',
    ...(tick(p.get('t')) !== undefined && { t: tick(p.get('t')) }),
    ...(tick(p.get('from')) !== undefined && { from: tick(p.get('from')) }),
    ...(tick(p.get('to')) !== undefined && { to: tick(p.get('to')) }),
    ...(p.get('q') && { q: p.get('q')! }),
    ...(tick(p.get('like')) !== undefined && { like: tick(p.get('like')) }),
  };
}

/** The query string of a state (ticks in decimal, so the URL is exact). */
export function writeState(state: ViewState): string {
  const p = new URLSearchParams();
  p.set('space', state.space);
  p.set('timeline', state.timeline);
  if (state.ref !== 'main') p.set('ref', state.ref);
  if (state.engine !== 'hls') p.set('engine', state.engine);
  if (state.t !== undefined) p.set('t', state.t.toString());
  if (state.from !== undefined && state.to !== undefined) {
    p.set('from', state.from.toString());
    p.set('to', state.to.toString());
  }
  if (state.q) p.set('q', state.q);
  if (state.like !== undefined) p.set('like', state.like.toString());
  return `?${p.toString()}`;
}

/**
 * The view the controllers share, each changing its own part (playback the playhead and engine, the
 * timeline its window, search the query, versions and the composition root the place on view), written
 * to the URL a moment after a change.
 */
export class SharedView {
  private saveTimer = 0;

  constructor(private readonly current: ViewState) {}

  /** The view now. */
  get state(): Readonly<ViewState> {
    return this.current;
  }

  /**
   * Change part of the view; the URL follows (replaceState: no history entry per seek). The fragment is
   * kept as it is: it holds the capability token (`#token=…`), so a reload or a copied URL still works.
   */
  set(changes: Partial<ViewState>): void {
    Object.assign(this.current, changes);
    clearTimeout(this.saveTimer);
    this.saveTimer = window.setTimeout(
      () => history.replaceState(null, '', `${writeState(this.current)}${location.hash}`),
      150,
    );
  }
}
