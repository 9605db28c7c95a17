import type { PostingList } from './postings-page.js';

/**
 * Skip data and impact bounds of a posting list, computed from its stored postings the first time a
 * search reads the list and cached with it (no format change: spec 0015 §7, "Pruning"). The postings
 * are cut into blocks of BLOCK_SIZE; per block: its last ordinal, where its document and position
 * streams start, and the (tf, dl) pairs that no other posting of the block dominates (higher or equal
 * tf with lower or equal dl). BM25 weight grows with tf and falls with dl, so the block's largest
 * weight is the largest weight of those pairs, whatever the query's idf, avgdl, k1 and b.
 */

/** log2 of the postings per block. */
export const BLOCK_SHIFT = 6;
/** Postings per block (the last block may hold fewer). */
export const BLOCK_SIZE = 1 << BLOCK_SHIFT;

export interface PostingBlocks {
  /** Number of blocks: ceil(df / BLOCK_SIZE). */
  readonly count: number;
  /** Ordinal of each block's last posting. */
  readonly last: Uint32Array;
  /** Byte offset (in the list's bytes) of each block's first posting in the document stream. */
  readonly docsAt: Uint32Array;
  /** Byte offset of each block's first posting's positions in the position stream. */
  readonly positionsAt: Uint32Array;
  /** Block i's undominated (tf, dl) pairs are frontTf/frontDl[frontStart[i] .. frontStart[i + 1]). */
  readonly frontStart: Uint32Array;
  readonly frontTf: Uint32Array;
  readonly frontDl: Uint32Array;
}

const cache = new WeakMap<PostingList, PostingBlocks>();

/** The blocks of a (checked) posting list, computed once per list object. */
export function postingBlocks(list: PostingList): PostingBlocks {
  let blocks = cache.get(list);
  if (!blocks) {
    blocks = scanBlocks(list);
    cache.set(list, blocks);
  }
  return blocks;
}

function scanBlocks(list: PostingList): PostingBlocks {
  const { bytes, df } = list;
  const count = Math.ceil(df / BLOCK_SIZE);
  const last = new Uint32Array(count);
  const docsAt = new Uint32Array(count);
  const positionsAt = new Uint32Array(count);
  const frontStart = new Uint32Array(count + 1);
  const frontTf: number[] = [];
  const frontDl: number[] = [];
  let at = list.docsStart;
  let pos = list.positionsStart;
  const varint = (): number => {
    let byte = bytes[at++]!;
    let value = byte & 0x7f;
    let scale = 0x80;
    while (byte >= 0x80) {
      byte = bytes[at++]!;
      value += (byte & 0x7f) * scale;
      scale *= 0x80;
    }
    return value;
  };
  // Per block: the shortest dl with tf = 1, and the rarer postings with tf > 1.
  let minDl1 = Number.POSITIVE_INFINITY;
  let many: [number, number][] = [];
  let ord = -1;
  for (let i = 0; i < df; i++) {
    const block = i >> BLOCK_SHIFT;
    if ((i & (BLOCK_SIZE - 1)) === 0) {
      docsAt[block] = at;
      positionsAt[block] = pos;
    }
    const gap = varint();
    ord = i === 0 ? gap : ord + gap;
    const tf = varint();
    const dl = varint();
    varint(); // field mask
    for (let n = tf; n > 0; pos++) if (bytes[pos]! < 0x80) n--;
    if (tf === 1) {
      if (dl < minDl1) minDl1 = dl;
    } else many.push([tf, dl]);
    if ((i & (BLOCK_SIZE - 1)) === BLOCK_SIZE - 1 || i === df - 1) {
      last[block] = ord;
      // Undominated pairs: by tf descending (dl ascending on equal tf), keep each whose dl is below
      // every dl kept so far.
      many.sort((a, b) => b[0] - a[0] || a[1] - b[1]);
      if (minDl1 !== Number.POSITIVE_INFINITY) many.push([1, minDl1]);
      let shortest = Number.POSITIVE_INFINITY;
      for (const [t, d] of many) {
        if (d < shortest) {
          frontTf.push(t);
          frontDl.push(d);
          shortest = d;
        }
      }
      frontStart[block + 1] = frontTf.length;
      minDl1 = Number.POSITIVE_INFINITY;
      many = [];
    }
  }
  return {
    count,
    last,
    docsAt,
    positionsAt,
    frontStart,
    frontTf: Uint32Array.from(frontTf),
    frontDl: Uint32Array.from(frontDl),
  };
}
