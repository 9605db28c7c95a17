/** The DreamDB HTTP API as the player uses it: JSON over fetch, ticks as decimal strings (spec 0006 §4). */

/** A track as the timeline listing describes it. */
export interface TrackDoc {
  readonly name: string;
  readonly kind: 'stream' | 'event' | 'constant';
  readonly modality: string;
  readonly items: number;
  readonly first?: string;
  readonly last?: string;
  readonly hls?: string;
  readonly text?: { analyzer: string; segments: number };
  readonly spatial?: { dimension: number; lineage: string };
}

/** A timeline: its genesis, tracks and playback URLs at one version. */
export interface TimelineDoc {
  readonly space: string;
  readonly timeline: string;
  readonly manifest: string;
  readonly genesis?: string;
  readonly tracks: readonly TrackDoc[];
  readonly playback: { readonly hls: string; readonly dash: string };
}

/** An item as the range route returns it (payloads in the JSON form: bytes as {$bytes: hex}). */
export interface ItemDoc {
  readonly track: string;
  readonly tick: string;
  readonly duration: string;
  readonly url: string;
  readonly payload?: unknown;
  readonly layer?: string;
}

/** A ranked moment of a text or hybrid query. */
export interface HitDoc {
  readonly track: string;
  readonly tick: string;
  readonly duration: string;
  readonly score: number;
  readonly payload?: unknown;
  readonly matched?: unknown;
  readonly matches?: readonly { term: string; fields: string[] }[];
}

/** A ref of the space. */
export interface RefDoc {
  readonly name: string;
  readonly kind: 'main' | 'branch' | 'tag' | 'other';
  readonly manifest: string;
}

/** An API refusal: the HTTP status, the error code and the message naming the problem. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly body: Record<string, unknown> = {},
  ) {
    super(`${code}: ${message}`);
  }
}

/** The most items one lane loads (the range route pages through them). */
const MAX_ITEMS = 100_000;

export class Api {
  constructor(private readonly base = '') {}

  private async call<T>(path: string, init?: RequestInit): Promise<T> {
    const response = await fetch(`${this.base}${path}`, init);
    const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    if (!response.ok) {
      throw new ApiError(
        response.status,
        String(body.error ?? response.status),
        String(body.message ?? response.statusText),
        body,
      );
    }
    return body as T;
  }

  private post<T>(path: string, body: unknown): Promise<T> {
    return this.call<T>(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  }

  timeline(space: string, timeline: string, ref: string): Promise<TimelineDoc> {
    return this.call(`/v0/spaces/${enc(space)}/timelines/${enc(timeline)}?ref=${enc(ref)}`);
  }

  /** Every item of some tracks (all of them, page after page, up to MAX_ITEMS). */
  async items(space: string, timeline: string, ref: string, tracks: readonly string[]): Promise<ItemDoc[]> {
    const out: ItemDoc[] = [];
    if (tracks.length === 0) return out;
    let path: string | undefined =
      `/v0/spaces/${enc(space)}/timelines/${enc(timeline)}/items?ref=${enc(ref)}&tracks=${tracks.map(enc).join(',')}&limit=10000`;
    while (path && out.length < MAX_ITEMS) {
      const page: { items: ItemDoc[]; next?: string } = await this.call(path);
      out.push(...page.items);
      path = page.next;
    }
    return out;
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
    return this.post<{ hits: HitDoc[] }>(`/v0/spaces/${enc(space)}/text`, body);
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
    return this.post<{ hits: HitDoc[] }>(`/v0/spaces/${enc(space)}/hybrid`, body);
  }

  refs(space: string) {
    return this.call<{ refs: RefDoc[] }>(`/v0/spaces/${enc(space)}/refs`);
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
    return this.post<{ manifest: string; rebased?: boolean }>(`/v0/spaces/${enc(space)}/publish`, {
      ...body,
      rebase: true,
    });
  }

  /** Merge versions into a ref: 409 ApiError with `conflicts` in its body when they conflict. */
  merge(space: string, body: { into: string; from: string[]; message?: string; author?: string }) {
    return this.post<{ outcome: string; manifest: string; parents: string[] }>(
      `/v0/spaces/${enc(space)}/merge`,
      body,
    );
  }

  /** The names of a version's timelines. */
  async timelines(space: string, ref: string): Promise<string[]> {
    const body = await this.call<{ timelines: { name: string }[] }>(
      `/v0/spaces/${enc(space)}/timelines?ref=${enc(ref)}`,
    );
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
              return JSON.parse(xhr.responseText) as Record<string, unknown>;
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
        if (outcome?.stage === 'done') resolve(outcome as unknown as IngestDoc);
        else
          reject(
            new ApiError(
              Number(outcome?.status ?? 500),
              String(outcome?.error ?? 'E_INTERNAL'),
              String(outcome?.message ?? 'the answer ended without an outcome'),
            ),
          );
      };
      xhr.onerror = () =>
        reject(new ApiError(0, 'E_NETWORK', "the upload was cut off (is the file over the server's limit?)"));
      xhr.send(media);
    });
  }

  log(space: string, ref: string, limit = 50) {
    return this.call<{
      entries: { manifest: string; parents: string[]; created: string; author?: string; message?: string }[];
    }>(`/v0/spaces/${enc(space)}/log?ref=${enc(ref)}&limit=${limit}`);
  }
}

/** A line of an upload's answer: a stage as it is packaged, or the outcome (done or failed). */
export interface IngestStage {
  readonly stage: 'received' | 'packaging' | 'deriving' | 'publishing' | 'done' | 'failed';
  readonly bytes?: number;
  readonly seconds?: number;
  readonly duration?: number;
  readonly track?: string;
  readonly status?: number;
  readonly error?: string;
  readonly message?: string;
}

/** What an upload became. */
export interface IngestDoc {
  readonly timeline: string;
  readonly manifest: string;
  readonly tracks: readonly { name: string; modality: string; remuxed: boolean; fragments: number }[];
  readonly derived: readonly { name: string; count: number }[];
}

/** A merge conflict as the merge route lists it. */
export interface ConflictDoc {
  readonly timeline: string;
  readonly track?: string;
  readonly tick?: string;
  readonly reason: string;
  readonly base?: { payload?: unknown };
  readonly ours?: { payload?: unknown };
  readonly theirs?: { payload?: unknown };
}

const enc = encodeURIComponent;
