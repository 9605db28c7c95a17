import type { TimelineDoc } from '@dreamdb/engine/api';
import type { TickWindow } from '../access/rights.js';
import type { Api, HitDoc } from '../api.js';
import { formatMedia } from '../clock.js';
import { buildLanes, hitsLane, laneTracks } from '../lanes.js';
import { type Lane, type Span, spanAt, Timeline } from '../timeline.js';
import type { Shared } from './shared.js';

/** What the timeline is built with. */
export interface TimelineInput extends Shared {
  readonly api: Api;
  /** The lanes' canvas. */
  readonly canvas: HTMLCanvasElement;
  /** The tooltip shown over it while hovering (a thumbnail and what lies under the pointer). */
  readonly tip: HTMLElement;
  /** The stretch of a timeline the token grants, if any: the timeline shows and loads only it. */
  window(timeline: string): TickWindow | undefined;
}

/** A few ms of slack, so a second press of [ or ] moves on from the mark just reached. */
const JUMP_SLACK = 5_000_000n;

/**
 * The timeline of lanes under the video: the lanes of the version on screen (its items, loaded once per
 * version), the search hits as a lane, the playhead, the hover tooltip, and seeks by click and by mark.
 */
export class TimelineController {
  private readonly timeline: Timeline;
  private lanes: Lane[] = [];
  private hits: readonly HitDoc[] = [];

  constructor(private readonly input: TimelineInput) {
    const { bus, clock, view } = input;
    this.timeline = new Timeline(input.canvas, {
      seek: (tick) => void clock.seek(tick),
      hover: (tick, lane, span, x) => this.showTip(tick, lane, span, x),
      view: (from, to) => view.set({ from, to }),
      select: (span) => bus.emit('selection', { span }),
    });
    // Called every beat: the timeline moves its playhead line only when the tick changed.
    bus.on('beat', ({ tick }) => this.timeline.setPlayhead(tick));
    bus.on('seek', ({ tick }) => this.timeline.setPlayhead(tick));
    bus.on('attached', ({ frameSeconds }) => this.timeline.setFrameSeconds(frameSeconds));
    bus.on('hits', ({ hits }) => {
      this.hits = hits;
      this.timeline.setLane(hitsLane(hits));
    });
  }

  /** Show a version: the session's span (and the view's window) at once, its lanes once their items load. */
  async load(doc: TimelineDoc): Promise<void> {
    const { api, view } = this.input;
    // The session runs from tick 0 (media time 0) to past its last item; a token's window, only it.
    const last = doc.tracks.reduce(
      (max, t) => (t.last !== undefined && BigInt(t.last) > max ? BigInt(t.last) : max),
      0n,
    );
    const granted = this.input.window(doc.timeline);
    if (granted) this.timeline.setExtent(granted.from, granted.to);
    else this.timeline.setExtent(0n, last + 2_000_000_000n);
    const { space, timeline, ref, from, to } = view.state;
    if (from !== undefined && to !== undefined) this.timeline.setView(from, to);
    const items = await api.items(space, timeline, ref, laneTracks(doc), granted);
    this.lanes = buildLanes(doc, items);
    this.timeline.setLanes([...this.lanes, hitsLane(this.hits)]);
  }

  /** The lanes of the version on screen (without the hits). */
  currentLanes(): readonly Lane[] {
    return this.lanes;
  }

  /** The canvas x of a tick in the current view, in CSS pixels. */
  xOf(tick: bigint): number {
    return this.timeline.xOf(tick);
  }

  /** The canvas y of a lane's middle; -1 when there is no such lane. */
  yOf(laneId: string): number {
    return this.timeline.yOf(laneId);
  }

  /** Zoom by `factor` (<1 in) around the playhead. */
  zoom(factor: number): void {
    this.timeline.zoom(factor);
  }

  /** Seek to the previous (-1) or next (1) event mark from the playhead. */
  jumpEvent(direction: -1 | 1): void {
    const now = this.input.clock.now();
    const marks = this.lanes.filter((l) => l.kind === 'marks').flatMap((l) => l.spans.map((s) => s.tick));
    marks.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const next =
      direction > 0 ? marks.find((t) => t > now + JUMP_SLACK) : marks.findLast((t) => t < now - JUMP_SLACK);
    if (next !== undefined) void this.input.clock.seek(next);
  }

  /** The tooltip over the lanes: the thumbnail of the moment under the pointer, and what lies there. */
  private showTip(tick: bigint | undefined, lane: Lane | undefined, span: Span | undefined, x: number): void {
    const tip = this.input.tip;
    if (tick === undefined) {
      tip.hidden = true;
      return;
    }
    // Scrubbing over the session shows the thumbnail of the moment under the pointer.
    const thumbs = this.lanes.find((l) => l.kind === 'thumbs');
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
}
