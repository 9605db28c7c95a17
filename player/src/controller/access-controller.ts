import type { AccessDoc, RightDoc } from '@dreamdb/engine/api';
import { describeAccess } from '../access/badge.js';
import {
  allows,
  mayWriteBranch,
  OPEN_ACCESS,
  soleBranch,
  type TickWindow,
  windowOn,
} from '../access/rights.js';
import type { Api } from '../api.js';
import { byId } from '../dom.js';
import type { SharedView } from '../url-state.js';

/** What access is built with: the API (which carries the token) and the view (the space and timeline). */
export interface AccessInput {
  readonly api: Api;
  readonly view: SharedView;
}

/**
 * What the link's token allows (GET /v0/access, spec 0018): the badge saying so in the header, the
 * controls it does not allow hidden, the answers the other controllers ask of it (passed to them by the
 * composition root as functions), and the page shown instead of the player when the origin refuses the
 * token. Until the answer comes it allows everything (open mode), as an origin without tokens does.
 */
export class AccessController {
  private doc: AccessDoc = OPEN_ACCESS;

  constructor(private readonly input: AccessInput) {}

  /** Ask the origin what the token allows and say it; a 401 (expired, bad, missing token) is thrown. */
  async load(): Promise<AccessDoc> {
    const doc = await this.input.api.access();
    this.doc = doc;
    const badge = byId('access');
    badge.textContent = describeAccess(doc);
    badge.title = [
      doc.tenant && `tenant ${doc.tenant}`,
      `rights: ${doc.rights.join(', ') || 'none'}`,
      `spaces: ${doc.spaces.join(', ')}`,
      `refs: ${doc.refs.join(', ')}`,
    ]
      .filter(Boolean)
      .join('\n');
    badge.hidden = badge.textContent === '';
    // A token for one stretch of one timeline opens on that timeline (another would be refused).
    const { view } = this.input;
    if (doc.window && view.state.timeline !== doc.window.timeline)
      view.set({ timeline: doc.window.timeline, from: undefined, to: undefined });
    return doc;
  }

  /** The answer of /v0/access (open mode until it came). */
  get current(): AccessDoc {
    return this.doc;
  }

  /** Whether the token grants `right` on `ref` in the space on view. */
  allows(right: RightDoc, ref: string): boolean {
    return allows(this.doc, right, ref, this.input.view.state.space);
  }

  /** Whether a timeline is one the token lets the player show (with a window, only the window's). */
  readableTimeline(timeline: string): boolean {
    return !this.doc.window || this.doc.window.timeline === timeline;
  }

  /** The token's window on a timeline, if it has one there. */
  window(timeline: string): TickWindow | undefined {
    return windowOn(this.doc, timeline);
  }

  /**
   * Hide the controls the token does not allow, for the version on view: upload without `ingest` on the
   * ref it goes to, annotating without `write` on a user's branch (where saving writes, and creates it),
   * merging without `merge` on main. Called after each version is shown (the ref, hence the answers, move).
   */
  apply(uploadRef: string): void {
    const space = this.input.view.state.space;
    byId('open-ingest').hidden = !this.allows('ingest', uploadRef);
    byId('annotate').hidden = !mayWriteBranch(this.doc, space);
    byId('merge').hidden = !this.allows('merge', 'main');
    // A link made for one person's branch: the name is theirs, so saving goes where the token allows.
    const only = soleBranch(this.doc);
    const user = byId<HTMLInputElement>('user');
    if (only !== undefined) user.value = only;
    user.readOnly = only !== undefined;
  }

  /** Show the origin's refusal (401, or 403 before anything could be shown) instead of a broken player. */
  deny(status: number, message: string): void {
    byId('denied-title').textContent =
      status === 401 ? 'This link cannot open the player' : 'This link does not allow this';
    byId('denied-message').textContent = message;
    byId('denied').hidden = false;
    document.body.classList.add('denied');
  }
}
