import { EngineError, parseTimeArg } from '@dreamdb/engine';
import { checkAccess, type Right, type VerifiedToken } from '@dreamdb/engine/access';
import type { Context, MiddlewareHandler } from 'hono';
import type { AccessControl } from './control.js';
import { ruleOf } from './policy.js';
import type { WindowBytes } from './window-bytes.js';

/** The query parameter that carries a token in URLs players fetch themselves (playlists, segments). */
export const TOKEN_PARAM = 'token';

/** What a request may do, as the access middleware found it: open mode, or a checked token. */
export type RequestAccess =
  | { readonly mode: 'open' }
  | {
      readonly mode: 'token';
      readonly token: VerifiedToken;
      /** The token's text, written into the URLs a playlist lists. */
      readonly text: string;
      readonly space?: string;
      readonly owner?: string;
    };

declare module 'hono' {
  interface ContextVariableMap {
    access: RequestAccess;
  }
}

const OPEN: RequestAccess = { mode: 'open' };

/** The token a request presents: `Authorization: Bearer`, else the `token` query parameter. */
function presented(c: Context): string | undefined {
  const header = c.req.header('authorization');
  if (header !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw new EngineError('E_UNAUTHORIZED', 'Authorization must be "Bearer <token>"');
    return match[1];
  }
  return c.req.query(TOKEN_PARAM) || undefined;
}

/** A tick bound of a windowed request, which must be given in ticks (no timeline genesis is read here). */
function bound(c: Context, name: string): bigint | undefined {
  const text = c.req.query(name);
  if (text === undefined || text === '') return undefined;
  try {
    return parseTimeArg(text, { name });
  } catch {
    throw new EngineError(
      'E_FORBIDDEN',
      `${name}: a token with a window needs ticks or seconds, not ${JSON.stringify(text)}`,
    );
  }
}

/**
 * One middleware in front of every route (spec 0018 §4): with no access control, open mode; otherwise
 * the path's rule (policy.ts), the token (signatures, times, revocation), then the grant against the
 * space's owner, the refs the path names and a window. Nothing runs before it, so a refused request
 * writes nothing.
 */
export function accessMiddleware(
  control: AccessControl | undefined,
  windowBytes?: WindowBytes,
): MiddlewareHandler {
  return async (c, next) => {
    if (!control) {
      c.set('access', OPEN);
      return next();
    }
    const rule = ruleOf(c.req.method, c.req.path, (name) => c.req.query(name));
    if (rule.kind === 'public') {
      c.set('access', OPEN);
      return next();
    }
    const text = presented(c);
    if (text === undefined)
      throw new EngineError(
        'E_UNAUTHORIZED',
        `no token: send "Authorization: Bearer <token>" or ?${TOKEN_PARAM}=`,
      );
    const checked = control.authenticate(text);
    const token = checked instanceof Promise ? await checked : checked;
    if (rule.kind === 'token') {
      c.set('access', { mode: 'token', token, text });
      return next();
    }
    const owned = rule.space === undefined ? undefined : control.owner(rule.space);
    const owner = owned instanceof Promise ? await owned : owned;
    let from: bigint | undefined;
    let to: bigint | undefined;
    let objectsRef: string | undefined;
    let timeline = rule.timeline;
    if (token.window) {
      if (rule.windowed === 'meta') ({ from, to } = token.window);
      else if (rule.windowed === 'window') {
        from = bound(c, 'from');
        to = bound(c, 'to');
      } else if (rule.windowed === 'objects') {
        // Bytes of the window's fragments only, at the ref the playlist that listed them named.
        ({ from, to, timeline } = token.window);
        objectsRef = c.req.query('ref') || 'main';
      }
    }
    const request = {
      right: rule.right,
      ...(rule.space !== undefined && { space: rule.space }),
      ...(owner !== undefined && { owner }),
      ...(timeline !== undefined && { timeline }),
      ...(from !== undefined && { from }),
      ...(to !== undefined && { to }),
    };
    const refs = objectsRef ? [objectsRef] : rule.refs;
    if (refs.length === 0) checkAccess(token, request);
    for (const ref of refs) checkAccess(token, { ...request, ref });
    if (objectsRef && token.window && rule.space !== undefined) {
      if (!windowBytes)
        throw new EngineError('E_FORBIDDEN', 'this origin serves no bytes to windowed tokens');
      const file = c.req.path.split('/').pop() ?? '';
      await windowBytes.check(
        rule.space,
        objectsRef,
        token.window,
        file.replace(/\.[a-z0-9]+$/, ''),
        c.req.header('range'),
      );
    }
    c.set('access', {
      mode: 'token',
      token,
      text,
      ...(rule.space !== undefined && { space: rule.space }),
      ...(owner !== undefined && { owner }),
    });
    await next();
    limitCaching(c, token.exp);
  };
}

/**
 * Refs a route reads or moves that only its body names (publish, merge, refs, search): refused with 403
 * unless the request's token grants `right` on each. Open mode allows all.
 */
export function allowRefs(c: Context, right: Right, ...refs: (string | undefined)[]): void {
  const access = c.get('access');
  if (!access || access.mode === 'open') return;
  for (const ref of refs)
    if (ref !== undefined)
      checkAccess(access.token, {
        right,
        ...(access.space !== undefined && { space: access.space }),
        ...(access.owner !== undefined && { owner: access.owner }),
        ref,
      });
}

/**
 * A response to a token may be cached (by a CDN, keyed on the whole URL with its token) no longer than
 * the token lives: after that, the URL must reach the origin again, which refuses it.
 */
function limitCaching(c: Context, exp: number): void {
  const header = c.res.headers.get('cache-control');
  if (!header) return;
  const left = Math.max(0, Math.floor(exp - Date.now() / 1000));
  const maxAge = /max-age=(\d+)/.exec(header);
  if (maxAge && Number(maxAge[1]) > left)
    c.res.headers.set('cache-control', header.replace(/max-age=\d+/, `max-age=${left}`));
}

/**
 * A version a body names to read from (a new branch's `at`): a ref name is checked as by allowRefs; a
 * manifest hash, for a token limited to refs, only when it is what one of the refs it names exactly
 * points at now (the player branches from the version on screen, which it got through such a ref).
 */
export async function allowVersion(
  c: Context,
  version: string,
  headOf: (ref: string) => Promise<string | undefined>,
): Promise<void> {
  const access = c.get('access');
  if (!access || access.mode === 'open' || !MANIFEST_HASH.test(version) || access.token.refs.includes('*'))
    return allowRefs(c, 'read', version);
  for (const ref of access.token.refs) if (!ref.endsWith('*') && (await headOf(ref)) === version) return;
  throw new EngineError(
    'E_FORBIDDEN',
    `this token grants named refs only: ${version} is not where any of them points`,
  );
}

const MANIFEST_HASH = /^1e20[0-9a-f]{64}$/;
