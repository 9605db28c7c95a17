import { MULTIHASH_HEX, multihashToHex, tickToHex, toJsonForm } from '@dreamdb/engine';
import {
  branchRef,
  createRef,
  deleteBranch,
  diffVersions,
  listRefs,
  log,
  MergeConflictError,
  merge,
  resolveVersion,
  tagRef,
} from '@dreamdb/engine/versions';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { type SpaceOptions, spaceOptions, withSession } from '../session-options.js';

const line = (value: unknown) =>
  process.stdout.write(`${JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}\n`);

const count = (text: string | undefined, flag: string): number | undefined => {
  if (text === undefined) return undefined;
  if (!/^[1-9][0-9]*$/.test(text)) throw new UsageError(`${flag} ${text} is not a positive count`);
  return Number(text);
};

/** log, branch, tag, merge, diff: the manifest DAG from the command line (spec 0008). */
export function registerVersions(program: Command): void {
  spaceOptions(
    program.command('log').description('the history behind a version, newest first, one JSON line each'),
  )
    .argument('[version]', 'a ref or a manifest hash', 'main')
    .option('--limit <n>', 'at most this many manifests')
    .action((version: string, opts: SpaceOptions & { limit?: string }) =>
      withSession(opts, async (session) => {
        const head = await resolveVersion(session, versionArg(version));
        const limit = count(opts.limit, '--limit');
        for await (const { hash, manifest } of log(session, [head.hash], limit ? { limit } : {})) {
          line({
            manifest: multihashToHex(hash),
            parents: manifest.parents.map(multihashToHex),
            created: new Date(Number(manifest.created / 1_000_000n)).toISOString(),
            ...(manifest.author && { author: manifest.author }),
            ...(manifest.message && { message: manifest.message }),
          });
        }
      }),
    );

  const branch = program
    .command('branch')
    .description('branches: refs under heads/ (team-a is heads/team-a)');
  spaceOptions(
    branch.command('list').description('every ref of the space with the manifest it points at'),
  ).action((opts: SpaceOptions) =>
    withSession(opts, async (session) => {
      for (const ref of await listRefs(session))
        line({ ref: ref.name, kind: ref.kind, manifest: multihashToHex(ref.manifest) });
    }),
  );
  spaceOptions(branch.command('create').description('create a branch at a version (refused if it exists)'))
    .argument('<name>', 'the branch (team-a, heads/team-a or refs/heads/team-a)')
    .option('--at <version>', 'a ref or a manifest hash', 'main')
    .action((name: string, opts: SpaceOptions & { at: string }) =>
      withSession(opts, async (session) => {
        const ref = branchRef(name);
        const state = await createRef(session, ref, opts.at);
        line({ ref, manifest: multihashToHex(state.manifest) });
      }),
    );
  spaceOptions(branch.command('delete').description('delete a branch main contains (--force: any branch)'))
    .argument('<name>', 'the branch')
    .option('--force', 'delete even if main does not contain it (its history becomes garbage)')
    .action((name: string, opts: SpaceOptions & { force?: boolean }) =>
      withSession(opts, async (session) => {
        await deleteBranch(session, name, { force: opts.force ?? false });
        line({ ref: branchRef(name), deleted: true });
      }),
    );

  spaceOptions(
    program.command('tag').description('create an immutable ref under tags/ (never moved or deleted)'),
  )
    .argument('<name>', 'the tag (v1 is tags/v1)')
    .option('--at <version>', 'a ref or a manifest hash', 'main')
    .action((name: string, opts: SpaceOptions & { at: string }) =>
      withSession(opts, async (session) => {
        const ref = tagRef(name);
        const state = await createRef(session, ref, opts.at);
        line({ ref, manifest: multihashToHex(state.manifest) });
      }),
    );

  spaceOptions(
    program
      .command('merge')
      .description(
        'merge versions into a ref: fast-forward, or a three-way merge manifest; conflicts publish nothing',
      ),
  )
    .argument('<versions...>', 'branches, refs or manifest hashes (several: one octopus merge)')
    .option('--into <ref>', 'the ref to merge into', 'main')
    .option('--no-ff', 'write a merge manifest even when the ref could move forward')
    .option('--author <name>', 'who')
    .option('--message <text>', 'why')
    .action(
      (
        versions: string[],
        opts: SpaceOptions & { into: string; ff: boolean; author?: string; message?: string },
      ) =>
        withSession(opts, async (session) => {
          try {
            const merged = await merge(session, {
              into: opts.into,
              from: versions.map(versionArg),
              fastForward: opts.ff,
              ...(opts.author && { author: opts.author }),
              ...(opts.message && { message: opts.message }),
            });
            line({
              ref: merged.ref.name,
              outcome: merged.outcome,
              manifest: multihashToHex(merged.hash),
              parents: merged.manifest.parents.map(multihashToHex),
              bases: merged.bases,
            });
          } catch (error) {
            if (error instanceof MergeConflictError)
              for (const c of error.conflicts) {
                const side = (s: typeof c.ours) =>
                  s &&
                  ('track' in s
                    ? { track: `${s.track.timeline}/${s.track.name}` }
                    : { payload: toJsonForm(s.payload), layer: s.layer });
                line({
                  conflict: `${c.timeline}${c.track ? `/${c.track}` : ''}`,
                  ...(c.tick !== undefined && { tick: c.tick, hex: tickToHex(c.tick) }),
                  reason: c.reason,
                  base: side(c.base),
                  ours: side(c.ours),
                  theirs: side(c.theirs),
                });
              }
            throw error;
          }
        }),
    );

  spaceOptions(
    program.command('diff').description('tracks and items that differ from version A to version B'),
  )
    .argument('<a>', 'a ref or a manifest hash')
    .argument('[b]', 'a ref or a manifest hash', 'main')
    .option('--limit <n>', 'item changes listed per track (the counts cover all)', '100')
    .action((a: string, b: string, opts: SpaceOptions & { limit: string }) =>
      withSession(opts, async (session) => {
        const [from, to] = [
          await resolveVersion(session, versionArg(a)),
          await resolveVersion(session, versionArg(b)),
        ];
        const limit = count(opts.limit, '--limit');
        for (const track of await diffVersions(session, from.manifest, to.manifest, limit ? { limit } : {}))
          line({
            ...track,
            items: track.items.map((i) => ({ tick: i.tick, hex: tickToHex(i.tick), change: i.change })),
          });
      }),
    );
}

/** A version argument: a manifest hash or a ref as given; a bare name other than main is a branch. */
const versionArg = (v: string) => (MULTIHASH_HEX.test(v) || v.includes('/') ? v : branchRef(v));
