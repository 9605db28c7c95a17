/**
 * The capability token (spec 0018) as the player carries it. It arrives in the URL's fragment
 * (`#token=…`), never its query: a fragment is not sent to servers, so the token stays out of Referer
 * headers and access logs. The player sends it back as `Authorization: Bearer` on API calls, and as a
 * `token=` query parameter only on the playlist URLs it hands to hls.js and shaka-player, which cannot
 * add headers to the requests a playlist makes (the origin's playlists carry it on to every URL they list).
 */

/** The token in a URL fragment (`#token=…`, beside any other fragment parameters); undefined when none. */
export function tokenFromFragment(hash: string): string | undefined {
  const params = new URLSearchParams(hash.startsWith('#') ? hash.slice(1) : hash);
  // Opaque base64url: no spaces; one pasted with surrounding whitespace is still the same token.
  const token = params.get('token')?.trim();
  return token || undefined;
}

/** The headers that present the token to the API (none without one). */
export const authHeaders = (token: string | undefined): Record<string, string> =>
  token ? { authorization: `Bearer ${token}` } : {};

/**
 * A URL with `token=<token>` (URL-encoded) in its query, replacing any token it had; other parameters and
 * the fragment are kept byte for byte (re-encoding them through URLSearchParams could change them).
 * Relative URLs stay relative. Without a token, the URL as it is.
 */
export function withToken(url: string, token: string | undefined): string {
  if (!token) return url;
  const hashAt = url.indexOf('#');
  const fragment = hashAt < 0 ? '' : url.slice(hashAt);
  const rest = hashAt < 0 ? url : url.slice(0, hashAt);
  const queryAt = rest.indexOf('?');
  const path = queryAt < 0 ? rest : rest.slice(0, queryAt);
  const params = queryAt < 0 ? [] : rest.slice(queryAt + 1).split('&');
  const kept = params.filter((p) => p !== '' && p !== 'token' && !p.startsWith('token='));
  kept.push(`token=${encodeURIComponent(token)}`);
  return `${path}?${kept.join('&')}${fragment}`;
}

/** A timeline's playback URLs (HLS master playlist, DASH manifest) carrying the token. */
export const playbackUrls = (
  urls: { readonly hls: string; readonly dash: string },
  token: string | undefined,
): { hls: string; dash: string } => ({ hls: withToken(urls.hls, token), dash: withToken(urls.dash, token) });
