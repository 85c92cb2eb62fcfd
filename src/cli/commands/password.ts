// Where passwords come from — never argv: `--password-stdin`, RAFTCHAT_PASSWORD, or a hidden
// prompt when stdin is a terminal.
import { createInterface } from 'node:readline';
import { Writable, type Readable } from 'node:stream';
import { CommandFailedError, UsageError } from './errors.js';

export interface PasswordOptions {
  /** Read the whole of stdin (one trailing newline removed). */
  fromStdin?: boolean;
  /** Ask twice and insist on the same answer (registration). */
  confirm?: boolean;
}

export interface PasswordSource {
  read(prompt: string, options?: PasswordOptions): Promise<string>;
}

/** Asks the terminal without echoing what is typed. */
export type HiddenPrompt = (prompt: string) => Promise<string>;

export interface PasswordSourceDependencies {
  stdin: Readable & { isTTY?: boolean };
  passwordFromEnv: string | undefined;
  /** Present only when a terminal can be asked. */
  prompt: HiddenPrompt | undefined;
}

export function createPasswordSource(deps: PasswordSourceDependencies): PasswordSource {
  return {
    async read(prompt, options = {}) {
      if (options.fromStdin === true) return nonEmpty(await readAll(deps.stdin), 'stdin');
      if (deps.passwordFromEnv !== undefined) return deps.passwordFromEnv;
      if (deps.prompt === undefined) {
        throw new UsageError('no password: use --password-stdin, set RAFTCHAT_PASSWORD, or run in a terminal');
      }
      const first = await deps.prompt(prompt);
      if (options.confirm === true && (await deps.prompt('again: ')) !== first) {
        throw new CommandFailedError('the passwords did not match');
      }
      return nonEmpty(first, 'the prompt');
    },
  };
}

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

function nonEmpty(password: string, from: string): string {
  if (password === '') throw new UsageError(`empty password from ${from}`);
  return password;
}

/** A hidden prompt on a terminal: readline echoes into a sink that drops everything. */
export function terminalPrompt(input: Readable, output: NodeJS.WritableStream): HiddenPrompt {
  return (prompt) =>
    new Promise((resolve, reject) => {
      output.write(prompt);
      const muted = new Writable({ write: (_chunk, _encoding, done) => done() });
      const rl = createInterface({ input, output: muted, terminal: true });
      rl.on('SIGINT', () => {
        rl.close();
        output.write('\n');
        reject(new CommandFailedError('cancelled'));
      });
      rl.question('', (answer) => {
        rl.close();
        output.write('\n');
        resolve(answer);
      });
    });
}
