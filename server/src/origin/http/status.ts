/** HTTP status of an engine error code (others are 500). */
export const HTTP_STATUS: Partial<
  Record<string, 400 | 401 | 403 | 404 | 409 | 410 | 412 | 413 | 415 | 416 | 429 | 501 | 507>
> = {
  E_NOT_FOUND: 404,
  E_BAD_REQUEST: 400,
  E_FIELD: 400,
  E_NAME: 400,
  E_MULTIHASH: 400,
  E_TICK_FORMAT: 400,
  E_TICK_RANGE: 400,
  E_RANGE: 416,
  E_CONFLICT: 409,
  E_LINEAGE: 409,
  E_TOO_LARGE: 413,
  E_MODALITY: 400,
  E_RATE: 400,
  E_TIME_FORMAT: 400,
  E_CBOR_MALFORMED: 400,
  E_CBOR_NONCANONICAL: 400,
  E_CBOR_VALUE: 400,
  E_CBOR_JSON: 400,
  E_ADDRESS: 400,
  E_FORBIDDEN: 403,
  // A missing, malformed, expired or revoked token (spec 0018 §3); 403 is a valid token that does not allow it.
  E_UNAUTHORIZED: 401,
  // Over a request-rate or concurrent-ingest quota: the response carries Retry-After (spec 0018 §5).
  E_RATE_LIMITED: 429,
  // Over a storage quota: refused before anything is published (spec 0018 §5).
  E_QUOTA: 507,
  E_ERASED: 410,
  E_PRECONDITION: 412,
  // A version holds an index of a kind this origin does not implement (spec 0001 §4.1).
  E_UNSUPPORTED: 501,
};
