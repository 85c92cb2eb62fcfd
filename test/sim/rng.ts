// The simulator's one source of chance: every choice in a run is drawn from an Rng seeded by the
// run's seed, so a seed replays the same history, step for step.
import { mulberry32 } from '../../src/raft/index.js';

export class Rng {
  private readonly nextFloat: () => number;

  constructor(seed: number) {
    this.nextFloat = mulberry32(seed >>> 0);
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.nextFloat();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.nextFloat() * n);
  }

  /** Uniform integer in [lo, hi], both ends included. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(probability: number): boolean {
    return probability > 0 && this.nextFloat() < probability;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('Rng.pick from an empty list');
    return items[this.int(items.length)] as T;
  }

  /** A new array with `items` in a random order (Fisher–Yates). */
  shuffled<T>(items: readonly T[]): T[] {
    const out = items.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = out[i] as T;
      out[i] = out[j] as T;
      out[j] = tmp;
    }
    return out;
  }

  /** A seed for an independent child generator (one per node, so nodes do not share a stream). */
  childSeed(): number {
    return Math.floor(this.nextFloat() * 0x1_0000_0000) >>> 0;
  }
}
