import { type Erasure, type ObjectStore, readRegistry } from '@dreamdb/engine/store';

/**
 * Each space's erasures (spec 0020 §7) as its registry said them, kept a bounded time: the objects route
 * serves an erased object's other bytes from its replacement, and never the erased ones.
 */
export class Erasures {
  readonly #known = new Map<string, { map: ReadonlyMap<string, Erasure>; at: number }>();

  constructor(private readonly store: ObjectStore) {}

  /** The erasures of `space`, read at most `maxAgeMs` ago. */
  async of(space: string, maxAgeMs: number): Promise<ReadonlyMap<string, Erasure>> {
    const known = this.#known.get(space);
    if (known && Date.now() - known.at <= maxAgeMs) return known.map;
    const map = (await readRegistry(this.store, space)).erased;
    if (this.#known.size >= 4096) this.#known.delete(this.#known.keys().next().value as string);
    this.#known.set(space, { map, at: Date.now() });
    return map;
  }

  /** Read `space`'s registry again on next use (this origin just erased there). */
  forget(space: string): void {
    this.#known.delete(space);
  }
}
