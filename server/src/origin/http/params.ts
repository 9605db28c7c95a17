import { EngineError, isName, type Manifest, parseTimeArg, type Tick } from '@dreamdb/engine';
import type { Context } from 'hono';

/**
 * A time query or path parameter (spec 0006 §5): ticks, 16 hex digits, a number with a unit, or RFC 3339
 * against the timeline's genesis; a refusal (400) names the parameter and the forms.
 */
export function timeParam(name: string, text: string | undefined, genesis?: bigint): Tick | undefined {
  if (text === undefined || text === '') return undefined;
  return parseTimeArg(text, { name, ...(genesis !== undefined && { genesis }) });
}

/** The genesis of a manifest's timeline, which RFC 3339 parameters are read against. */
export const genesisOf = (manifest: Manifest, timeline: string): bigint | undefined =>
  manifest.timelines.find((t) => t.name === timeline)?.genesis;

/** A count query parameter (1..max), undefined when absent; anything else is a 400 naming it. */
export function countParam(name: string, text: string | undefined, max: number): number | undefined {
  if (text === undefined || text === '') return undefined;
  if (!/^[1-9][0-9]*$/.test(text) || Number(text) > max)
    throw new EngineError(
      'E_BAD_REQUEST',
      `${name}: ${JSON.stringify(text)} is not a count from 1 to ${max}`,
    );
  return Number(text);
}

/** URL parameters that are names, checked: a bad one (a slash, "..") is a 400 naming it. */
export function names<K extends string>(c: Context, ...keys: K[]): Record<K, string> {
  const params = c.req.param() as Record<string, string>;
  for (const key of keys) {
    if (!isName(params[key]))
      throw new EngineError(
        'E_BAD_REQUEST',
        `${key}: ${JSON.stringify(params[key])} is not a name (1-64 characters of a-z 0-9 . _ -, no "..")`,
      );
  }
  return params;
}
