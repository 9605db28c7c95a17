import type { TickWindow } from '../access/rights.js';
import { type Api, ApiError, type HitDoc } from '../api.js';
import { formatMedia } from '../clock.js';
import { byId } from '../dom.js';
import type { Shared, StatusLine } from './shared.js';

/** What search is built with. */
export interface SearchInput extends Shared {
  readonly api: Api;
  readonly status: StatusLine;
  /** The stretch of a timeline the token grants, if any: searches look only within it. */
  window(timeline: string): TickWindow | undefined;
}

/** Hits asked for per query. */
const K = 20;

/**
 * Search: words (BM25 over captions and annotations), frames like the one at the playhead, or both fused,
 * within the visible time when asked; the hits as a ranked list whose entries seek, and on the bus (the
 * timeline shows them as a lane).
 */
export class SearchController {
  private hits: readonly HitDoc[] = [];

  constructor(private readonly input: SearchInput) {
    byId<HTMLFormElement>('search').addEventListener('submit', (e) => {
      e.preventDefault();
      const mode = byId<HTMLSelectElement>('mode').value;
      const text = mode === 'like' ? '' : byId<HTMLInputElement>('query').value;
      void this.search(text, mode === 'text' ? undefined : input.clock.now());
    });
  }

  /** The hits on screen, best first. */
  currentHits(): readonly HitDoc[] {
    return this.hits;
  }

  /** Run the view's query again (a shared URL's, or the one on screen for another version), if any. */
  async restore(): Promise<void> {
    const { q, like } = this.input.view.state;
    if (!q && like === undefined) return;
    byId<HTMLInputElement>('query').value = q ?? '';
    await this.search(q ?? '', like);
  }

  /** Drop the hits (another timeline: its search starts afresh). */
  clear(): void {
    this.show([]);
  }

  /** Run a search: text (BM25 over captions and annotations), frames like the one at `like`, or both fused. */
  private async search(text: string, like: bigint | undefined): Promise<void> {
    const { api, view, status } = this.input;
    const q = text.trim();
    view.set({ q: q || undefined, like });
    if (!q && like === undefined) {
      this.show([]);
      return;
    }
    const { space, ref, timeline } = view.state;
    const within = this.timeWindow();
    try {
      const answer =
        like === undefined
          ? await api.text(space, { ref, timeline, query: q, k: K, ...within })
          : await api.hybrid(space, {
              ref,
              timeline,
              ...(q && { text: q }),
              like: like.toString(),
              k: K,
              ...within,
            });
      this.show(answer.hits);
      status(`${answer.hits.length} hits`);
    } catch (error) {
      this.show([]);
      status(error instanceof ApiError ? error.message : String(error), true);
    }
  }

  /** The time filter of the search form, within the token's window, as ticks; empty: the whole session. */
  private timeWindow(): { from?: string; to?: string } {
    const { from, to, timeline } = this.input.view.state;
    const visible =
      byId<HTMLInputElement>('in-view').checked && from !== undefined && to !== undefined
        ? { from, to }
        : undefined;
    const granted = this.input.window(timeline);
    const span =
      visible && granted
        ? { from: max(visible.from, granted.from), to: min(visible.to, granted.to) }
        : (visible ?? granted);
    // A visible time wholly outside the window (it should not be) falls back to the window itself.
    const within = span && granted && span.to <= span.from ? granted : span;
    return within ? { from: within.from.toString(), to: within.to.toString() } : {};
  }

  /** Put hits on screen: the list here, the lane through the bus. */
  private show(hits: readonly HitDoc[]): void {
    this.hits = hits;
    this.input.bus.emit('hits', { hits });
    byId<HTMLOListElement>('hits').replaceChildren(...hits.map((hit) => this.hitItem(hit)));
  }

  private hitItem(hit: HitDoc): HTMLLIElement {
    const li = document.createElement('li');
    const button = document.createElement('button');
    button.type = 'button';
    button.dataset.tick = hit.tick;
    const snippet = describeHit(hit);
    button.textContent = `${formatMedia(BigInt(hit.tick))} · ${hit.track}${snippet ? ` · ${snippet}` : ''}`;
    button.title = `score ${hit.score.toPrecision(4)}`;
    button.addEventListener('click', () => void this.input.clock.seek(BigInt(hit.tick)));
    li.append(button);
    return li;
  }
}

/** What made a hit: the terms it matched, and how alike its frame looks. */
function describeHit(hit: HitDoc): string {
  if ('matches' in hit) return hit.matches.map((m) => m.term).join(', ');
  const parts: string[] = hit.matched.text?.terms.map((t) => t.term) ?? [];
  if (hit.matched.vector) parts.push(`looks ${(hit.matched.vector.score * 100).toFixed(0)}% alike`);
  return parts.join(', ');
}

const max = (a: bigint, b: bigint) => (a > b ? a : b);
const min = (a: bigint, b: bigint) => (a < b ? a : b);
