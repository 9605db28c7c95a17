import type { Right } from '@dreamdb/engine/access';

/**
 * What each path of the origin needs (spec 0018 §4), read from the path alone so one middleware checks
 * every request before any route runs. A path no rule names needs an admin token: a route added later
 * is closed until it is given a rule here, and the route-table test names it.
 */

/** What a request needs. `public`: nothing; `token`: any valid token (GET /v0/access). */
export type PathRule =
  | { readonly kind: 'public' }
  | { readonly kind: 'token' }
  | {
      readonly kind: 'grant';
      readonly right: Right;
      readonly space?: string;
      /** The refs it reads or moves that the path and query name (bodies are checked by their routes). */
      readonly refs: readonly string[];
      readonly timeline?: string;
      /** How a windowed token applies: `meta` (timeline metadata: allowed on its timeline), `window`
       * (the request's from/to must lie in the window), `objects` (byte ranges of the window's
       * fragments), or none (refused). */
      readonly windowed?: 'meta' | 'window' | 'objects';
    };

const PUBLIC = { kind: 'public' } as const;

const segmentsOf = (path: string): string[] | undefined => {
  try {
    return path.split('/').slice(1).map(decodeURIComponent);
  } catch {
    return undefined;
  }
};

/** The rule of a request, by method, path and query. */
export function ruleOf(method: string, path: string, query: (name: string) => string | undefined): PathRule {
  const s = segmentsOf(path);
  if (!s) return { kind: 'grant', right: 'admin', refs: [] };
  const [area, ...rest] = s;
  if (method === 'OPTIONS') return PUBLIC;
  if (path === '/v0/health') return PUBLIC;
  if (path === '/v0/access') return { kind: 'token' };
  // The player's own files: its page reads its token from the URL fragment, which no request carries.
  if (path === '/' || path === '/favicon.ico' || area === 'assets' || area === 'ffmpeg') return PUBLIC;
  if (area === 'hls' || area === 'dash') {
    const [space, ref, timeline] = rest;
    // A playlist of a clip names its from/to; the segments of subtitles and thumbnails do not (refused).
    const windowed = rest.length === 4 ? 'window' : undefined;
    return {
      kind: 'grant',
      right: 'read',
      space,
      refs: ref ? [ref] : [],
      timeline,
      ...(windowed && { windowed }),
    };
  }
  if (area === 'objects')
    return { kind: 'grant', right: 'read', space: rest[0], refs: [], windowed: 'objects' };
  if (area === 'v0' && rest[0] === 'spaces' && rest[1]) return apiRule(method, rest[1], rest.slice(2), query);
  return { kind: 'grant', right: 'admin', refs: [] };
}

function apiRule(
  method: string,
  space: string,
  rest: string[],
  query: (name: string) => string | undefined,
): PathRule {
  const ref = query('ref') || 'main';
  const [verb, timeline, sub] = rest;
  if (method === 'GET' || method === 'HEAD') {
    if (verb === 'diff')
      return { kind: 'grant', right: 'read', space, refs: [query('from') || 'main', query('to') || 'main'] };
    if (verb === 'refs' && rest.length > 1)
      return { kind: 'grant', right: 'read', space, refs: [rest.slice(1).join('/')] };
    if (verb === 'timelines' && timeline !== undefined) {
      const reads = sub === 'items' || sub === 'stream';
      return {
        kind: 'grant',
        right: 'read',
        space,
        refs: [ref],
        timeline,
        windowed: reads ? 'window' : 'meta',
      };
    }
    return { kind: 'grant', right: 'read', space, refs: verb === 'refs' ? [] : [ref] };
  }
  if (method === 'POST') {
    if (verb === 'search' || verb === 'text' || verb === 'hybrid')
      return { kind: 'grant', right: 'read', space, refs: [] };
    if (verb === 'write' || verb === 'publish' || verb === 'refs' || verb === 'delete' || verb === 'compact')
      return { kind: 'grant', right: 'write', space, refs: [] };
    if (verb === 'merge') return { kind: 'grant', right: 'merge', space, refs: [] };
    if (verb === 'timelines' && sub === 'ingest') {
      const branch = query('branch');
      const target = branch
        ? branch.startsWith('heads/')
          ? branch
          : `heads/${branch}`
        : query('ref') || 'main';
      return { kind: 'grant', right: 'ingest', space, refs: [target], timeline };
    }
    if (verb === 'collect') return { kind: 'grant', right: 'admin', space, refs: [] };
  }
  if (method === 'DELETE' && verb === 'refs' && rest.length > 1)
    return { kind: 'grant', right: 'write', space, refs: [rest.slice(1).join('/')] };
  return { kind: 'grant', right: 'admin', space, refs: [] };
}
