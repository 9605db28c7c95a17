import type { PlayerBus } from '../bus.js';
import type { Clock } from '../clock.js';
import type { SharedView } from '../url-state.js';

/** What every controller is built with: the one clock, the bus they talk over, and the view in the URL. */
export interface Shared {
  readonly clock: Clock;
  readonly bus: PlayerBus;
  readonly view: SharedView;
}

/** Where a controller reports how things went: the status line under the page. */
export type StatusLine = (message: string, error?: boolean) => void;

/** What to show next: another version (ref or manifest hash), another timeline, or both. */
export interface ShowTarget {
  readonly ref?: string;
  readonly timeline?: string;
}
