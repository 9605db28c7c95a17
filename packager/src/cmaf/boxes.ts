/** A complete top-level ISO-BMFF box: its four-character type and all its bytes (header included). */
export interface Box {
  readonly type: string;
  readonly bytes: Uint8Array;
}

/**
 * Split a byte stream (an fMP4 muxer's output) into top-level boxes as each completes. Each box's bytes
 * are copied once, chunk by chunk, into an array of the box's size, so memory holds one box and the
 * start of the next. With `glue`, a box of that type (moof) is not yielded alone: it comes out together
 * with the box that follows it (its mdat), as one array and the type of the first (a CMAF fragment).
 */
export async function* topLevelBoxes(chunks: AsyncIterable<Uint8Array>, glue?: string): AsyncGenerator<Box> {
  const head = new Uint8Array(16); // the header being read
  let headFill = 0;
  let need = 8; // header bytes needed: 8, or 16 with a 64-bit size
  let target: Uint8Array | undefined; // the box (and anything glued before it) being filled
  let fill = 0;
  let type = '';
  let glued: Uint8Array | undefined; // a finished box waiting for the next one
  let gluedType = '';
  for await (const chunk of chunks) {
    let at = 0;
    while (at < chunk.length) {
      if (!target) {
        const take = Math.min(need - headFill, chunk.length - at);
        head.set(chunk.subarray(at, at + take), headFill);
        headFill += take;
        at += take;
        if (headFill < need) continue;
        const view = new DataView(head.buffer);
        const size32 = view.getUint32(0);
        type = String.fromCharCode(head[4]!, head[5]!, head[6]!, head[7]!);
        if (size32 === 1 && need === 8) {
          need = 16;
          continue;
        }
        if (size32 === 0)
          throw new Error(`box ${type} runs to the end of the file, which a stream cannot frame`);
        const size = size32 === 1 ? Number(view.getBigUint64(8)) : size32;
        if (size < need) throw new Error(`box ${type} has an impossible size ${size}`);
        const prefix = glued?.length ?? 0;
        target = new Uint8Array(prefix + size);
        if (glued) target.set(glued, 0);
        target.set(head.subarray(0, need), prefix);
        fill = prefix + need;
        headFill = 0;
        need = 8;
      }
      const take = Math.min(target.length - fill, chunk.length - at);
      target.set(chunk.subarray(at, at + take), fill);
      fill += take;
      at += take;
      if (fill < target.length) continue;
      const done = target;
      target = undefined;
      if (glued) {
        yield { type: gluedType, bytes: done };
        glued = undefined;
      } else if (type === glue) {
        glued = done;
        gluedType = type;
      } else yield { type, bytes: done };
    }
  }
  if (target || headFill > 0 || glued) {
    throw new Error(
      `the stream ends inside a box (${fill + headFill + (glued?.length ?? 0)} bytes left over)`,
    );
  }
}
