/**
 * `@dreamdb/engine/access`: who may do what (spec 0018): capability tokens (issue, attenuate, seal,
 * verify), the access check of a request, revocation lists, tenants and their usage. Pure core: an origin,
 * a CLI or a browser uses it alike.
 */

export {
  type Caveats,
  combine,
  type Effective,
  intersectPatterns,
  matches,
  RIGHTS,
  type Right,
  type Window,
} from '../access/caveats.js';
export { type AccessRequest, checkAccess } from '../access/grant.js';
export {
  decodeRevocations,
  encodeRevocations,
  type Revocations,
  readRevocations,
  revocationKey,
  revoke,
} from '../access/revocation.js';
export * from '../access/tenant.js';
export {
  attenuateToken,
  type Block,
  CLOCK_SKEW_SECONDS,
  checkTime,
  decodeToken,
  encodeToken,
  fromBase64Url,
  type IssuerKey,
  issueToken,
  keyId,
  MAX_BLOCKS,
  MAX_TOKEN_CHARS,
  newIssuerKey,
  publicKeyOf,
  revocationId,
  sealToken,
  TOKEN_PREFIX,
  type Token,
  toBase64Url,
  tokenCaveats,
  type VerifiedToken,
  verifyToken,
} from '../access/token.js';
export * from '../access/usage.js';
