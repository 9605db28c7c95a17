import { EngineError } from '../errors.js';
import { assertName } from '../model/names.js';
import { assertTick, MAX_TICK, type Tick } from '../time/ticks.js';

/**
 * What a delete removes (spec 0020 §2): a whole timeline (its tracks with it), a whole track, or the
 * items of a track with from <= tick < to. Absent bounds are the start and the end of time.
 */
export interface DeleteSelector {
  readonly timeline: string;
  readonly track?: string;
  readonly from?: Tick;
  readonly to?: Tick;
}

/** One past the last tick: the exclusive end of a range that runs to the end of time. */
export const END: Tick = MAX_TICK + 1n;

/** A selector checked and with its bounds filled in; `track` undefined means the whole timeline. */
export interface CheckedSelector {
  readonly timeline: string;
  readonly track?: string;
  readonly from: Tick;
  readonly to: Tick;
  /** True when the selector named no bounds: the track (or timeline) itself goes. */
  readonly whole: boolean;
}

/** Check a selector's names and bounds; a range must hold at least one tick. */
export function checkSelector(selector: DeleteSelector, path = 'delete'): CheckedSelector {
  const timeline = assertName(selector.timeline, `${path}.timeline`);
  const track = selector.track === undefined ? undefined : assertName(selector.track, `${path}.track`);
  const bounded = selector.from !== undefined || selector.to !== undefined;
  if (track === undefined && bounded)
    throw new EngineError('E_FIELD', `${path}: a tick range deletes items of one track; name the track`);
  const from = selector.from === undefined ? 0n : assertTick(selector.from, `${path}.from`);
  // `to` is exclusive, so one past the last tick is a valid bound.
  const to = selector.to === undefined ? END : assertTick(selector.to - 1n, `${path}.to - 1`) + 1n;
  if (to <= from)
    throw new EngineError(
      'E_TICK_RANGE',
      `${path}: to (${to}) must be after from (${from}); the range is from <= tick < to`,
    );
  return { timeline, ...(track !== undefined && { track }), from, to, whole: !bounded };
}

/** The end to give the index's range walk (its bounds are ticks): END becomes the last tick. */
export function walkEnd(to: Tick): Tick {
  if (to > MAX_TICK) return MAX_TICK;
  return to;
}
