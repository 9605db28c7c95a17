/** Shortest-form floats for deterministic CBOR (RFC 8949 §4.2.1), which cbor-x does not do. */

const scratch = new DataView(new ArrayBuffer(8));

/** The IEEE 754 half-precision bits of `value` if the half holds it exactly, else undefined. */
export function exactHalfBits(value: number): number | undefined {
  if (Number.isNaN(value)) return 0x7e00;
  if (value === Number.POSITIVE_INFINITY) return 0x7c00;
  if (value === Number.NEGATIVE_INFINITY) return 0xfc00;
  if (Math.fround(value) !== value) return undefined;
  scratch.setFloat32(0, value);
  const bits = scratch.getUint32(0);
  const sign = (bits >>> 16) & 0x8000;
  const exponent = ((bits >>> 23) & 0xff) - 127;
  const mantissa = bits & 0x7fffff;
  if (exponent === -127 && mantissa === 0) return sign; // +-0
  if (exponent >= -14 && exponent <= 15) {
    if ((mantissa & 0x1fff) !== 0) return undefined;
    return sign | ((exponent + 15) << 10) | (mantissa >>> 13);
  }
  if (exponent < -14 && exponent >= -24) {
    // subnormal half: value = m * 2^-24 with m < 1024
    const scaled = Math.abs(value) * 2 ** 24;
    if (Number.isInteger(scaled) && scaled < 1024) return sign | scaled;
  }
  return undefined;
}

/** The value of half-precision bits. */
export function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 31) return mantissa === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  return sign * (1024 + mantissa) * 2 ** (exponent - 25);
}

/** True when DreamDB's number model writes this value as a CBOR integer rather than a float. */
export function isIntegerValued(value: number): boolean {
  return Number.isInteger(value) && value > -(2 ** 64) && value < 2 ** 64;
}
