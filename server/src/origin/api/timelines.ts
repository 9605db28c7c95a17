import { EngineError, multihashToHex } from '@dreamdb/engine';
import type { SeekDoc, TimelineDoc, TimelineListDoc } from '@dreamdb/engine/api';
import { seekEntry } from '@dreamdb/engine/query';
import { Hono } from 'hono';
import type { OriginContext } from '../context.js';
import { timeParam } from '../http/params.js';
import { selectedTracks, selection } from '../playback/selection.js';
import { objectUri, playbackBase } from '../playback/urls.js';
import { indexesDoc } from './docs.js';

/** API routes about a timeline: its listing (tracks and playback URLs) and time-seek. */
export function timelineRoutes(origin: OriginContext): Hono {
  const app = new Hono();

  app.get('/:space/timelines', async (c) => {
    const { space } = c.req.param();
    const ref = c.req.query('ref') ?? 'main';
    const resolved = await origin.resolve(space, ref);
    return c.json({
      space,
      manifest: multihashToHex(resolved.hash),
      timelines: resolved.manifest.timelines.map((t) => ({
        name: t.name,
        ...(t.genesis !== undefined && { genesis: t.genesis.toString() }),
        tracks: resolved.manifest.tracks.filter((tr) => tr.timeline === t.name).length,
      })),
    } satisfies TimelineListDoc);
  });

  app.get('/:space/timelines/:timeline', async (c) => {
    const { space, timeline } = c.req.param();
    const ref = c.req.query('ref') ?? 'main';
    const { resolved, timeline: line } = await origin.resolveTimeline(space, ref, timeline);
    const hls = playbackBase('/hls', space, ref, timeline);
    return c.json({
      space,
      timeline,
      manifest: multihashToHex(resolved.hash),
      ...(line.genesis !== undefined && { genesis: line.genesis.toString() }),
      tracks: resolved.manifest.tracks
        .filter((t) => t.timeline === timeline)
        .map((t) => ({
          name: t.name,
          kind: t.kind,
          modality: t.modality,
          items: t.index?.count ?? 0,
          ...(t.codecs && { codecs: t.codecs }),
          ...(t.index && { first: t.index.first.toString(), last: t.index.last.toString() }),
          ...(t.kind === 'stream' && t.init && { hls: `${hls}/${encodeURIComponent(t.name)}.m3u8` }),
          // What the player can search: the track's indexes (a vector index's lineage, a text index).
          ...indexesDoc(t),
        })),
      playback: {
        hls: `${hls}/master.m3u8`,
        dash: `${playbackBase('/dash', space, ref, timeline)}/manifest.mpd`,
      },
    } satisfies TimelineDoc);
  });

  // Time-seek: per stream track, the fragment covering t, from the index alone (no listing, no bytes).
  app.get('/:space/timelines/:timeline/seek', async (c) => {
    const { space, timeline } = c.req.param();
    const { resolved, timeline: line } = await origin.resolveTimeline(
      space,
      c.req.query('ref') ?? 'main',
      timeline,
    );
    const t = timeParam('t', c.req.query('t'), line.genesis);
    if (t === undefined)
      throw new EngineError('E_BAD_REQUEST', 'seek needs t (ticks, or a number with a unit like 12.5s)');
    const tracks = selectedTracks(
      resolved.manifest,
      timeline,
      selection((k) => (k === 'tracks' ? c.req.query(k) : undefined), resolved.manifest, timeline),
    ).filter((tr) => tr.kind === 'stream');
    const session = origin.session(space);
    const hits = await Promise.all(
      tracks.map(async (track) => {
        const entry = await seekEntry(session, track, t);
        return (
          entry && {
            track: track.name,
            tick: entry.tick.toString(),
            duration: entry.duration.toString(),
            offset: (t - entry.tick).toString(),
            url: objectUri(space, entry.object, '.m4s'),
            range: { start: entry.start, end: entry.end },
          }
        );
      }),
    );
    return c.json({ t: t.toString(), tracks: hits.filter((h) => h !== undefined) } satisfies SeekDoc);
  });

  return app;
}
