import { createHash, timingSafeEqual } from 'node:crypto';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { HttpRequest } from '@smithy/types';
import { EngineError } from '../../errors.js';

/** AWS credentials for SigV4. */
export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** The parts of an HTTP request SigV4 covers. `path` is as sent on the wire (already percent-encoded). */
export interface SignableRequest {
  readonly method: string;
  readonly protocol: 'http:' | 'https:';
  readonly hostname: string;
  readonly port?: number;
  readonly path: string;
  readonly query: Record<string, string>;
  readonly headers: Record<string, string>;
}

/** Hex SHA-256 of a body, for x-amz-content-sha256. */
export function sha256Hex(body: Uint8Array | string): string {
  return createHash('sha256').update(body).digest('hex');
}

function signer(credentials: Credentials, region: string): SignatureV4 {
  // S3 signs the path as sent: no second round of URI escaping.
  return new SignatureV4({
    credentials,
    region,
    service: 's3',
    sha256: Hash.bind(null, 'sha256'),
    uriEscapePath: false,
  });
}

/** Sign a request with @smithy/signature-v4; returns the headers to send (authorization, x-amz-date, ...). */
export async function signRequest(
  request: SignableRequest,
  credentials: Credentials,
  region: string,
  signingDate = new Date(),
): Promise<Record<string, string>> {
  const toSign = { ...request, headers: { ...request.headers } } as unknown as HttpRequest;
  const signed = await signer(credentials, region).sign(toSign, { signingDate });
  return signed.headers as Record<string, string>;
}

const AUTH =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;
const MAX_SKEW_MS = 15 * 60 * 1000;

/**
 * Check a request's SigV4 Authorization header by signing the same canonical request again with the
 * secret of its access key, through the same library. Refusals are E_FORBIDDEN naming the reason.
 */
export async function verifyRequest(
  request: SignableRequest,
  lookupSecret: (accessKeyId: string) => string | undefined,
  now = Date.now(),
): Promise<string> {
  const authorization = request.headers.authorization ?? '';
  const match = AUTH.exec(authorization);
  if (!match)
    throw new EngineError('E_FORBIDDEN', 'the request is not signed with AWS SigV4 (AWS4-HMAC-SHA256)');
  const [, accessKeyId, , region, signedList, signature] = match as unknown as string[];
  const secretAccessKey = lookupSecret(accessKeyId!);
  if (secretAccessKey === undefined)
    throw new EngineError('E_FORBIDDEN', `unknown access key ${accessKeyId}`);
  const amzDate = request.headers['x-amz-date'] ?? '';
  const when = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (!when) throw new EngineError('E_FORBIDDEN', 'x-amz-date is missing or malformed');
  const signingDate = new Date(
    Date.UTC(+when[1]!, +when[2]! - 1, +when[3]!, +when[4]!, +when[5]!, +when[6]!),
  );
  if (Math.abs(now - signingDate.getTime()) > MAX_SKEW_MS) {
    throw new EngineError(
      'E_FORBIDDEN',
      `request time ${amzDate} is more than 15 minutes from the server's clock`,
    );
  }
  const signedHeaders = signedList!.split(';');
  const headers: Record<string, string> = {};
  for (const name of signedHeaders) {
    const value = request.headers[name];
    if (value === undefined) throw new EngineError('E_FORBIDDEN', `signed header ${name} is missing`);
    headers[name] = value;
  }
  const toSign = { ...request, headers } as unknown as HttpRequest;
  const signed = await signer({ accessKeyId: accessKeyId!, secretAccessKey }, region!).sign(toSign, {
    signingDate,
    signableHeaders: new Set(signedHeaders),
    unsignableHeaders: new Set<string>(),
  });
  const expected =
    /Signature=([0-9a-f]{64})/.exec(String((signed.headers as Record<string, string>).authorization))?.[1] ??
    '';
  if (expected.length !== 64 || !timingSafeEqual(Buffer.from(expected), Buffer.from(signature!))) {
    throw new EngineError(
      'E_FORBIDDEN',
      'the request signature does not match (check the secret key and the signing region)',
    );
  }
  return accessKeyId!;
}
