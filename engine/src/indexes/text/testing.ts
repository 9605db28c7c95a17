import { random } from '../../testing/random.js';
import type { TextDoc } from './build.js';

/**
 * Test fixtures: a seeded PRNG and random caption-like documents, so a failure can be replayed.
 * Used by the tests beside this file and by bench/text.ts.
 */

const WORDS = (
  'camera lens drift calibration calibrate failed running runs run red car parking lot state of the art ' +
  'a an the person walks walking dog cup table meeting starts speaker says hello world error warning ' +
  'light dark frame frames video audio noise signal signals sensor sensors'
).split(' ');

/** `count` random documents over a small vocabulary: captions with one field, notes with two. */
export function randomDocs(count: number, seed: number, words: readonly string[] = WORDS): TextDoc[] {
  const next = random(seed);
  const pick = () => words[Math.floor(next() * next() * words.length)]!;
  const sentence = (n: number) => Array.from({ length: 1 + Math.floor(next() * n) }, pick).join(' ');
  return Array.from({ length: count }, (_, i) => {
    const caption = next() < 0.7;
    return {
      track: caption ? 'captions' : 'notes',
      tick: BigInt(i) * 2_000_000_000n + BigInt(Math.floor(next() * 1000)),
      duration: caption ? 2_000_000_000n : 0n,
      fields: caption
        ? [{ name: 'text', text: sentence(12) }]
        : [
            { name: 'label', text: sentence(2) },
            { name: 'note', text: sentence(8) },
          ],
    };
  });
}
