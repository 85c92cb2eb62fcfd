// The simulation's state machine: an append-only list of the commands applied, one per log index.
// Its state is fully durable once applied (like the real store, which writes the applied index in the
// same batch as the change), and its snapshot is the whole list.

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class ListStateMachine {
  /** commands[i - 1] is the command applied at log index i ('' for a leader's no-op). */
  private readonly commands: string[];

  private constructor(commands: string[]) {
    this.commands = commands;
  }

  static empty(): ListStateMachine {
    return new ListStateMachine([]);
  }

  /**
   * The state a snapshot through `index` carries. Empty data is a bootstrap snapshot: nothing was
   * applied through it but the founding configuration.
   */
  static fromSnapshot(index: number, data: Uint8Array): ListStateMachine {
    if (data.length === 0) return new ListStateMachine(new Array<string>(index).fill(''));
    const parsed: unknown = JSON.parse(decoder.decode(data));
    if (!Array.isArray(parsed) || !parsed.every((c) => typeof c === 'string') || parsed.length !== index) {
      throw new Error(`snapshot data at ${index} is not a list of ${index} commands`);
    }
    return new ListStateMachine(parsed as string[]);
  }

  get appliedIndex(): number {
    return this.commands.length;
  }

  commandAt(index: number): string | undefined {
    return this.commands[index - 1];
  }

  /** Apply the command at `index`, which must be the next one: the list has no gaps. */
  apply(index: number, command: string): void {
    if (index !== this.commands.length + 1) {
      throw new Error(`apply at ${index} but applied is ${this.commands.length}`);
    }
    this.commands.push(command);
  }

  /** The snapshot of the state through `index` (<= appliedIndex). */
  snapshotData(index: number): Uint8Array {
    return encoder.encode(JSON.stringify(this.commands.slice(0, index)));
  }
}
