/** A complete top-level ISO-BMFF box: its four-character type and all its bytes (header included). */
export interface Box {
  readonly type: string;
  readonly bytes: Uint8Array;
}

/** Concatenate chunks into one array (one copy). */
function concat(chunks: readonly Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1 && chunks[0]!.length === size) return chunks[0]!;
  const out = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk.subarray(0, Math.min(chunk.length, size - at)), at);
    at += chunk.length;
    if (at >= size) break;
  }
  return out;
}

/**
 * Split a byte stream (an fMP4 muxer's output) into top-level boxes as each completes. At most one box
 * and the start of the next are held in memory, so a long recording streams through in fragment-sized
 * pieces.
 */
export async function* topLevelBoxes(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Box> {
  let held: Uint8Array[] = [];
  let heldBytes = 0;
  let need = 8; // bytes of the current box, once its header is read
  let known = false;
  const header = (): { size: number; type: string } | undefined => {
    const first = concat(held, Math.min(heldBytes, 16));
    const view = new DataView(first.buffer, first.byteOffset, first.byteLength);
    const size32 = view.getUint32(0);
    const type = String.fromCharCode(first[4]!, first[5]!, first[6]!, first[7]!);
    if (size32 === 1) {
      if (first.length < 16) return undefined;
      return { size: Number(view.getBigUint64(8)), type };
    }
    if (size32 === 0) throw new Error(`box ${type} runs to the end of the file, which a stream cannot frame`);
    if (size32 < 8) throw new Error(`box ${type} has an impossible size ${size32}`);
    return { size: size32, type };
  };
  let type = '';
  for await (const chunk of chunks) {
    held.push(chunk);
    heldBytes += chunk.length;
    while (heldBytes >= need) {
      if (!known) {
        const h = header();
        if (!h) {
          need = 16;
          break;
        }
        need = h.size;
        type = h.type;
        known = true;
        continue;
      }
      const all = concat(held, heldBytes);
      yield { type, bytes: all.subarray(0, need) };
      const rest = all.subarray(need);
      held = rest.length > 0 ? [rest] : [];
      heldBytes = rest.length;
      need = 8;
      known = false;
    }
  }
  if (heldBytes > 0) throw new Error(`the stream ends inside a box (${heldBytes} bytes left over)`);
}
