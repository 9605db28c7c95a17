/** What the keyboard drives. */
export interface KeyActions {
  togglePlay(): void;
  /** Step by frames (±1). */
  stepFrames(n: number): void;
  /** Step by seconds (a fragment: ±2 s with shift+arrow). */
  stepSeconds(s: number): void;
  /** J/K/L shuttle: -1 back, 0 pause, 1 forward (each press of L plays faster). */
  shuttle(direction: -1 | 0 | 1): void;
  /** Previous/next event mark. */
  jumpEvent(direction: -1 | 1): void;
  /** Zoom the timeline in or out around the playhead. */
  zoom(factor: number): void;
  /** Start an annotation at the playhead (or over the selected span). */
  annotate(): void;
}

/**
 * The player's keys (while focus is not in a text field): space play/pause, ←/→ a frame, shift+←/→ two
 * seconds (a fragment), j/k/l shuttle, [ and ] previous/next event, + and - zoom, a annotate.
 */
export function bindKeys(target: Window, actions: KeyActions): void {
  target.addEventListener('keydown', (e) => {
    const el = e.target as HTMLElement | null;
    if (
      el &&
      (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT' || el.isContentEditable)
    )
      return;
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const handled = (() => {
      switch (e.key) {
        case ' ':
          actions.togglePlay();
          return true;
        case 'ArrowLeft':
          if (e.shiftKey) actions.stepSeconds(-2);
          else actions.stepFrames(-1);
          return true;
        case 'ArrowRight':
          if (e.shiftKey) actions.stepSeconds(2);
          else actions.stepFrames(1);
          return true;
        case 'j':
          actions.shuttle(-1);
          return true;
        case 'k':
          actions.shuttle(0);
          return true;
        case 'l':
          actions.shuttle(1);
          return true;
        case '[':
          actions.jumpEvent(-1);
          return true;
        case ']':
          actions.jumpEvent(1);
          return true;
        case '+':
        case '=':
          actions.zoom(0.5);
          return true;
        case '-':
          actions.zoom(2);
          return true;
        case 'a':
          actions.annotate();
          return true;
        default:
          return false;
      }
    })();
    if (handled) e.preventDefault();
  });
}
