// The window of App messages sent to one follower and not yet acknowledged (pipelining, §10.2.1 of the
// thesis): a fixed-size ring buffer of each message's last index and byte count.

export class Inflights {
  private readonly capacity: number;
  private readonly maxBytes: number;
  private readonly lastIndexes: Float64Array;
  private readonly sizesBytes: Float64Array;
  private start = 0;
  private countValue = 0;
  private bytesInFlight = 0;

  constructor(capacity: number, maxBytes = Infinity) {
    this.capacity = capacity;
    this.maxBytes = maxBytes;
    this.lastIndexes = new Float64Array(capacity);
    this.sizesBytes = new Float64Array(capacity);
  }

  get count(): number {
    return this.countValue;
  }

  full(): boolean {
    return this.countValue === this.capacity || this.bytesInFlight >= this.maxBytes;
  }

  /** Record an App whose last entry is `lastIndex`; indexes must increase. */
  add(lastIndex: number, sizeBytes: number): void {
    if (this.countValue === this.capacity) throw new Error('inflights: add to a full window');
    const slot = (this.start + this.countValue) % this.capacity;
    this.lastIndexes[slot] = lastIndex;
    this.sizesBytes[slot] = sizeBytes;
    this.countValue++;
    this.bytesInFlight += sizeBytes;
  }

  /** The follower acknowledged everything up to `index`: free those messages. */
  freeLE(index: number): void {
    while (this.countValue > 0 && (this.lastIndexes[this.start] as number) <= index) {
      this.bytesInFlight -= this.sizesBytes[this.start] as number;
      this.start = (this.start + 1) % this.capacity;
      this.countValue--;
    }
    if (this.countValue === 0) this.start = 0;
  }

  /** Forget the oldest message: a heartbeat answer proves the follower alive, so probe past a lost App. */
  freeFirstOne(): void {
    if (this.countValue === 0) return;
    this.freeLE(this.lastIndexes[this.start] as number);
  }

  reset(): void {
    this.start = 0;
    this.countValue = 0;
    this.bytesInFlight = 0;
  }
}
