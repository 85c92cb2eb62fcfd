// Progress on stderr while the benchmark runs: a line per phase and a ticking counter, so a long
// run shows it is alive. Results go to stdout, so `npm run bench > out.txt` keeps them apart.

export class ProgressLine {
  private readonly tty = process.stderr.isTTY === true;
  private lastPrintMs = 0;
  private pending = false;

  phase(text: string): void {
    this.finishTick();
    process.stderr.write(`[${clock()}] ${text}\n`);
  }

  /** Rewrites the current line on a terminal; elsewhere prints at most one line every 2 s. */
  tick(text: string): void {
    const now = Date.now();
    if (this.tty) {
      process.stderr.write(`\r  ${text}\x1b[K`);
      this.pending = true;
    } else if (now - this.lastPrintMs >= 2_000) {
      process.stderr.write(`  ${text}\n`);
      this.lastPrintMs = now;
    }
  }

  private finishTick(): void {
    if (this.pending) process.stderr.write('\n');
    this.pending = false;
  }
}

function clock(): string {
  return new Date().toISOString().slice(11, 19);
}
