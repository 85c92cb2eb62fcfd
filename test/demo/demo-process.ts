// `npm run demo` as a child process driven through stdin, for the demo tests: type a line, wait
// for the output to match.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { waitFor } from '../support/cluster.js';

const repoRoot = path.resolve(import.meta.dirname, '../..');

export class DemoProcess {
  output = '';
  readonly exited: Promise<number | null>;

  /** Starts src/cli/demo.ts with `args`; stdin is a pipe, so it prints lines instead of redrawing. */
  static spawn(args: readonly string[]): DemoProcess {
    return new DemoProcess(spawn(process.execPath, ['--import', 'tsx', 'src/cli/demo.ts', ...args], { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'] }));
  }

  constructor(readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  type(line: string): void {
    this.child.stdin.write(`${line}\n`);
  }

  /** Waits until the output after `from` matches `pattern`; returns the match. */
  async expect(pattern: RegExp, timeoutMs: number, from = 0): Promise<RegExpMatchArray> {
    return waitFor(`the demo to print ${pattern}`, timeoutMs, async () => this.output.slice(from).match(pattern) ?? undefined).catch((err: Error) => {
      throw new Error(`${err.message}\n--- demo output ---\n${this.output}`);
    });
  }
}
