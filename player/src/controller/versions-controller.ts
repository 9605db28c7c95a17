import type { TimelineDoc } from '@dreamdb/engine/api';
import type { Api } from '../api.js';
import { byId } from '../dom.js';
import type { Shared, ShowTarget } from './shared.js';

/** What versions is built with. */
export interface VersionsInput extends Shared {
  readonly api: Api;
  /** Show another version or timeline (the composition root's load). */
  show(target: ShowTarget): Promise<void>;
  /** The player is busy until `work` settles (not ready meanwhile; a failure is shown). */
  busy(work: Promise<void>): void;
  /** Whether the token lets the player read a ref / a timeline: the selects offer only those. */
  readable(ref: string): boolean;
  readableTimeline(timeline: string): boolean;
  /**
   * Whether the token may list the space's refs, timelines and history: a token with a window reads only
   * its timeline's metadata (spec 0018 §4.3), so the selects then offer only the version on view.
   */
  listable(): boolean;
}

/** A manifest hash (an earlier version, which never moves) rather than a ref name. */
const MANIFEST_HASH = /^1e20[0-9a-f]{64}$/;

/**
 * Versions: which version of which timeline is on screen, and the header's selects that switch it: the
 * space's refs (branches, tags, main), its timelines, and the history of the version on screen.
 */
export class VersionsController {
  constructor(private readonly input: VersionsInput) {
    const select = (id: string, target: (value: string) => ShowTarget) => {
      const element = byId<HTMLSelectElement>(id);
      element.addEventListener('change', () => input.busy(input.show(target(element.value))));
    };
    select('timeline', (timeline) => ({ timeline }));
    select('ref', (ref) => ({ ref }));
    // Any earlier manifest of the history can be shown (time travel).
    select('history', (ref) => ({ ref }));
  }

  /** The document of the version on screen (the space's first timeline when none is named), told on the bus. */
  async open(): Promise<TimelineDoc> {
    const { api, view, bus } = this.input;
    if (!view.state.timeline) {
      const first = (await api.timelines(view.state.space, view.state.ref))[0] ?? '';
      if (!first) throw new Error(`space ${view.state.space} has no timeline at ${view.state.ref}`);
      view.set({ timeline: first });
    }
    const { space, timeline, ref } = view.state;
    const doc = await api.timeline(space, timeline, ref);
    byId('title').textContent = `${doc.space} / ${doc.timeline}`;
    bus.emit('version', { doc });
    return doc;
  }

  /** Fill the selects for a version: the space's refs, its timelines, its history (each may be missing). */
  async list(doc: TimelineDoc): Promise<void> {
    const { api, view } = this.input;
    const { space, ref, timeline } = view.state;
    if (!this.input.listable()) {
      fillSelect(byId('ref'), [ref], ref);
      fillSelect(byId('timeline'), [timeline], timeline);
      fillSelect(byId('history'), [doc.manifest], doc.manifest, () => 'this version');
      return;
    }
    try {
      const names = (await api.refs(space)).refs
        .map((r) => r.name)
        .filter((name) => this.input.readable(name));
      if (!names.includes(ref)) names.push(ref);
      fillSelect(byId('ref'), names, ref);
    } catch {
      // A store without a refs listing still plays.
    }
    try {
      const names = (await api.timelines(space, ref)).filter((name) => this.input.readableTimeline(name));
      if (!names.includes(timeline)) names.push(timeline);
      fillSelect(byId('timeline'), names, timeline);
    } catch {
      byId('timeline').replaceChildren();
    }
    try {
      const { entries } = await api.log(space, ref, 100);
      const manifests = entries.map((e) => e.manifest);
      fillSelect(byId('history'), manifests, doc.manifest, (_, i) => {
        const e = entries[i]!;
        const when = new Date(Number(BigInt(e.created) / 1_000_000n))
          .toISOString()
          .slice(0, 19)
          .replace('T', ' ');
        return `${i === 0 ? 'latest · ' : ''}${when} · ${e.message ?? e.manifest.slice(4, 12)}`;
      });
    } catch {
      byId('history').replaceChildren();
    }
  }

  /** Where an upload goes: the ref on view, or main when an earlier version (a manifest hash) is on view. */
  uploadRef(): string {
    const ref = this.input.view.state.ref;
    return MANIFEST_HASH.test(ref) ? 'main' : ref;
  }
}

/** Make a select's options these values (shown as `textOf` says), with `selected` chosen. */
function fillSelect(
  select: HTMLSelectElement,
  values: readonly string[],
  selected: string,
  textOf: (value: string, i: number) => string = (value) => value,
): void {
  select.replaceChildren(
    ...values.map((value, i) => {
      const option = document.createElement('option');
      option.value = value;
      option.textContent = textOf(value, i);
      option.selected = value === selected;
      return option;
    }),
  );
}
