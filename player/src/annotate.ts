import type { ConflictDoc, ConflictSideDoc, TimelineDoc } from '@dreamdb/engine/api';
import { type Api, ApiError } from './api.js';
import { formatMedia } from './clock.js';

/** The track annotations made in the player go to. */
export const ANNOTATION_TRACK = 'annotations';

/** What annotating needs from the page. */
export interface AnnotateHost {
  readonly api: Api;
  space(): string;
  doc(): TimelineDoc;
  /** The playhead. */
  playhead(): bigint;
  /** The span selected on the timeline (shift+drag), if any. */
  selection(): [bigint, bigint] | undefined;
  /** Show another version (a ref), reloading lanes and playback. */
  show(ref: string): Promise<void>;
  status(message: string, error?: boolean): void;
}

interface Pending {
  tick: bigint;
  duration: bigint;
  label: string;
  note: string;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

/** Who is annotating: remembered in this browser; their branch is heads/<name>. */
function user(): string {
  const input = $<HTMLInputElement>('user');
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
 * Annotating: events added at the playhead or over a selected span are held here, saved to the user's
 * branch (created from the version on screen) in one publish, and merged into main on request; a merge
 * that conflicts lists each conflict with both values and publishes nothing (spec 0008).
 */
export function setupAnnotations(host: AnnotateHost): { add(): void } {
  const pending: Pending[] = [];
  $<HTMLInputElement>('user').value = localStorage.getItem('dreamdb.user') ?? '';

  const render = () => {
    $('pending').replaceChildren(
      ...pending.map((p, i) => {
        const li = document.createElement('li');
        li.textContent = `${formatMedia(p.tick)}${p.duration > 0n ? `–${formatMedia(p.tick + p.duration)}` : ''} ${p.label}${p.note ? ` — ${p.note}` : ''}`;
        const remove = document.createElement('button');
        remove.type = 'button';
        remove.textContent = '×';
        remove.setAttribute('aria-label', `remove ${p.label}`);
        remove.addEventListener('click', () => {
          pending.splice(i, 1);
          render();
        });
        li.append(' ', remove);
        return li;
      }),
    );
    $<HTMLButtonElement>('save').disabled = pending.length === 0;
  };

  const add = () => {
    const label = $<HTMLInputElement>('label').value.trim();
    if (!label) {
      $<HTMLInputElement>('label').focus();
      host.status('an annotation needs a label', true);
      return;
    }
    const span = host.selection();
    const tick = span ? span[0] : host.playhead();
    pending.push({
      tick,
      duration: span ? span[1] - span[0] : 0n,
      label,
      note: $<HTMLInputElement>('note').value.trim(),
    });
    $<HTMLInputElement>('note').value = '';
    render();
  };

  const save = async () => {
    const name = user();
    const branch = `heads/${name}`;
    const doc = host.doc();
    try {
      await host.api.createBranch(host.space(), name, doc.manifest);
      const hasTrack = doc.tracks.some((t) => t.name === ANNOTATION_TRACK);
      const answer = await host.api.publish(host.space(), {
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
      render();
      await host.show(branch);
      host.status(`saved to ${branch} (${answer.manifest.slice(4, 16)}…)`);
    } catch (error) {
      host.status(error instanceof Error ? error.message : String(error), true);
    }
  };

  const mergeIntoMain = async () => {
    const branch = `heads/${user()}`;
    const list = $('conflicts');
    list.replaceChildren();
    try {
      const merged = await host.api.merge(host.space(), {
        into: 'main',
        from: [branch],
        author: user(),
        message: `merge ${branch}`,
      });
      await host.show('main');
      host.status(`merged ${branch} into main: ${merged.outcome}`);
    } catch (error) {
      const conflicts = error instanceof ApiError ? error.body.conflicts : undefined;
      if (conflicts) {
        host.status(
          `${conflicts.length} conflict${conflicts.length === 1 ? '' : 's'}: nothing was merged`,
          true,
        );
        list.replaceChildren(...conflicts.map(conflictItem));
      } else host.status(error instanceof Error ? error.message : String(error), true);
    }
  };

  $('add').addEventListener('click', add);
  $('save').addEventListener('click', () => void save());
  $('merge').addEventListener('click', () => void mergeIntoMain());
  render();
  return { add };
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
