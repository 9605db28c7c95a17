import { EngineError } from '../../errors.js';

/**
 * Unsigned LEB128 varints, the integer form of every text-index payload (spec 0015 §4.1): seven bits per
 * byte, least significant group first, high bit set on every byte but the last. Minimal: a decoder
 * refuses a varint with a trailing zero group (any byte 0x80 followed by nothing but a final 0x00).
 */

/** A growable byte buffer that varints are appended to. */
export class ByteWriter {
  bytes: Uint8Array;
  length = 0;

  constructor(capacity = 16) {
    this.bytes = new Uint8Array(capacity);
  }

  private room(n: number): void {
    if (this.length + n <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.bytes.subarray(0, this.length));
    this.bytes = next;
  }

  /** Append a u32 (0 to 2^32-1) as a varint. */
  u32(value: number): void {
    this.room(5);
    let v = value >>> 0;
    while (v >= 0x80) {
      this.bytes[this.length++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.bytes[this.length++] = v;
  }

  /** Append a u64 (a bigint 0 to 2^64-1) as a varint. */
  u64(value: bigint): void {
    if (value < 0x100000000n) {
      this.u32(Number(value));
      return;
    }
    this.room(10);
    let v = value;
    while (v >= 0x80n) {
      this.bytes[this.length++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.bytes[this.length++] = Number(v);
  }

  /** Append raw bytes. */
  append(bytes: Uint8Array): void {
    this.room(bytes.length);
    this.bytes.set(bytes, this.length);
    this.length += bytes.length;
  }

  /** The bytes written so far (a view). */
  view(): Uint8Array {
    return this.bytes.subarray(0, this.length);
  }
}

/**
 * Reads varints from bytes [at, end), refusing truncated, over-long and out-of-range ones with
 * E_FIELD naming `what`.
 */
export class ByteReader {
  constructor(
    readonly bytes: Uint8Array,
    public at: number,
    readonly end: number,
    readonly what: string,
  ) {}

  get done(): boolean {
    return this.at >= this.end;
  }

  private fail(why: string): never {
    throw new EngineError('E_FIELD', `${this.what}: ${why} at byte ${this.at}`);
  }

  /** A u32 varint (at most 5 bytes, value below 2^32). */
  u32(): number {
    const { bytes, end } = this;
    let value = 0;
    let shift = 0;
    for (let i = 0; i < 5; i++) {
      if (this.at >= end) this.fail('varint runs past the end');
      const byte = bytes[this.at++]!;
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) {
        if (byte === 0 && i > 0) this.fail('varint is not minimal');
        if (value > 0xffffffff) this.fail('varint is over 2^32-1');
        return value;
      }
      shift += 7;
    }
    return this.fail('varint is over 5 bytes');
  }

  /** A u64 varint (at most 10 bytes, value below 2^64). */
  u64(): bigint {
    const start = this.at;
    let value = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.at >= this.end) this.fail('varint runs past the end');
      const byte = this.bytes[this.at++]!;
      value |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) {
        if (byte === 0 && i > 0) {
          this.at = start;
          this.fail('varint is not minimal');
        }
        if (value >= 1n << 64n) this.fail('varint is over 2^64-1');
        return value;
      }
      shift += 7n;
    }
    return this.fail('varint is over 10 bytes');
  }
}
