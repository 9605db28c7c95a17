import {
  assertModality,
  EngineError,
  fromJsonForm,
  hashBytes,
  isName,
  MULTIHASH_HEX,
  type Multihash,
  multihashFromHex,
  parseRate,
  parseTimeArg,
  type Tick,
  TRACK_KINDS,
  type Track,
  toTick,
  validateTrack,
} from '@dreamdb/engine';
import { indexesFromOptions } from '@dreamdb/engine/indexes';
import { assertRefName } from '@dreamdb/engine/store';
import type { DeleteSelector, WriteItem } from '@dreamdb/engine/write';
import { z } from 'zod';
import { type Body, detail, type Form } from './negotiate.js';

/**
 * Request bodies of the verb routes, as zod schemas. Fields whose JSON and CBOR encodings differ (ticks,
 * payloads, bytes) are read by small transforms, so every refusal is an issue at the field's path and
 * the 400 names it: `writes[0].items[3].tick: ...`.
 */

type Ctx = z.core.$RefinementCtx;

/** Record a refusal at the field being transformed; the transform's output is then discarded. */
function refuse(ctx: Ctx, message: string): never {
  ctx.addIssue({ code: 'custom', message });
  return z.NEVER as never;
}

/** Run a conversion; an engine refusal becomes an issue at this field, worded without its code. */
function attempt<T>(ctx: Ctx, convert: () => T): T {
  try {
    return convert();
  } catch (error) {
    return refuse(ctx, detail(error).replace(/^\(root\): /, ''));
  }
}

/**
 * A tick in a body: an integer (a safe JSON number, or any CBOR unsigned integer), or a time argument
 * (spec 0006 §5: a decimal string of ticks, or a number with a unit like "12.5s" or "500ms"). Hex ticks
 * are not taken here (a 16-digit decimal string is ticks), nor RFC 3339 (no genesis is known yet).
 */
export const tickField = z.unknown().transform((value, ctx): Tick => {
  if (value === undefined) return refuse(ctx, 'required');
  if (typeof value === 'string') return attempt(ctx, () => parseTimeArg(value, { hex: false }));
  if (typeof value === 'number' || typeof value === 'bigint') return attempt(ctx, () => toTick(value));
  return refuse(ctx, 'expected ticks: an integer, a decimal string, or a number with a unit like "12.5s"');
});

const NAME_RULE = 'must be 1-64 characters of a-z 0-9 . _ -, start with a letter or digit, without ".."';

/** A space, timeline or track name. */
export const nameField = z.string().refine(isName, NAME_RULE);

/** Whether text is a ref name (main, heads/team-a). */
function isRefName(text: string): boolean {
  try {
    assertRefName(text);
    return true;
  } catch {
    return false;
  }
}

/** A ref name (main, heads/team-a). */
export const refField = z
  .string()
  .refine(
    isRefName,
    'must be 1-8 "/"-separated segments of a-z 0-9 . _ - (like main or heads/team-a), without ".."',
  );

/** A manifest (or object) hash: a BLAKE3 multihash in hex. */
export const hashField = z
  .string()
  .regex(MULTIHASH_HEX, 'must be a BLAKE3 multihash in hex: 1e20 then 64 lowercase hex digits');

/** A version to read or build on: a ref name or a manifest hash. */
export const versionField = z
  .string()
  .refine(
    (text) => MULTIHASH_HEX.test(text) || isRefName(text),
    'must be a ref name (like main) or a manifest hash (1e20 + 64 hex digits)',
  );

/** A stored CBOR value: the engine's JSON form in a JSON body, itself in a CBOR body. */
const valueField = (form: Form) =>
  z.unknown().transform((value, ctx) => {
    if (value === undefined) return refuse(ctx, 'required');
    return form === 'json' ? attempt(ctx, () => fromJsonForm(value)) : value;
  });

/** Signed 64-bit nanoseconds (a timeline's genesis): an integer or a decimal string. */
const int64Field = z.unknown().transform((value, ctx): bigint => {
  const ok =
    (typeof value === 'number' && Number.isSafeInteger(value)) ||
    typeof value === 'bigint' ||
    (typeof value === 'string' && /^-?(0|[1-9][0-9]*)$/.test(value));
  const n = ok ? BigInt(value as string) : undefined;
  if (n === undefined || n < -(2n ** 63n) || n >= 2n ** 63n)
    return refuse(ctx, 'expected signed 64-bit nanoseconds: a safe integer or a decimal string');
  return n;
});

const timelineSchema = z.strictObject({
  name: nameField,
  genesis: int64Field.optional(),
  title: z.string().max(1024).optional(),
});

/** An init segment: the hash of an object already in the space, or its bytes (stored with the publish). */
export interface InitSegment {
  readonly hash: Multihash;
  readonly bytes?: Uint8Array;
}

const initField = (form: Form) =>
  valueField(form).transform((value, ctx): InitSegment => {
    if (typeof value === 'string' && MULTIHASH_HEX.test(value)) return { hash: multihashFromHex(value) };
    if (value instanceof Uint8Array) return { hash: hashBytes(value), bytes: value };
    return refuse(ctx, 'expected an object hash (1e20 + 64 hex digits) or the init segment as bytes');
  });

/** Snake-case fields of engine messages, as this API spells them. */
const CAMEL: Record<string, string> = { bucket_duration: 'bucketDuration' };

/** A track definition: the engine's Track, its init segment's bytes when given inline. */
export interface TrackDefinition {
  readonly track: Track;
  readonly init?: InitSegment;
}

/** Event tracks get this bucket duration when the body gives none (as `dreamdb write` does). */
export const DEFAULT_BUCKET_DURATION = 60_000_000_000n;

const trackSchema = (form: Form) =>
  z
    .strictObject({
      timeline: nameField,
      name: nameField,
      kind: z.enum(TRACK_KINDS),
      modality: z.string().transform((text, ctx) => attempt(ctx, () => assertModality(text, 'modality'))),
      rate: z
        .union([z.string(), z.number()])
        .transform((text, ctx) => attempt(ctx, () => parseRate(String(text))))
        .optional(),
      codecs: z.string().max(256).optional(),
      init: initField(form).optional(),
      bucketDuration: tickField.optional(),
      attrs: valueField(form)
        .refine(
          (v) => v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array),
          'expected a map with text keys',
        )
        .optional(),
      // The track's indexes by scheme, each with its kind's options (left out: the kind's defaults, e.g.
      // {"dreamdb.lsh-cosine": {"tables": 8}}); {} for none; absent: every kind's default (0001 §4.1).
      indexes: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
    })
    .transform((t, ctx): TrackDefinition => {
      let track: Track = {
        timeline: t.timeline,
        name: t.name,
        kind: t.kind,
        modality: t.modality,
        ...(t.rate !== undefined && { rate: t.rate }),
        ...(t.codecs !== undefined && { codecs: t.codecs }),
        ...(t.init !== undefined && { init: t.init.hash }),
        ...(t.kind === 'event' && { bucketDuration: t.bucketDuration ?? DEFAULT_BUCKET_DURATION }),
        ...(t.kind !== 'event' && t.bucketDuration !== undefined && { bucketDuration: t.bucketDuration }),
        ...(t.attrs !== undefined && { attrs: t.attrs as Record<string, unknown> }),
      };
      try {
        if (t.indexes) track = { ...track, indexes: indexesFromOptions(track, t.indexes) };
        validateTrack(track, 'track');
      } catch (error) {
        // The engine names the field as `track.<field>` (`track.indexes.<scheme>...`, or `indexes.<scheme>...`
        // for an index's options): move the issue onto that field.
        const match = /^(?:track\.)?(indexes|[a-z_]+)(\.[^:\s]+)?: (.*)$/s.exec(detail(error));
        const known = match && (match[1] === 'indexes' || detail(error).startsWith('track.'));
        const field = known ? (CAMEL[match[1]!] ?? match[1]!) : undefined;
        ctx.addIssue({
          code: 'custom',
          message: known ? match[3]! : detail(error),
          path: field ? [field, ...(match![2] ? [match![2].slice(1)] : [])] : [],
        });
        return z.NEVER as never;
      }
      return { track, ...(t.init && { init: t.init }) };
    });

const itemSchema = (form: Form) =>
  z
    .strictObject({
      tick: tickField,
      duration: tickField.optional(),
      layer: z.string().min(1).max(255).optional(),
      payload: valueField(form),
    })
    .transform(
      (i): WriteItem => ({
        tick: i.tick,
        payload: i.payload,
        ...(i.duration !== undefined && { duration: i.duration }),
        ...(i.layer !== undefined && { layer: i.layer }),
      }),
    );

const writeSchema = (form: Form) =>
  z.strictObject({
    timeline: nameField,
    track: nameField,
    items: z.array(itemSchema(form)).min(1),
  });

/**
 * One delete (spec 0020 §2): a timeline, a track, a track's items with from <= tick < to (either bound
 * may be left out), or one item by `tick`.
 */
const deleteSchema = z
  .strictObject({
    timeline: nameField,
    track: nameField.optional(),
    from: tickField.optional(),
    to: tickField.optional(),
    tick: tickField.optional(),
  })
  .superRefine((d, ctx) => {
    if (d.tick !== undefined && (d.from !== undefined || d.to !== undefined))
      ctx.addIssue({ code: 'custom', path: ['tick'], message: 'give tick, or from and to, not both' });
    if (d.track === undefined && (d.tick !== undefined || d.from !== undefined || d.to !== undefined))
      ctx.addIssue({
        code: 'custom',
        path: ['track'],
        message: 'a tick or a range deletes items of one track: name it',
      });
  })
  .transform(
    (d): DeleteSelector => ({
      timeline: d.timeline,
      ...(d.track !== undefined && { track: d.track }),
      ...(d.tick !== undefined ? { from: d.tick, to: d.tick + 1n } : {}),
      ...(d.from !== undefined && { from: d.from }),
      ...(d.to !== undefined && { to: d.to }),
    }),
  );

/** What a batch defines and stages: timelines, tracks, items per track, and the manifest's metadata. */
const batchFields = (form: Form) => ({
  parents: z.array(hashField).max(64).optional(),
  timelines: z.array(timelineSchema).max(4096).optional(),
  tracks: z.array(trackSchema(form)).max(65_536).optional(),
  /** Deletes applied to the batch's base before its writes (spec 0020 §2). */
  deletes: z.array(deleteSchema).max(4096).optional(),
  writes: z.array(writeSchema(form)).optional(),
  author: z.string().max(1024).optional(),
  message: z.string().max(65_536).optional(),
});

/** POST .../write: a batch built on `base` into an unpublished manifest. */
const writeBody = (form: Form) =>
  z.strictObject({ base: versionField.nullable().optional(), ...batchFields(form) });

/**
 * POST .../publish: move `ref`, either to a batch built on `base` (default: the ref itself), or to an
 * existing `manifest` (a write's result). `expect` is the manifest the ref must be at (null: absent).
 */
const publishBody = (form: Form) =>
  z
    .strictObject({
      ref: refField,
      expect: hashField.nullable().optional(),
      manifest: hashField.optional(),
      base: versionField.optional(),
      /** When the ref is no longer at the batch's base: merge the batch onto it (spec 0008 §6). */
      rebase: z.boolean().optional(),
      ...batchFields(form),
    })
    .superRefine((body, ctx) => {
      if (body.rebase && body.expect !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['rebase'],
          message: 'not allowed with expect (rebase follows the ref)',
        });
      if (body.manifest === undefined) return;
      for (const key of [
        'base',
        'parents',
        'timelines',
        'tracks',
        'writes',
        'deletes',
        'author',
        'message',
        'rebase',
      ] as const)
        if (body[key] !== undefined)
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message: 'not allowed with manifest (that manifest is published as it is)',
          });
    });

/** POST .../delete: delete on a branch (default main), published at once; `erase` reaches history (§7). */
const deleteBody = z.strictObject({
  ref: refField.optional(),
  deletes: z.array(deleteSchema).min(1).max(4096),
  erase: z.boolean().optional(),
  rebase: z.boolean().optional(),
  author: z.string().max(1024).optional(),
  message: z.string().max(65_536).optional(),
});
export type DeleteBody = z.output<typeof deleteBody>;

export type WriteBody = z.output<ReturnType<typeof writeBody>>;
export type PublishBody = z.output<ReturnType<typeof publishBody>>;
export type BatchBody = Omit<WriteBody, 'base'>;

const SCHEMAS = {
  write: { json: writeBody('json'), cbor: writeBody('cbor') },
  publish: { json: publishBody('json'), cbor: publishBody('cbor') },
  delete: { json: deleteBody, cbor: deleteBody },
};

/** A spatial index lineage: the multihash of its SpatialIndex record, 68 hex digits. */
export const lineageField = z
  .string()
  .regex(MULTIHASH_HEX, 'must be a spatial index lineage: 1e20 then 64 lowercase hex digits (68 in all)');

/** Knobs of a vector query (search, and the vector half of hybrid): index lookups or an exact scan. */
const vectorKnobs = {
  /** Scan every vector instead of using the track's spatial index. */
  exact: z.boolean().optional(),
  /** Index lookups per table (1..bits+1; the upper bound is the track's, checked by the engine). */
  probes: z.number().int().min(1).max(4096).optional(),
  /** Candidates re-ranked exactly (at least k). */
  rerank: z.number().int().min(1).max(1_000_000).optional(),
};

/** probes and rerank tune the index: they mean nothing to an exact scan; rerank below k cannot fill k. */
function checkKnobs(
  body: { exact?: boolean | undefined; probes?: number | undefined; rerank?: number | undefined },
  k: number,
  ctx: Ctx,
): void {
  if (body.exact)
    for (const key of ['probes', 'rerank'] as const)
      if (body[key] !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: 'not with exact (an exact search scans every vector)',
        });
  if (body.rerank !== undefined && body.rerank < k)
    ctx.addIssue({ code: 'custom', path: ['rerank'], message: `${body.rerank} is under k (${k})` });
}

const kField = z.number().int().min(1).max(1000);
const vectorField = z.array(z.number()).min(1).max(999_999);
/** Track names of one timeline (checked against the manifest by the route). */
const tracksField = z.array(nameField).min(1).max(4096);
/** A text query: BM25 terms, "phrases" and -exclusions (spec 0015 §2); blank is refused here. */
const queryField = z
  .string()
  .max(4096)
  .refine((text) => text.trim() !== '', 'must not be empty: give words to look for');

export const searchBody = z
  .strictObject({
    ref: versionField.optional(),
    timeline: nameField,
    track: nameField,
    vector: vectorField.optional(),
    like: tickField.optional(),
    k: kField.optional(),
    from: tickField.optional(),
    to: tickField.optional(),
    ...vectorKnobs,
    index: lineageField.optional(),
  })
  .superRefine((body, ctx) => {
    if ((body.vector === undefined) === (body.like === undefined))
      ctx.addIssue({ code: 'custom', path: ['vector'], message: 'give exactly one of vector and like' });
    checkKnobs(body, body.k ?? 10, ctx);
  });

/** POST .../text: BM25 over the text-indexed tracks of a timeline. */
export const textBody = z.strictObject({
  ref: versionField.optional(),
  timeline: nameField,
  query: queryField,
  tracks: tracksField.optional(),
  k: kField.optional(),
  from: tickField.optional(),
  to: tickField.optional(),
});

const weightField = z.number().min(0).max(1e6);

/** POST .../hybrid: a text query, a vector query (a vector, or like an item), or both, fused by rank. */
export const hybridBody = z
  .strictObject({
    ref: versionField.optional(),
    timeline: nameField,
    text: queryField.optional(),
    textTracks: tracksField.optional(),
    vector: vectorField.optional(),
    like: tickField.optional(),
    vectorTrack: nameField.optional(),
    k: kField.optional(),
    from: tickField.optional(),
    to: tickField.optional(),
    labels: z.array(z.string().min(1).max(1024)).min(1).max(1024).optional(),
    rrfK: z.number().min(0).max(1e6).optional(),
    weights: z.strictObject({ text: weightField.optional(), vector: weightField.optional() }).optional(),
    depth: z.number().int().min(1).max(10_000).optional(),
    ...vectorKnobs,
  })
  .superRefine((body, ctx) => {
    const k = body.k ?? 10;
    if (body.text === undefined && body.vector === undefined && body.like === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['text'],
        message: 'give text, vector or like (an item to find more of): a hybrid query needs one',
      });
    if (body.vector !== undefined && body.like !== undefined)
      ctx.addIssue({ code: 'custom', path: ['like'], message: 'not with vector: give one query vector' });
    if (body.textTracks !== undefined && body.text === undefined)
      ctx.addIssue({ code: 'custom', path: ['textTracks'], message: 'only with text' });
    const vectorless = body.vector === undefined && body.like === undefined;
    for (const key of ['vectorTrack', 'exact', 'probes', 'rerank'] as const)
      if (vectorless && body[key] !== undefined)
        ctx.addIssue({ code: 'custom', path: [key], message: 'only with vector or like' });
    if (body.depth !== undefined && body.depth < k)
      ctx.addIssue({ code: 'custom', path: ['depth'], message: `${body.depth} is under k (${k})` });
    checkKnobs(body, k, ctx);
  });

export const collectBody = z.strictObject({
  apply: z.boolean().optional(),
  grace: tickField.optional(),
});

/** A zod path as this API writes it: `writes[0].items[3].tick`. */
function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : out ? `.${String(key)}` : String(key);
  return out || 'body';
}

/** The first few issues, each as `<field path>: <problem>`. */
function formatIssues(issues: readonly z.core.$ZodIssue[]): string {
  const lines = issues.slice(0, 5).map((issue) => {
    if (issue.code === 'unrecognized_keys')
      return issue.keys.map((k) => `${formatPath([...issue.path, k])}: unknown field`).join('; ');
    return `${formatPath(issue.path)}: ${issue.message}`;
  });
  return issues.length > 5 ? `${lines.join('; ')}; and ${issues.length - 5} more` : lines.join('; ');
}

/** Validate a value against a schema; refused as E_BAD_REQUEST naming the fields. */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new EngineError('E_BAD_REQUEST', formatIssues(result.error.issues));
  return result.data;
}

/** A write body, read in its own form's conventions. */
export const parseWrite = (body: Body): WriteBody => parseWith(SCHEMAS.write[body.form], body.value);

/** A delete body. */
export const parseDelete = (body: Body): DeleteBody => parseWith(SCHEMAS.delete[body.form], body.value);

/** A publish body, read in its own form's conventions. */
export const parsePublish = (body: Body): PublishBody => parseWith(SCHEMAS.publish[body.form], body.value);
