import type {
  AccessDoc,
  DeleteDoc,
  DiffDoc,
  ErrorDoc,
  HybridDoc,
  HybridHitDoc,
  IngestDoc,
  IngestStage,
  ItemDoc,
  ItemsPageDoc,
  LogDoc,
  MergeDoc,
  PublishDoc,
  RefsDoc,
  SeekDoc,
  TextDoc,
  TextHitDoc,
  TimelineDoc,
  TimelineListDoc,
} from '@dreamdb/engine/api';
import { normalizeAccess, OPEN_ACCESS } from './access/rights.js';
import { authHeaders } from './access/token.js';

/** The DreamDB HTTP API as the player uses it: JSON over fetch, ticks as decimal strings (spec 0006 §4). */

/** A ranked moment of a text or hybrid query. */
export type HitDoc = TextHitDoc | HybridHitDoc;

/** An API refusal: the HTTP status, the error code and the message naming the problem. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly body: Partial<ErrorDoc> = {},
  ) {
    super(`${code}: ${message}`);
  }
}

/** The most items one lane loads (the range route pages through them). */
const MAX_ITEMS = 100_000;

export class Api {
  /** `token`: the capability token (spec 0018) every call presents as `Authorization: Bearer`. */
  constructor(
    private readonly base = '',
    private readonly token?: string,
  ) {}

  private async call<T>(
    path: string,
    init: RequestInit & { headers?: Record<string, string> } = {},
  ): Promise<T> {
    const headers = { ...authHeaders(this.token), ...init.headers };
    const response = await fetch(`${this.base}${path}`, { ...init, headers });
    const body = (await response.json().catch(() => ({}))) as Partial<ErrorDoc>;
    if (!response.ok) {
      throw new ApiError(
        response.status,
        String(body.error ?? response.status),
        String(body.message ?? response.statusText),
        body,
      );
    }
    return body as unknown as T;
  }

  private post<T>(path: string, body: unknown): Promise<T> {
    return this.call<T>(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  }

  /**
   * What the token allows (GET /v0/access). An origin without the route (404: older than spec 0018)
   * checks no token, so it is open mode; a 401 (no, expired or bad token) is thrown for the page to show.
   */
  async access(): Promise<AccessDoc> {
    try {
      return normalizeAccess(await this.call<unknown>('/v0/access'));
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return OPEN_ACCESS;
      throw error;
    }
  }

  timeline(space: string, timeline: string, ref: string): Promise<TimelineDoc> {
    return this.call(`/v0/spaces/${enc(space)}/timelines/${enc(timeline)}?ref=${enc(ref)}`);
  }

  /**
   * Every item of some tracks (all of them, page after page, up to `max`); only those in [from, to) when a
   * span is given (a token's window: nothing outside it is asked for).
   */
  async items(
    space: string,
    timeline: string,
    ref: string,
    tracks: readonly string[],
    span?: { readonly from: bigint; readonly to: bigint },
    max = MAX_ITEMS,
  ): Promise<ItemDoc[]> {
    const out: ItemDoc[] = [];
    if (tracks.length === 0) return out;
    const within = span ? `&from=${span.from}&to=${span.to}` : '';
    let path: string | undefined =
      `/v0/spaces/${enc(space)}/timelines/${enc(timeline)}/items?ref=${enc(ref)}&tracks=${tracks.map(enc).join(',')}&limit=${Math.min(max, 10_000)}${within}`;
    while (path && out.length < max) {
      const page: ItemsPageDoc = await this.call(path);
      out.push(...page.items);
      path = page.next;
    }
    return out;
  }

  /** Time-seek: per stream track of `tracks`, the fragment covering tick `t` (none where t is in a gap). */
  seek(space: string, timeline: string, ref: string, t: bigint, tracks: readonly string[]): Promise<SeekDoc> {
    return this.call(
      `/v0/spaces/${enc(space)}/timelines/${enc(timeline)}/seek?ref=${enc(ref)}&t=${t}&tracks=${tracks.map(enc).join(',')}`,
    );
  }

  text(
    space: string,
    body: {
      ref: string;
      timeline: string;
      query: string;
      k: number;
      from?: string;
      to?: string;
      tracks?: string[];
    },
  ) {
    return this.post<TextDoc>(`/v0/spaces/${enc(space)}/text`, body);
  }

  hybrid(
    space: string,
    body: {
      ref: string;
      timeline: string;
      text?: string;
      like?: string;
      k: number;
      from?: string;
      to?: string;
      textTracks?: string[];
    },
  ) {
    return this.post<HybridDoc>(`/v0/spaces/${enc(space)}/hybrid`, body);
  }

  refs(space: string) {
    return this.call<RefsDoc>(`/v0/spaces/${enc(space)}/refs`);
  }

  /** Create a branch at a version; false when it exists already. */
  async createBranch(space: string, name: string, at: string): Promise<boolean> {
    try {
      await this.post(`/v0/spaces/${enc(space)}/refs`, { name, at });
      return true;
    } catch (error) {
      if (error instanceof ApiError && error.status === 409) return false;
      throw error;
    }
  }

  /** Publish items onto a ref (defining tracks the ref lacks); merged onto the ref if it moved meanwhile. */
  publish(
    space: string,
    body: {
      ref: string;
      message?: string;
      author?: string;
      tracks?: { timeline: string; name: string; kind: 'event'; modality: string }[];
      writes: {
        timeline: string;
        track: string;
        items: { tick: string; duration?: string; payload: unknown }[];
      }[];
    },
  ) {
    return this.post<PublishDoc>(`/v0/spaces/${enc(space)}/publish`, {
      ...body,
      rebase: true,
    });
  }

  /** Delete items on a branch (spec 0020): published at once; `manifest` null when nothing matched. */
  deleteItems(
    space: string,
    body: {
      ref: string;
      deletes: { timeline: string; track: string; tick: string }[];
      author?: string;
      message?: string;
    },
  ) {
    return this.post<DeleteDoc>(`/v0/spaces/${enc(space)}/delete`, body);
  }

  /** What changed from one version to another, per track (removed items included). */
  diff(space: string, from: string, to: string) {
    return this.call<DiffDoc>(`/v0/spaces/${enc(space)}/diff?from=${enc(from)}&to=${enc(to)}`);
  }

  /** Merge versions into a ref: 409 ApiError with `conflicts` in its body when they conflict. */
  merge(space: string, body: { into: string; from: string[]; message?: string; author?: string }) {
    return this.post<MergeDoc>(`/v0/spaces/${enc(space)}/merge`, body);
  }

  /** The names of a version's timelines. */
  async timelines(space: string, ref: string): Promise<string[]> {
    const body = await this.call<TimelineListDoc>(`/v0/spaces/${enc(space)}/timelines?ref=${enc(ref)}`);
    return body.timelines.map((t) => t.name);
  }

  /**
   * Upload a recording into a new timeline (the server packages and publishes it). XMLHttpRequest, not
   * fetch: it reports upload progress, and sends a File from disk without reading it into memory. The
   * answer comes as lines (received, packaging progress, each derived track, publishing), then the outcome.
   */
  ingest(
    space: string,
    timeline: string,
    media: Blob,
    options: {
      ref: string;
      name: string;
      transcode?: boolean;
      onUpload?: (done: number) => void;
      onStage?: (line: IngestStage) => void;
    },
  ): Promise<IngestDoc> {
    const query = new URLSearchParams({
      ref: options.ref,
      new: '1',
      name: options.name,
      thumbnails: '2s',
      embeddings: '1s',
      audioLevel: '1',
      ...(options.transcode && { transcode: '1' }),
    });
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `${this.base}/v0/spaces/${enc(space)}/timelines/${enc(timeline)}/ingest?${query}`);
    xhr.setRequestHeader('content-type', media.type || 'application/octet-stream');
    xhr.setRequestHeader('accept', 'application/x-ndjson');
    for (const [name, value] of Object.entries(authHeaders(this.token))) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (e) => e.lengthComputable && options.onUpload?.(e.loaded / e.total);
    let seen = 0; // characters of the answer already handed on as lines
    let outcome: IngestStage | undefined; // the latest line: the outcome once the answer is complete
    const lines = (): IngestStage[] => {
      const text = xhr.responseText;
      const end = text.lastIndexOf('\n') + 1;
      const fresh = text.slice(seen, end);
      seen = Math.max(seen, end);
      const parsed = fresh
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as IngestStage);
      outcome = parsed.at(-1) ?? outcome;
      return parsed;
    };
    return new Promise((resolve, reject) => {
      xhr.onprogress = () => {
        for (const line of lines()) options.onStage?.(line);
      };
      xhr.onload = () => {
        if (xhr.status !== 200) {
          // Refused before packaging began: one JSON error document.
          const body = (() => {
            try {
              return JSON.parse(xhr.responseText) as Partial<ErrorDoc>;
            } catch {
              return {};
            }
          })();
          reject(
            new ApiError(
              xhr.status,
              String(body.error ?? xhr.status),
              String(body.message ?? xhr.statusText),
            ),
          );
          return;
        }
        for (const line of lines()) options.onStage?.(line);
        if (outcome?.stage === 'done') resolve(outcome);
        else if (outcome?.stage === 'failed')
          reject(new ApiError(outcome.status, outcome.error, outcome.message, outcome));
        else reject(new ApiError(500, 'E_INTERNAL', 'the answer ended without an outcome'));
      };
      xhr.onerror = () =>
        reject(new ApiError(0, 'E_NETWORK', "the upload was cut off (is the file over the server's limit?)"));
      xhr.send(media);
    });
  }

  log(space: string, ref: string, limit = 50) {
    return this.call<LogDoc>(`/v0/spaces/${enc(space)}/log?ref=${enc(ref)}&limit=${limit}`);
  }
}

const enc = encodeURIComponent;
