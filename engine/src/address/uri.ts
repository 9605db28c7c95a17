import { EngineError, quote } from '../errors.js';
import { assertName } from '../model/names.js';
import { multihashFromHex } from './multihash.js';

/**
 * An item's address: an object (by multihash, in a space) and the byte range [start, end) of the item
 * inside it. Readers treat the range as opaque (spec 0002 §6).
 */
export interface Address {
  readonly space: string;
  /** The object's multihash, 68 lowercase hex characters. */
  readonly object: string;
  /** First byte of the item. */
  readonly start: number;
  /** One past the last byte of the item. */
  readonly end: number;
}

const URI = /^dreamdb:\/\/([^/#?]+)\/([^/#?]+)#bytes:(0|[1-9][0-9]{0,15})-(0|[1-9][0-9]{0,15})$/;

function offset(value: number, what: string, uri: string): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new EngineError('E_ADDRESS', `${quote(uri)}: ${what} ${value} is not a byte offset`);
  }
  return value;
}

/** Parse `dreamdb://<space>/<multihash hex>#bytes:<start>-<end>`; every other spelling is refused. */
export function parseAddress(uri: string): Address {
  const match = typeof uri === 'string' ? URI.exec(uri) : null;
  if (!match) {
    throw new EngineError(
      'E_ADDRESS',
      `${quote(uri)} is not dreamdb://<space>/<multihash>#bytes:<start>-<end>`,
    );
  }
  const space = match[1]!;
  try {
    assertName(space, 'space');
    multihashFromHex(match[2]!);
  } catch (error) {
    throw new EngineError('E_ADDRESS', `${quote(uri)}: ${(error as Error).message}`);
  }
  const start = offset(Number(match[3]), 'start', uri);
  const end = offset(Number(match[4]), 'end', uri);
  if (end < start)
    throw new EngineError('E_ADDRESS', `${quote(uri)}: byte range ends (${end}) before it starts (${start})`);
  return { space, object: match[2]!, start, end };
}

/** The canonical URI of an address. */
export function formatAddress(address: Address): string {
  assertName(address.space, 'space');
  multihashFromHex(address.object);
  const uri = `dreamdb://${address.space}/${address.object}#bytes:${address.start}-${address.end}`;
  offset(address.start, 'start', uri);
  offset(address.end, 'end', uri);
  if (address.end < address.start)
    throw new EngineError('E_ADDRESS', `${quote(uri)}: byte range ends before it starts`);
  return uri;
}
