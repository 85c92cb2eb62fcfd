// `chatctl shell`: an interactive prompt running the same commands, with one client and session
// for the whole sitting and the logged-in user's new messages printed live above the prompt.
import { clearLine, createInterface, cursorTo, type Interface } from 'node:readline';
import { Writable, type Readable } from 'node:stream';
import type { Command } from 'commander';
import { RaftchatClient, type RaftchatClientOptions } from '../../client/index.js';
import { formatError, formatMessage, type Output } from '../output.js';
import { channelCredentials, type CliConfig } from '../config.js';
import type { CommandContext, Run } from './context.js';
import { UsageError } from './errors.js';
import { createPasswordSource, type HiddenPrompt, type PasswordSource } from './password.js';
import { formatRetry, runChatctl, type ChatctlDependencies } from './program.js';
import { SessionStore } from './session.js';
import { splitWords } from './words.js';

export interface ShellIo {
  input: Readable;
  output: NodeJS.WritableStream;
  /** Whether to drive the terminal (prompt, hidden password input, redraw). */
  terminal: boolean;
}

const HELP = [
  'commands (the same as chatctl <command>; try "<command> --help"):',
  '  register <username>         login <username>          logout [--all]',
  '  accounts [pattern]          send <to> <text...>       read [--unread] [--after <id>]',
  '  watch [--after <id>]        mark-read <ids...>        delete <ids...>',
  '  delete-account              status                    members [list|add|remove]',
  '  transfer-leader [to]        digest                    help | exit',
  'new messages for the logged-in user appear as they arrive.',
];

/** Echo that can be switched off while a password is typed. */
class MutableOutput extends Writable {
  muted = false;
  constructor(private readonly target: NodeJS.WritableStream) {
    super();
  }
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    if (!this.muted) this.target.write(chunk);
    done();
  }
}

export async function runShell(config: CliConfig, deps: ChatctlDependencies, io: ShellIo): Promise<void> {
  const echo = new MutableOutput(io.output);
  /** Not waiting at the prompt: output goes straight out, the prompt comes back when input is due. */
  let busy = true;
  let isClosed = false;
  const rl = createInterface({ input: io.input, output: echo, terminal: io.terminal, prompt: 'raftchat> ' });
  const print = (line: string): void => {
    if (io.terminal) {
      clearLine(io.output, 0);
      cursorTo(io.output, 0);
    }
    io.output.write(`${line}\n`);
    if (io.terminal && !busy && !isClosed) rl.prompt(true);
  };
  const out: Output = { stdout: print, stderr: print };
  const clientOptions: RaftchatClientOptions = {
    servers: config.servers,
    deadlineMs: config.timeoutMs,
    onRetry: (event) => out.stderr(formatRetry(event)),
    ...(config.adminToken === undefined ? {} : { adminToken: config.adminToken }),
    ...channelCredentials(config),
  };
  const client = (deps.createClient ?? ((o) => new RaftchatClient(o)))(clientOptions);
  const session = new SessionStore(config.configDir);
  const prompt: HiddenPrompt | undefined = io.terminal ? (text) => hiddenQuestion(rl, echo, io.output, text) : undefined;
  const fromPromptOrEnv = createPasswordSource({ stdin: io.input, passwordFromEnv: config.passwordFromEnv, prompt });
  const passwords: PasswordSource = {
    read: (text, options = {}) => {
      // The shell's stdin is the command stream itself; reading a password from it would eat the commands.
      if (options.fromStdin === true) return Promise.reject(new UsageError('--password-stdin does not work in the shell'));
      return fromPromptOrEnv.read(text, options);
    },
  };
  const live = new LiveMessages(client, session, out, (name) => rl.setPrompt(`${name}> `));
  let lineController = new AbortController();

  const lineDeps: ChatctlDependencies = {
    ...deps,
    out,
    prompt,
    signal: lineController.signal,
    extraCommands: [],
    sharedContext: (lineConfig): CommandContext => ({
      config: { ...lineConfig, servers: config.servers },
      out,
      client,
      session,
      passwords,
      signal: lineController.signal,
    }),
  };

  const handle = async (line: string): Promise<boolean> => {
    let words: string[];
    try {
      words = splitWords(line);
    } catch (error) {
      out.stderr(`error: ${formatError(error)}`);
      return true;
    }
    const [first] = words;
    if (first === undefined) return true;
    if (first === 'exit' || first === 'quit') return false;
    if (first === 'help' || first === '?') {
      for (const text of HELP) out.stdout(text);
      return true;
    }
    if (first === 'shell') {
      out.stderr('already in the shell');
      return true;
    }
    lineController = new AbortController();
    await runChatctl(words, { ...lineDeps, signal: lineController.signal });
    await live.sync();
    return true;
  };

  // Listen before the first await: readline emits lines as soon as input arrives and drops
  // those nobody listens to. Lines queue behind the greeting and run one at a time.
  const closed = new Promise<void>((resolve) =>
    rl.once('close', () => {
      isClosed = true;
      resolve();
    }),
  );
  const showPrompt = (): void => {
    busy = false;
    if (!isClosed) rl.prompt();
  };
  let queue: Promise<boolean> = (async () => {
    out.stdout('raftchat shell: type "help" for commands, "exit" to leave');
    await live.sync();
    showPrompt();
    return true;
  })();
  rl.on('SIGINT', () => {
    if (busy) lineController.abort();
    else rl.close();
  });
  rl.on('line', (line) => {
    queue = queue.then(async (open) => {
      if (!open) return false;
      busy = true;
      const keepOpen = await handle(line);
      if (keepOpen) showPrompt();
      else rl.close();
      return keepOpen;
    });
  });
  await closed;
  await queue;
  lineController.abort();
  await live.stop();
  client.close();
}

/** Asks on the shell's own readline with echo off, so two readers never fight over stdin. */
function hiddenQuestion(rl: Interface, echo: MutableOutput, output: NodeJS.WritableStream, text: string): Promise<string> {
  return new Promise((resolve) => {
    output.write(text);
    echo.muted = true;
    rl.question('', (answer) => {
      echo.muted = false;
      output.write('\n');
      resolve(answer);
    });
  });
}

/** The background watch of the logged-in user's inbox; restarted whenever the session changes. */
class LiveMessages {
  private token: string | undefined;
  private controller: AbortController | undefined;
  private running: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly client: RaftchatClient,
    private readonly session: SessionStore,
    private readonly out: Output,
    private readonly onUser: (username: string) => void,
  ) {}

  async sync(): Promise<void> {
    const current = await this.session.load().catch(() => undefined);
    if (current?.token === this.token) return;
    await this.stop();
    this.token = current?.token;
    this.onUser(current?.username ?? 'raftchat');
    if (current === undefined) return;
    this.client.setToken(current.token);
    const controller = new AbortController();
    this.controller = controller;
    // Replay then live; what the user has already read is not news.
    this.running = this.client
      .watch({
        afterId: 0,
        signal: controller.signal,
        onRetry: () => undefined,
        onMessage: (message) => {
          if (!message.read) this.out.stdout(`new: ${formatMessage(message)}`);
        },
      })
      .catch((error: unknown) => this.out.stderr(`live messages stopped: ${formatError(error)}`));
  }

  async stop(): Promise<void> {
    this.controller?.abort();
    this.controller = undefined;
    await this.running;
  }
}

export function registerShellCommand(program: Command, run: Run, deps: ChatctlDependencies): void {
  program
    .command('shell')
    .description('interactive prompt: the same commands, with new messages shown as they arrive')
    .action(() =>
      run(async (ctx) => {
        ctx.client.close();
        const terminal = deps.stdin.isTTY === true;
        await runShell(ctx.config, deps, { input: deps.stdin, output: deps.stdout, terminal });
      }),
    );
}
