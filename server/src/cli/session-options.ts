import { formatAddress, type Manifest, multihashFromHex, tickToHex, toJsonForm } from '@dreamdb/engine';
import { nodeGraphBuild, openStore } from '@dreamdb/engine/node/open';
import type { ReadItem } from '@dreamdb/engine/query';
import { type Resolved, Session, SpaceStore } from '@dreamdb/engine/store';
import type { Command } from 'commander';
import { UsageError } from './errors.js';

/** Options every verb command takes, and the helpers that turn them into a session and a version. */
export interface SpaceOptions {
  store?: string;
  space: string;
}

export interface VersionOptions extends SpaceOptions {
  ref: string;
  manifest?: string;
}

/** Open the store and a session on one space, run `fn`, close the store. */
export async function withSession<T>(opts: SpaceOptions, fn: (session: Session) => Promise<T>): Promise<T> {
  const opened = await openStore(opts.store);
  try {
    return await fn(new Session(new SpaceStore(opened.store, opts.space), { graphBuild: nodeGraphBuild() }));
  } finally {
    await opened.close();
  }
}

/** The version a read verb looks at: a manifest hash when given, else the ref. */
export async function version(session: Session, opts: VersionOptions): Promise<Resolved> {
  if (opts.manifest) {
    const hash = multihashFromHex(opts.manifest);
    return { hash, manifest: await session.manifest(hash) };
  }
  const resolved = await session.resolve(opts.ref);
  if (!resolved) throw new UsageError(`space ${opts.space} has no ref ${opts.ref}`);
  return resolved;
}

/** The options of a command over one timeline at one version. */
export interface TimelineOptions extends VersionOptions {
  timeline: string;
}

/**
 * withSession, then the version the options name and the genesis of their timeline (what RFC 3339
 * times are read against).
 */
export function withTimeline<T>(
  opts: TimelineOptions,
  fn: (session: Session, resolved: Resolved, genesis: bigint | undefined) => Promise<T>,
): Promise<T> {
  return withSession(opts, async (session) => {
    const resolved = await version(session, opts);
    return fn(session, resolved, genesisOf(resolved.manifest, opts.timeline));
  });
}

/** The genesis of a timeline of a manifest, when it has one. */
export function genesisOf(manifest: Manifest, timeline: string): bigint | undefined {
  return manifest.timelines.find((t) => t.name === timeline)?.genesis;
}

export function itemJson(item: ReadItem) {
  return {
    timeline: item.timeline,
    track: item.track,
    tick: item.tick.toString(),
    hex: tickToHex(item.tick),
    duration: item.duration.toString(),
    address: formatAddress(item.address),
    bytes: item.bytes.length,
    ...(item.payload !== undefined && { payload: toJsonForm(item.payload) }),
    ...(item.layer !== undefined && { layer: item.layer }),
  };
}

export function spaceOptions(command: Command): Command {
  return command
    .requiredOption('--space <name>', 'the space')
    .option(
      '--store <spec>',
      'a directory, s3://bucket/prefix or http(s)://host/bucket (default: DREAMDB_STORE or ./.dreamdb/store)',
    );
}

export function versionOptions(command: Command): Command {
  return spaceOptions(command)
    .option('--ref <name>', 'the ref to read', 'main')
    .option('--manifest <hash>', 'read this manifest instead of a ref (time travel)');
}
