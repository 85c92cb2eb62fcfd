// One full garbage collection once a replica comes to rest after a burst of work. V8 keeps the heap
// that a burst of load grew (its old generation only shrinks in a full collection), and a replica at
// rest allocates too little — heartbeats and timers — to start one: measured, a replica that had
// served the benchmark's C=256 load held 150–200 MiB of V8 heap, most of it garbage, 30 s later.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** V8's full collection, exposed at run time (as `node --expose-gc` would). */
function exposeGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

export interface IdleCollectorOptions {
  /** A number that moves while the replica works (its applied index). */
  progress: () => number;
  /** How often to look; a rest is one whole interval without progress. */
  intervalMs: number;
  onCollect?: (freedBytes: number, ms: number) => void;
}

/**
 * The decision, one look at a time: collect at the first look that finds no progress since the one
 * before, after progress was seen; then not again until progress moves again.
 */
export class IdleCollector {
  private last: number;
  private workedSinceCollect = false;

  constructor(
    private readonly progress: () => number,
    private readonly collect: () => void,
  ) {
    this.last = progress();
  }

  /** Returns whether this look collected. */
  look(): boolean {
    const now = this.progress();
    if (now !== this.last) {
      this.last = now;
      this.workedSinceCollect = true;
      return false;
    }
    if (!this.workedSinceCollect) return false;
    this.workedSinceCollect = false;
    this.collect();
    return true;
  }
}

/**
 * Collects once after each stretch of work that is followed by a rest of at least `intervalMs`;
 * nothing while the replica works or while it stays at rest. Returns a function that stops it.
 */
export function collectWhenIdle(options: IdleCollectorOptions): () => void {
  const gc = exposeGc();
  const collector = new IdleCollector(options.progress, () => {
    const before = process.memoryUsage().heapUsed;
    const startedAt = performance.now();
    gc();
    options.onCollect?.(before - process.memoryUsage().heapUsed, performance.now() - startedAt);
  });
  const timer = setInterval(() => collector.look(), options.intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
