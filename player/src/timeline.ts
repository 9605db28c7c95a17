import { formatMedia } from './clock.js';

/** Something on a lane: an item's span on the clock, with what the lane shows of it. */
export interface Span {
  readonly tick: bigint;
  readonly duration: bigint;
  /** Marks and hits: the label that names and colours it. */
  readonly label?: string;
  /** Captions and notes: the text shown in the tooltip (and on the lane when there is room). */
  readonly text?: string;
  /** Waveform: a level in [0, 1]. */
  readonly value?: number;
  /** Thumbnails: an object URL of the image. */
  readonly image?: string;
  /** Hits: rank (1 = best). */
  readonly rank?: number;
}

/** A row of the timeline. */
export interface Lane {
  readonly id: string;
  readonly label: string;
  readonly kind: 'media' | 'wave' | 'thumbs' | 'marks' | 'captions' | 'hits';
  readonly spans: readonly Span[];
}

const HEIGHT: Record<Lane['kind'], number> = {
  media: 14,
  wave: 34,
  thumbs: 36,
  marks: 22,
  captions: 22,
  hits: 22,
};
const AXIS = 18;
const GUTTER = 96;
/** The narrowest view: a few frames across, so single frames can be clicked. */
const MIN_SPAN_NS = 100_000_000;

const colours = new Map<string, string>();

/** A label's colour: the same label always gets the same hue. */
export function colourOf(label: string): string {
  let colour = colours.get(label);
  if (colour === undefined) {
    let h = 0;
    for (let i = 0; i < label.length; i++) h = (Math.imul(h, 31) + label.charCodeAt(i)) | 0;
    colour = `hsl(${((h >>> 0) % 360).toString()} 70% 55%)`;
    colours.set(label, colour);
  }
  return colour;
}

/** The index of the first span (spans are in tick order) whose tick is after t. */
function firstAfter(spans: readonly Span[], t: number): number {
  let lo = 0;
  let hi = spans.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (Number(spans[mid]!.tick) <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The first span whose interval contains t, or the nearest one within `slack` ns. */
export function spanAt(spans: readonly Span[], t: number, slack: number): Span | undefined {
  const lo = firstAfter(spans, t);
  let best: Span | undefined;
  let bestDistance = slack;
  for (let i = Math.max(0, lo - 64); i < Math.min(spans.length, lo + 2); i++) {
    const s = spans[i]!;
    const start = Number(s.tick);
    const end = start + Number(s.duration);
    const distance = t < start ? start - t : t > end ? t - end : 0;
    if (distance <= bestDistance) {
      best = s;
      bestDistance = distance;
    }
  }
  return best;
}

/** What the timeline tells its owner. */
export interface TimelineEvents {
  /** Seek to a tick: a mark's own tick when one was clicked, else the tick under the pointer. */
  seek(tick: bigint): void;
  /** The pointer is over a tick (undefined: it left); `span` is what lies under it. */
  hover(tick: bigint | undefined, lane: Lane | undefined, span: Span | undefined, x: number): void;
  /** The view changed (zoom or pan). */
  view(from: bigint, to: bigint): void;
  /** A span was selected (shift+drag), or the selection cleared (undefined). */
  select(span: [bigint, bigint] | undefined): void;
}

/**
 * The lanes under the video on one clock: drawn on a canvas, zoomed with the wheel (from the whole
 * session down to single frames), panned by dragging, seeking on click. Ticks are bigints outside; inside,
 * nanoseconds as doubles (exact below 104 days).
 */
export class Timeline {
  private lanes: Lane[] = [];
  private readonly longest = new WeakMap<Lane, number>();
  /** What the canvas was last drawn for (view, size, content, selection). */
  private drawnKey = '';
  /** The playhead: a line over the canvas, moved without drawing. */
  private readonly playheadLine = document.createElement('div');
  private box = { width: 0, height: 0, left: 0, top: 0 };
  /** Bumped when what the lanes show changes (lanes replaced, a thumbnail decoded). */
  private content = 0;
  private extent: [number, number] = [0, 1];
  private window: [number, number] = [0, 1];
  private playhead = 0;
  private frameNs = 0;
  private drag: { x: number; from: number; moved: boolean } | undefined;
  /** Shift+drag: the span being selected, in ns. */
  private selecting: number | undefined;
  private selection: [number, number] | undefined;
  private frame = 0;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly events: TimelineEvents,
  ) {
    canvas.addEventListener('wheel', (e) => this.onWheel(e), { passive: false });
    canvas.addEventListener('pointerdown', (e) => this.onDown(e));
    canvas.addEventListener('pointermove', (e) => this.onMove(e));
    canvas.addEventListener('pointerup', (e) => this.onUp(e));
    canvas.addEventListener('pointerleave', () => this.events.hover(undefined, undefined, undefined, 0));
    new ResizeObserver(() => this.schedule()).observe(canvas);
    this.playheadLine.className = 'playhead';
    this.playheadLine.setAttribute('aria-hidden', 'true');
    canvas.after(this.playheadLine);
  }

  /** The lanes to draw, in order. */
  setLanes(lanes: Lane[]): void {
    // Thumbnails of lanes that go away (another version, timeline or reload) are released.
    for (const lane of this.lanes)
      if (lane.kind === 'thumbs' && !lanes.includes(lane))
        for (const s of lane.spans) if (s.image) releaseThumbnail(s.image);
    this.lanes = lanes;
    this.content++;
    // The longest span of each lane bounds how far before the view a visible span can start.
    for (const lane of lanes)
      if (!this.longest.has(lane))
        this.longest.set(
          lane,
          lane.spans.reduce((m, s) => Math.max(m, Number(s.duration)), 0),
        );
    this.canvas.style.height = `${AXIS + lanes.reduce((h, l) => h + HEIGHT[l.kind], 0)}px`;
    this.schedule();
  }

  /** Replace one lane (by id), or add it at the end. */
  setLane(lane: Lane): void {
    const i = this.lanes.findIndex((l) => l.id === lane.id);
    this.setLanes(i < 0 ? [...this.lanes, lane] : this.lanes.map((l, j) => (j === i ? lane : l)));
  }

  /** The session's span; the view is reset to all of it when `reset`. */
  setExtent(first: bigint, last: bigint, reset = true): void {
    this.extent = [Number(first), Math.max(Number(first) + MIN_SPAN_NS, Number(last))];
    if (reset) this.window = [...this.extent];
    this.schedule();
  }

  setView(from: bigint, to: bigint): void {
    this.window = [Number(from), Math.max(Number(from) + MIN_SPAN_NS, Number(to))];
    this.clampWindow();
    this.schedule();
  }

  get view(): [bigint, bigint] {
    return [BigInt(Math.round(this.window[0])), BigInt(Math.round(this.window[1]))];
  }

  setPlayhead(tick: bigint): void {
    // Called every animation frame: a paused video's playhead does not move, so nothing is redrawn.
    if (Number(tick) === this.playhead) return;
    this.playhead = Number(tick);
    // Follow the playhead when it leaves the view (as a video editor does while playing).
    const [a, b] = this.window;
    if (this.playhead < a || this.playhead > b) {
      const span = b - a;
      this.window = [this.playhead - span * 0.1, this.playhead + span * 0.9];
      this.clampWindow();
      this.emitView();
      this.schedule();
    } else this.placePlayhead();
  }

  /** The video's frame duration: at frame-level zoom the media lane shows each frame. */
  setFrameSeconds(seconds: number): void {
    this.frameNs = seconds * 1e9;
    this.changed();
  }

  /** Zoom by `factor` (<1 in) around tick `at` (default the playhead). */
  zoom(factor: number, at = this.playhead): void {
    const [a, b] = this.window;
    const span = Math.min(this.extent[1] - this.extent[0], Math.max(MIN_SPAN_NS, (b - a) * factor));
    const ratio = (at - a) / (b - a);
    this.window = [at - span * ratio, at - span * ratio + span];
    this.clampWindow();
    this.emitView();
    this.schedule();
  }

  private clampWindow(): void {
    const [lo, hi] = this.extent;
    let [a, b] = this.window;
    const span = Math.min(b - a, hi - lo);
    if (a < lo) a = lo;
    if (a + span > hi) a = hi - span;
    this.window = [a, a + span];
  }

  private emitView(): void {
    const [a, b] = this.view;
    this.events.view(a, b);
  }

  private x(t: number, width: number): number {
    const [a, b] = this.window;
    return GUTTER + ((t - a) / (b - a)) * (width - GUTTER);
  }

  private t(x: number, width: number): number {
    const [a, b] = this.window;
    return a + ((x - GUTTER) / (width - GUTTER)) * (b - a);
  }

  /** The x (CSS pixels) of a tick in the current view. */
  xOf(tick: bigint): number {
    return this.x(Number(tick), this.canvas.clientWidth);
  }

  /** The y (CSS pixels) of the middle of a lane; -1 when there is no such lane. */
  yOf(id: string): number {
    let top = AXIS;
    for (const lane of this.lanes) {
      if (lane.id === id) return top + HEIGHT[lane.kind] / 2;
      top += HEIGHT[lane.kind];
    }
    return -1;
  }

  /** The lane at a y, and its top. */
  private laneAt(y: number): Lane | undefined {
    let top = AXIS;
    for (const lane of this.lanes) {
      if (y >= top && y < top + HEIGHT[lane.kind]) return lane;
      top += HEIGHT[lane.kind];
    }
    return undefined;
  }

  /** The span under a point: marks and hits within 5 px, others by interval. */
  private hit(x: number, y: number): { tick: number; lane: Lane | undefined; span: Span | undefined } {
    const width = this.canvas.clientWidth;
    const tick = this.t(x, width);
    const lane = this.laneAt(y);
    const nsPerPx = (this.window[1] - this.window[0]) / (width - GUTTER);
    const slack = lane && (lane.kind === 'marks' || lane.kind === 'hits') ? 5 * nsPerPx : 0;
    return { tick, lane, span: lane ? spanAt(lane.spans, tick, slack) : undefined };
  }

  private onWheel(e: WheelEvent): void {
    e.preventDefault();
    const width = this.canvas.clientWidth;
    if (Math.abs(e.deltaX) > Math.abs(e.deltaY) || e.shiftKey) {
      const [a, b] = this.window;
      const dt = ((e.shiftKey ? e.deltaY : e.deltaX) / (width - GUTTER)) * (b - a);
      this.window = [a + dt, b + dt];
      this.clampWindow();
      this.emitView();
      this.schedule();
      return;
    }
    this.zoom(Math.exp(e.deltaY * 0.002), this.t(e.offsetX, width));
  }

  private onDown(e: PointerEvent): void {
    if (e.offsetX < GUTTER) return;
    this.canvas.setPointerCapture(e.pointerId);
    if (e.shiftKey) {
      this.selecting = this.t(e.offsetX, this.canvas.clientWidth);
      this.selection = [this.selecting, this.selecting];
      return;
    }
    this.drag = { x: e.offsetX, from: this.window[0], moved: false };
  }

  /** Clear the selected span. */
  clearSelection(): void {
    this.selection = undefined;
    this.events.select(undefined);
    this.schedule();
  }

  private onMove(e: PointerEvent): void {
    const width = this.canvas.clientWidth;
    if (this.selecting !== undefined) {
      const t = this.t(e.offsetX, width);
      this.selection = [Math.min(this.selecting, t), Math.max(this.selecting, t)];
      this.schedule();
    }
    if (this.drag) {
      const dx = e.offsetX - this.drag.x;
      if (Math.abs(dx) > 3) this.drag.moved = true;
      if (this.drag.moved) {
        const span = this.window[1] - this.window[0];
        const from = this.drag.from - (dx / (width - GUTTER)) * span;
        this.window = [from, from + span];
        this.clampWindow();
        this.emitView();
        this.schedule();
      }
    }
    const { tick, lane, span } = this.hit(e.offsetX, e.offsetY);
    this.events.hover(e.offsetX >= GUTTER ? BigInt(Math.round(tick)) : undefined, lane, span, e.offsetX);
  }

  private onUp(e: PointerEvent): void {
    if (this.selecting !== undefined) {
      this.selecting = undefined;
      const [a, b] = this.selection!;
      const px = ((b - a) / (this.window[1] - this.window[0])) * (this.canvas.clientWidth - GUTTER);
      if (px < 3) this.clearSelection();
      else this.events.select([BigInt(Math.max(0, Math.round(a))), BigInt(Math.round(b))]);
      return;
    }
    const drag = this.drag;
    this.drag = undefined;
    if (!drag || drag.moved) return;
    const { tick, lane, span } = this.hit(e.offsetX, e.offsetY);
    // A mark or a hit seeks to its own tick, exactly; elsewhere, the tick under the pointer.
    if (span && lane && lane.kind !== 'wave' && lane.kind !== 'media') this.events.seek(span.tick);
    else this.events.seek(BigInt(Math.max(0, Math.round(tick))));
  }

  /** What the lanes show changed: the layer is drawn again. */
  private changed(): void {
    this.content++;
    this.schedule();
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  private draw(): void {
    const canvas = this.canvas;
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth;
    const height = canvas.clientHeight;
    // The canvas is drawn again only when the view, lanes, selection or size change; the playhead is an
    // element over it, so playback moves a line and draws nothing.
    this.box = { width, height, left: canvas.offsetLeft, top: canvas.offsetTop };
    const key = `${this.window[0]},${this.window[1]},${width},${height},${ratio},${this.content},${this.selection}`;
    if (key !== this.drawnKey) {
      this.drawnKey = key;
      if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
        canvas.width = Math.round(width * ratio);
        canvas.height = Math.round(height * ratio);
      }
      this.drawLayer(canvas.getContext('2d')!, ratio, width, height);
    }
    this.placePlayhead();
  }

  /** Put the playhead line at its tick (hidden when it is left of the lanes); style is written only on change. */
  private placePlayhead(): void {
    // The canvas's box as of its last drawing (a resize draws again): reading it here each frame would
    // force a layout per frame.
    const box = this.box;
    const px = this.x(this.playhead, box.width);
    const display = px >= GUTTER ? '' : 'none';
    const transform = `translate(${(box.left + px - 0.75).toFixed(1)}px, ${box.top}px)`;
    const height = `${box.height}px`;
    const style = this.playheadLine.style;
    if (style.display !== display) style.display = display;
    if (display === '' && style.transform !== transform) style.transform = transform;
    if (style.height !== height) style.height = height;
  }

  /** The axis, the lanes and the selection. */
  private drawLayer(g: CanvasRenderingContext2D, ratio: number, width: number, height: number): void {
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, width, height);
    g.font = '11px system-ui, sans-serif';
    g.textBaseline = 'middle';
    this.drawAxis(g, width);
    let top = AXIS;
    for (const lane of this.lanes) {
      const h = HEIGHT[lane.kind];
      g.fillStyle = '#1c1f26';
      g.fillRect(GUTTER, top, width - GUTTER, h - 1);
      g.fillStyle = '#aab';
      g.fillText(lane.label.slice(0, 15), 4, top + h / 2);
      g.save();
      g.beginPath();
      g.rect(GUTTER, top, width - GUTTER, h);
      g.clip();
      this.drawLane(g, lane, top, h, width);
      g.restore();
      top += h;
    }
    if (this.selection) {
      const [a, b] = this.selection;
      g.fillStyle = 'rgba(120, 200, 255, 0.18)';
      g.fillRect(this.x(a, width), AXIS, Math.max(1, this.x(b, width) - this.x(a, width)), height - AXIS);
    }
  }

  private drawAxis(g: CanvasRenderingContext2D, width: number): void {
    const [a, b] = this.window;
    const span = b - a;
    const steps = [1e6, 1e7, 1e8, 2e8, 5e8, 1e9, 2e9, 5e9, 1e10, 3e10, 6e10, 3e11, 6e11, 1.8e12, 3.6e12];
    const step = steps.find((s) => span / s < (width - GUTTER) / 80) ?? 3.6e12;
    g.fillStyle = '#889';
    for (let t = Math.ceil(a / step) * step; t <= b; t += step) {
      const x = this.x(t, width);
      g.fillRect(x, AXIS - 5, 1, 5);
      const text = formatMedia(BigInt(Math.round(t)));
      g.fillText(step >= 1e9 ? text.replace(/\.000$/, '') : text, x + 3, AXIS / 2);
    }
  }

  private drawLane(g: CanvasRenderingContext2D, lane: Lane, top: number, h: number, width: number): void {
    const [a, b] = this.window;
    // Only the spans in view: found by binary search, not by a pass over the whole lane per frame.
    const spans = lane.spans;
    const visible: Span[] = [];
    const last = firstAfter(spans, b);
    for (let i = firstAfter(spans, a - (this.longest.get(lane) ?? 0) - 1); i < last; i++)
      if (Number(spans[i]!.tick) + Number(spans[i]!.duration) >= a) visible.push(spans[i]!);
    if (lane.kind === 'wave') {
      g.fillStyle = '#4fc3f7';
      const mid = top + h / 2;
      for (const s of visible) {
        const x0 = this.x(Number(s.tick), width);
        const x1 = Math.max(x0 + 1, this.x(Number(s.tick) + Number(s.duration), width));
        const v = Math.min(1, s.value ?? 0) * (h / 2 - 1);
        g.fillRect(x0, mid - v, x1 - x0, 2 * v);
      }
      return;
    }
    if (lane.kind === 'thumbs') {
      for (const s of visible) {
        const x0 = this.x(Number(s.tick), width);
        const x1 = this.x(Number(s.tick) + Number(s.duration), width);
        g.fillStyle = '#2a2f3a';
        g.fillRect(x0, top + 2, Math.max(1, x1 - x0 - 1), h - 4);
        const image = s.image ? thumbnail(s.image, () => this.changed()) : undefined;
        if (image?.complete && x1 - x0 > 12) {
          const w = Math.min(x1 - x0 - 1, ((h - 4) * image.naturalWidth) / Math.max(1, image.naturalHeight));
          g.drawImage(image, x0, top + 2, w, h - 4);
        }
      }
      return;
    }
    const frameLevel =
      lane.kind === 'media' && this.frameNs > 0 && (b - a) / this.frameNs < (width - GUTTER) / 6;
    for (const s of visible) {
      const x0 = this.x(Number(s.tick), width);
      const x1 = Math.max(x0 + 2, this.x(Number(s.tick) + Number(s.duration), width));
      const colour =
        lane.kind === 'media'
          ? '#5c6bc0'
          : lane.kind === 'captions'
            ? '#8d99ae'
            : lane.kind === 'hits'
              ? '#ffb300'
              : colourOf(s.label ?? lane.id);
      g.fillStyle = colour;
      g.globalAlpha = lane.kind === 'hits' && s.rank ? Math.max(0.35, 1 - (s.rank - 1) * 0.07) : 0.85;
      g.fillRect(x0, top + 3, x1 - x0 - (lane.kind === 'media' ? 1 : 0), h - 6);
      g.globalAlpha = 1;
      const text = lane.kind === 'hits' ? `#${s.rank}` : (s.label ?? s.text);
      if (text && x1 - x0 > 30) {
        g.fillStyle = '#0b0d12';
        g.fillText(text.slice(0, Math.floor((x1 - x0) / 6)), x0 + 3, top + h / 2);
      }
    }
    if (frameLevel) {
      // Frame boundaries, so a single frame can be aimed at.
      g.fillStyle = 'rgba(255,255,255,0.35)';
      for (let t = Math.ceil(a / this.frameNs) * this.frameNs; t <= b; t += this.frameNs)
        g.fillRect(this.x(t, width), top, 1, h);
    }
  }
}

const images = new Map<string, HTMLImageElement>();

/** Forget a thumbnail and free its object URL. */
function releaseThumbnail(url: string): void {
  images.delete(url);
  URL.revokeObjectURL(url);
}

/** A decoded thumbnail by object URL (loaded once; `ready` redraws when it arrives). */
function thumbnail(url: string, ready: () => void): HTMLImageElement {
  let image = images.get(url);
  if (!image) {
    image = new Image();
    image.onload = ready;
    image.src = url;
    images.set(url, image);
  }
  return image;
}
