// Latency samples of one run, kept whole (a run holds at most a few hundred thousand) so the
// percentiles are exact rather than bucketed.
import type { LatencySummary } from './protocol.js';

export class LatencyRecorder {
  private samplesMs = new Float64Array(1 << 16);
  private count = 0;

  get size(): number {
    return this.count;
  }

  record(latencyMs: number): void {
    if (this.count === this.samplesMs.length) {
      const grown = new Float64Array(this.samplesMs.length * 2);
      grown.set(this.samplesMs);
      this.samplesMs = grown;
    }
    this.samplesMs[this.count++] = latencyMs;
  }

  summary(): LatencySummary {
    return summarize(this.samplesMs.subarray(0, this.count));
  }
}

/** Nearest-rank percentiles (the value at or below which p% of the samples fall). */
export function summarize(samplesMs: Float64Array): LatencySummary {
  if (samplesMs.length === 0) return { p50Ms: NaN, p95Ms: NaN, p99Ms: NaN, meanMs: NaN, maxMs: NaN };
  const sorted = Float64Array.from(samplesMs).sort();
  const at = (p: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
  let total = 0;
  for (const v of sorted) total += v;
  return { p50Ms: at(50), p95Ms: at(95), p99Ms: at(99), meanMs: total / sorted.length, maxMs: sorted[sorted.length - 1]! };
}
