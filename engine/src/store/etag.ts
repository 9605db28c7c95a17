/**
 * ETag normalization (spec 0005 §5.4). Stores spell the same ETag differently: quoted or bare,
 * weak-prefixed (W/), upper- or lowercase hex, with a multipart "-N" suffix. DreamDB compares the
 * normalized form: no W/, no quotes, lowercase; a "-N" suffix is kept (it is part of the identity).
 */
export function normalizeEtag(raw: string | null | undefined): string {
  if (!raw) return '';
  let etag = raw.trim();
  if (etag.startsWith('W/') || etag.startsWith('w/')) etag = etag.slice(2);
  if (etag.length >= 2 && etag.startsWith('"') && etag.endsWith('"')) etag = etag.slice(1, -1);
  return etag.toLowerCase();
}

/** Strong comparison of two ETags after normalization; empty ETags never match. */
export function etagEquals(a: string | null | undefined, b: string | null | undefined): boolean {
  const x = normalizeEtag(a);
  return x !== '' && x === normalizeEtag(b);
}

/** How a store wants If-Match spelled: RFC 9110 quotes it; Ceph RGW 16 only matches it bare. */
export type IfMatchStyle = 'quoted' | 'bare';

/** The If-Match header value for a normalized ETag. */
export function ifMatchHeader(etag: string, style: IfMatchStyle): string {
  const bare = normalizeEtag(etag);
  return style === 'quoted' ? `"${bare}"` : bare;
}
