// Coalescing sends: every call made during one event-loop turn shares one flush at the turn's end,
// so many small sends leave as one batch on the wire (Raft messages, forwarded commands, outcomes).

export class TurnFlush {
  private scheduled = false;

  constructor(private readonly flush: () => void) {}

  /** Runs the flush once, at the end of this event-loop turn, however often it is asked for. */
  schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }
}
