// Reads the replica's status once per scrape: every gauge that derives from it calls read() in its
// collect(), and the first one in a scrape pays for replica.status() while the rest reuse it.
import type { StatusSnapshot, StatusSource } from './status.js';

export class StatusReader {
  private source: StatusSource | undefined;
  private cached: StatusSnapshot | undefined;

  setSource(source: StatusSource): void {
    this.source = source;
    this.cached = undefined;
  }

  /** undefined until a source is set: gauges keep their zero values then. */
  read(): StatusSnapshot | undefined {
    if (this.source === undefined) return undefined;
    if (this.cached === undefined) {
      this.cached = this.source();
      // One registry.metrics() call runs its collect()s in consecutive microtasks; the cache ends
      // with that turn of the event loop, so the next scrape sees fresh values.
      setImmediate(() => {
        this.cached = undefined;
      });
    }
    return this.cached;
  }
}
