import { BLOCK_SHIFT, type PostingBlocks } from './blocks.js';
import type { PostingList } from './postings-page.js';

/**
 * Walks one checked posting list in ordinal order (document-at-a-time). Positions are read only for
 * the postings a phrase asks about; the ones passed over are skipped byte by byte. Given the list's
 * blocks, `advanceTo` jumps over whole blocks that end before its target without reading them.
 */
export class PostingCursor {
  /** Current ordinal; Infinity once past the last posting. */
  ord = -1;
  tf = 0;
  dl = 0;
  mask = 0;
  private readonly bytes: Uint8Array;
  private at: number;
  private left: number;
  private positionsAt: number;
  /** Position varints to skip before the current posting's positions. */
  private skip = 0;
  private current: number[] | undefined;

  constructor(
    readonly list: PostingList,
    private readonly blocks?: PostingBlocks,
  ) {
    this.bytes = list.bytes;
    this.at = list.docsStart;
    this.left = list.df;
    this.positionsAt = list.positionsStart;
  }

  private varint(): number {
    const bytes = this.bytes;
    let byte = bytes[this.at++]!;
    if (byte < 0x80) return byte;
    let value = byte & 0x7f;
    let scale = 0x80;
    do {
      byte = bytes[this.at++]!;
      value += (byte & 0x7f) * scale;
      scale *= 0x80;
    } while (byte >= 0x80);
    return value;
  }

  /** Move to the next posting; false (and ord = Infinity) past the last. */
  next(): boolean {
    if (this.current === undefined) this.skip += this.tf;
    this.current = undefined;
    if (this.left === 0) {
      this.ord = Number.POSITIVE_INFINITY;
      return false;
    }
    this.left--;
    const gap = this.varint();
    this.ord = this.ord < 0 ? gap : this.ord + gap;
    this.tf = this.varint();
    this.dl = this.varint();
    this.mask = this.varint();
    return true;
  }

  /** Index of the block holding the current posting (the last block once past the end). */
  get block(): number {
    return (this.list.df - this.left - 1) >> BLOCK_SHIFT;
  }

  /** Move to the first posting at or after `target`. */
  advanceTo(target: number): void {
    if (this.ord >= target) return;
    const blocks = this.blocks;
    if (blocks !== undefined && this.ord >= 0) {
      let b = this.block;
      const last = blocks.last;
      if (target > last[b]!) {
        do b++;
        while (b < blocks.count && last[b]! < target);
        if (b === blocks.count) {
          this.left = 0;
          this.ord = Number.POSITIVE_INFINITY;
          return;
        }
        // Just before block b's first posting: its ordinal is a gap from the previous block's last.
        this.at = blocks.docsAt[b]!;
        this.ord = last[b - 1]!;
        this.left = this.list.df - (b << BLOCK_SHIFT);
        this.positionsAt = blocks.positionsAt[b]!;
        this.skip = 0;
        this.tf = 0;
        this.current = undefined;
      }
    }
    while (this.ord < target && this.next()) {}
  }

  /** Positions of the current posting (read once, then kept until the cursor moves). */
  positions(): number[] {
    if (this.current) return this.current;
    const bytes = this.bytes;
    let at = this.positionsAt;
    for (let n = this.skip; n > 0; at++) if (bytes[at]! < 0x80) n--;
    const out: number[] = new Array(this.tf);
    let position = 0;
    for (let i = 0; i < this.tf; i++) {
      let byte = bytes[at++]!;
      let value = byte & 0x7f;
      let scale = 0x80;
      while (byte >= 0x80) {
        byte = bytes[at++]!;
        value += (byte & 0x7f) * scale;
        scale *= 0x80;
      }
      position = i === 0 ? value : position + value;
      out[i] = position;
    }
    this.positionsAt = at;
    this.skip = 0;
    this.current = out;
    return out;
  }
}
