import type { ConflictDoc, ConflictSideDoc, RightDoc, TimelineDoc } from '@dreamdb/engine/api';
import { type Api, ApiError } from '../api.js';
import { formatMedia } from '../clock.js';
import { byId } from '../dom.js';
import type { Shared, ShowTarget, StatusLine } from './shared.js';

/** The track annotations made in the player go to. */
export const ANNOTATION_TRACK = 'annotations';

/** What annotating is built with. */
export interface AnnotationInput extends Shared {
  readonly api: Api;
  readonly status: StatusLine;
  /** Show another version (a ref), reloading lanes and playback. */
  show(target: ShowTarget): Promise<void>;
  /** Whether the token grants a right on a ref of the space on view. */
  can(right: RightDoc, ref: string): boolean;
}

/** An annotation added but not saved yet. */
interface Pending {
  tick: bigint;
  duration: bigint;
  label: string;
  note: string;
}

/** How far from the playhead an annotation is still the one at the playhead (half a second). */
const NEAR = 500_000_000n;
/** Changes listed per track. */
const MAX_CHANGES = 20;
const SIGN = { added: '+', removed: '−', changed: '~' } as const;

/** Who is annotating: remembered in this browser; their branch is heads/<name>. */
function user(): string {
  const input = byId<HTMLInputElement>('user');
  const name =
    input.value
      .trim()
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, '-')
      .replace(/^[-.]+/, '') || 'me';
  localStorage.setItem('dreamdb.user', name);
  return name;
}

/**
 * Annotating: events added at the playhead or over the span selected on the timeline are held here, saved
 * to the user's branch (created from the version on screen) in one publish, and merged into main on
 * request; a merge that conflicts lists each conflict with both values and publishes nothing (spec 0008).
 */
export class AnnotationController {
  private readonly pending: Pending[] = [];
  private doc: TimelineDoc | undefined;
  private selection: readonly [bigint, bigint] | undefined;

  constructor(private readonly input: AnnotationInput) {
    input.bus.on('version', ({ doc }) => {
      this.doc = doc;
    });
    input.bus.on('selection', ({ span }) => {
      this.selection = span;
      byId('selection').textContent = span ? `selected ${formatMedia(span[0])}–${formatMedia(span[1])}` : '';
    });
    byId<HTMLInputElement>('user').value = localStorage.getItem('dreamdb.user') ?? '';
    for (const id of ['label', 'note'])
      byId(id).addEventListener('keydown', (e) => {
        if (e.key === 'Enter') {
          e.preventDefault();
          this.add();
        }
      });
    byId('add').addEventListener('click', () => this.add());
    byId('save').addEventListener('click', () => void this.save());
    byId('merge').addEventListener('click', () => void this.mergeIntoMain());
    byId('delete').addEventListener('click', () => void this.deleteAtPlayhead());
    this.render();
  }

  /** Start an annotation: the label field takes the keys. */
  focus(): void {
    byId('label').focus();
  }

  /** Hold an annotation with the form's label and note, over the selected span or at the playhead. */
  private add(): void {
    const label = byId<HTMLInputElement>('label').value.trim();
    if (!label) {
      byId('label').focus();
      this.input.status('an annotation needs a label', true);
      return;
    }
    const span = this.selection;
    this.pending.push({
      tick: span ? span[0] : this.input.clock.now(),
      duration: span ? span[1] - span[0] : 0n,
      label,
      note: byId<HTMLInputElement>('note').value.trim(),
    });
    byId<HTMLInputElement>('note').value = '';
    this.render();
  }

  private render(): void {
    byId('pending').replaceChildren(
      ...this.pending.map((p, i) => {
        const li = document.createElement('li');
        li.textContent = `${formatMedia(p.tick)}${p.duration > 0n ? `–${formatMedia(p.tick + p.duration)}` : ''} ${p.label}${p.note ? ` — ${p.note}` : ''}`;
        const remove = document.createElement('button');
        remove.type = 'button';
        remove.textContent = '×';
        remove.setAttribute('aria-label', `remove ${p.label}`);
        remove.addEventListener('click', () => {
          this.pending.splice(i, 1);
          this.render();
        });
        li.append(' ', remove);
        return li;
      }),
    );
    byId<HTMLButtonElement>('save').disabled = this.pending.length === 0;
  }

  /** Publish the held annotations to the user's branch (made from the version on screen), then show it. */
  private async save(): Promise<void> {
    const { api, view, status, show } = this.input;
    const name = user();
    const branch = `heads/${name}`;
    const doc = this.doc;
    const pending = this.pending;
    try {
      if (!doc) throw new Error('no version is on screen yet');
      // Said before anything is sent: the origin would refuse the branch or the publish with 403.
      if (!this.input.can('write', branch)) throw new Error(`this link does not allow writing ${branch}`);
      await api.createBranch(view.state.space, name, doc.manifest);
      const hasTrack = doc.tracks.some((t) => t.name === ANNOTATION_TRACK);
      const answer = await api.publish(view.state.space, {
        ref: branch,
        author: name,
        message: `${pending.length} annotation${pending.length === 1 ? '' : 's'} from the player`,
        ...(!hasTrack && {
          tracks: [
            {
              timeline: doc.timeline,
              name: ANNOTATION_TRACK,
              kind: 'event' as const,
              modality: 'event.annotation',
            },
          ],
        }),
        writes: [
          {
            timeline: doc.timeline,
            track: ANNOTATION_TRACK,
            items: pending.map((p) => ({
              tick: p.tick.toString(),
              ...(p.duration > 0n && { duration: p.duration.toString() }),
              payload: { label: p.label, ...(p.note && { note: p.note }), author: name },
            })),
          },
        ],
      });
      pending.length = 0;
      this.render();
      await show({ ref: branch });
      status(`saved to ${branch} (${answer.manifest.slice(4, 16)}…)`);
      await this.showChanges(branch);
    } catch (error) {
      status(error instanceof Error ? error.message : String(error), true);
    }
  }

  /**
   * Delete the annotation at the playhead (the one covering it, else the nearest within half a second) on
   * the user's branch (made from the version on screen), show the branch and what it changes against main.
   */
  private async deleteAtPlayhead(): Promise<void> {
    const { api, view, status, show } = this.input;
    const name = user();
    const branch = `heads/${name}`;
    const doc = this.doc;
    try {
      if (!doc) throw new Error('no version is on screen yet');
      if (!this.input.can('write', branch)) throw new Error(`this link does not allow writing ${branch}`);
      const now = this.input.clock.now();
      const near = await api.items(view.state.space, doc.timeline, doc.manifest, [ANNOTATION_TRACK], {
        from: now > NEAR ? now - NEAR : 0n,
        to: now + NEAR + 1n,
      });
      const at = (i: { tick: string; duration: string }) => BigInt(i.tick);
      const covering = near.find((i) => at(i) <= now && now < at(i) + BigInt(i.duration));
      const nearest = [...near].sort((a, b) => {
        const da = at(a) > now ? at(a) - now : now - at(a);
        const db = at(b) > now ? at(b) - now : now - at(b);
        return da < db ? -1 : da > db ? 1 : 0;
      })[0];
      const item = covering ?? nearest;
      if (!item) throw new Error('no annotation at the playhead');
      const label = (item.payload as { label?: string } | undefined)?.label ?? 'annotation';
      await api.createBranch(view.state.space, name, doc.manifest);
      const answer = await api.deleteItems(view.state.space, {
        ref: branch,
        author: name,
        message: `delete ${label} from the player`,
        deletes: [{ timeline: doc.timeline, track: ANNOTATION_TRACK, tick: item.tick }],
      });
      if (!answer.manifest) throw new Error(`${branch} has no annotation at ${formatMedia(at(item))}`);
      await show({ ref: branch });
      status(`deleted ${label} at ${formatMedia(at(item))} on ${branch}`);
      await this.showChanges(branch);
    } catch (error) {
      status(error instanceof Error ? error.message : String(error), true);
    }
  }

  /** List what the branch changes against main: + added, − removed (deleted), ~ changed, with labels. */
  private async showChanges(branch: string): Promise<void> {
    const { api, view } = this.input;
    const doc = this.doc;
    const list = byId('changes');
    if (!doc) return;
    try {
      const diff = await api.diff(view.state.space, 'main', branch);
      const rows: HTMLLIElement[] = [];
      for (const track of diff.tracks.filter((t) => t.timeline === doc.timeline))
        for (const change of track.items.slice(0, MAX_CHANGES)) {
          // A removed item is read on main, the others on the branch.
          const ref = change.change === 'removed' ? 'main' : branch;
          const tick = BigInt(change.tick);
          const [item] = await api.items(view.state.space, doc.timeline, ref, [track.track], {
            from: tick,
            to: tick + 1n,
          });
          const label = (item?.payload as { label?: string } | undefined)?.label;
          const li = document.createElement('li');
          li.className = `change ${change.change}`;
          li.textContent = `${SIGN[change.change]} ${track.track} at ${formatMedia(tick)}${label ? ` ${label}` : ''}`;
          rows.push(li);
        }
      list.replaceChildren(...rows);
    } catch {
      list.replaceChildren(); // a branch main cannot be compared with (no main): nothing to list
    }
  }

  /** Merge the user's branch into main and show main; a conflict lists both values and merges nothing. */
  private async mergeIntoMain(): Promise<void> {
    const { api, view, status, show } = this.input;
    const branch = `heads/${user()}`;
    const list = byId('conflicts');
    list.replaceChildren();
    try {
      if (!this.input.can('merge', 'main')) throw new Error('this link does not allow merging into main');
      const merged = await api.merge(view.state.space, {
        into: 'main',
        from: [branch],
        author: user(),
        message: `merge ${branch}`,
      });
      await show({ ref: 'main' });
      status(`merged ${branch} into main: ${merged.outcome}`);
    } catch (error) {
      const conflicts = error instanceof ApiError ? error.body.conflicts : undefined;
      if (conflicts) {
        status(`${conflicts.length} conflict${conflicts.length === 1 ? '' : 's'}: nothing was merged`, true);
        list.replaceChildren(...conflicts.map(conflictItem));
      } else status(error instanceof Error ? error.message : String(error), true);
    }
  }
}

/** The label (and note) of an annotation on one side of a conflict. */
const labelOf = (side: ConflictSideDoc | undefined) => {
  const p = (side && 'payload' in side ? side.payload : undefined) as
    | { label?: string; note?: string }
    | undefined;
  return p ? `${p.label ?? '?'}${p.note ? ` (${p.note})` : ''}` : 'nothing';
};

function conflictItem(c: ConflictDoc): HTMLLIElement {
  const li = document.createElement('li');
  const where = `${c.track ?? c.timeline}${c.tick ? ` at ${formatMedia(BigInt(c.tick))}` : ''}`;
  li.textContent = `${where}: ${c.reason}. main has ${labelOf(c.ours)}; yours is ${labelOf(c.theirs)}`;
  return li;
}
