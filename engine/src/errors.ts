/** Error codes of the engine layer; each names one kind of refusal. */
export type EngineErrorCode =
  | 'E_TICK_RANGE'
  | 'E_TICK_FORMAT'
  | 'E_RATE'
  | 'E_TIME_FORMAT'
  | 'E_CBOR_MALFORMED'
  | 'E_CBOR_NONCANONICAL'
  | 'E_CBOR_VALUE'
  | 'E_CBOR_JSON'
  | 'E_MULTIHASH'
  | 'E_ADDRESS'
  | 'E_MODALITY'
  | 'E_NAME'
  | 'E_FIELD'
  | 'E_HASH_MISMATCH'
  | 'E_NOT_FOUND'
  | 'E_PRECONDITION'
  | 'E_CONFLICT'
  | 'E_LINEAGE'
  | 'E_RANGE'
  | 'E_BAD_REQUEST'
  | 'E_TOO_LARGE'
  | 'E_FORBIDDEN'
  | 'E_UNAUTHORIZED'
  | 'E_RATE_LIMITED'
  | 'E_QUOTA'
  | 'E_ERASED'
  | 'E_UNSUPPORTED'
  | 'E_STORE'
  | 'E_STORE_TIMEOUT';

/** The one error type of the engine: a stable code plus a message that names the offending input. */
export class EngineError extends Error {
  readonly code: EngineErrorCode;

  constructor(code: EngineErrorCode, detail: string) {
    super(`${code}: ${detail}`);
    this.name = 'EngineError';
    this.code = code;
  }
}

/** Quote an input for an error message, cut short so a huge input cannot flood a log line. */
export function quote(value: unknown): string {
  let text: string;
  if (typeof value === 'string') text = JSON.stringify(value);
  else if (typeof value === 'bigint') text = `${value}n`;
  else if (value instanceof Uint8Array) text = `<${value.length} bytes>`;
  else {
    try {
      text = JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v)) ?? String(value);
    } catch {
      text = String(value);
    }
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
