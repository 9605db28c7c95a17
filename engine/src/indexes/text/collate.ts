/**
 * Code point order of strings (the order of their UTF-8 bytes), which terms, field names and track
 * names are sorted by (spec 0015 §4). JavaScript's `<` compares UTF-16 code units, which differs only
 * when a surrogate pair meets a character in U+E000-U+FFFF.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // A surrogate (0xd800-0xdfff) stands for a code point above 0xffff: it sorts after 0xe000-0xffff.
    const fx = x >= 0xd800 && x <= 0xdfff ? x + 0x2000 : x >= 0xe000 ? x - 0x800 : x;
    const fy = y >= 0xd800 && y <= 0xdfff ? y + 0x2000 : y >= 0xe000 ? y - 0x800 : y;
    return fx - fy;
  }
  return a.length - b.length;
}

/** Sorted distinct values, in code point order. */
export function sortedUnique(values: Iterable<string>): string[] {
  return [...new Set(values)].sort(compareCodePoints);
}
