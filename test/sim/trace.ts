// The run's event log. Off by default (a fast run records nothing); a failing seed is replayed with
// it on, which both prints the last events and proves the seed replays.
import { MessageType, type Message } from '../../src/raft/index.js';

export class Trace {
  private readonly events: string[] = [];
  private digestValue = 0x811c9dc5;
  private count = 0;

  /** `keepLast`: how many events to keep (0 = all). */
  constructor(readonly enabled: boolean, private readonly keepLast = 0) {}

  /** Record one event. Callers guard with `if (trace.enabled)` so a fast run builds no strings. */
  add(step: number, text: string): void {
    const line = `${step} ${text}`;
    this.count++;
    // FNV-1a over every event: two replays of a seed must agree on it.
    for (let i = 0; i < line.length; i++) {
      this.digestValue = Math.imul(this.digestValue ^ line.charCodeAt(i), 0x01000193) >>> 0;
    }
    this.events.push(line);
    if (this.keepLast > 0 && this.events.length > this.keepLast * 2) {
      this.events.splice(0, this.events.length - this.keepLast);
    }
  }

  last(n: number): string[] {
    return this.events.slice(-n);
  }

  get eventCount(): number {
    return this.count;
  }

  /** A hash of every event recorded, in order. */
  get digest(): string {
    return this.digestValue.toString(16).padStart(8, '0');
  }
}

/** One line for a message in the trace. */
export function describeMessage(message: Message): string {
  const parts = [`${message.from}->${message.to}`, MessageType[message.type] ?? String(message.type), `t${message.term}`];
  if (message.type === MessageType.App || message.type === MessageType.AppResp) {
    parts.push(`i${message.index}`, `lt${message.logTerm}`, `c${message.commit}`);
    if (message.entries.length > 0) parts.push(`e${message.entries[0]?.index}..${message.entries.at(-1)?.index}`);
  }
  if (message.reject) parts.push(`reject(hint ${message.rejectHint}/t${message.hintTerm})`);
  if (message.snapshot !== undefined) parts.push(`snap(${message.snapshot.metadata.index}, t${message.snapshot.metadata.term})`);
  return parts.join(' ');
}
