// Builds the chatctl commander program from the command modules, and runs one command line to an
// exit code: 0 on success, 2 for usage errors, 130 when interrupted, 1 for everything else.
import type { Readable } from 'node:stream';
import { Command, CommanderError } from 'commander';
import { RaftchatCallError, RaftchatClient, type RaftchatClientOptions, type RetryEvent } from '../../client/index.js';
import { status as grpcStatus } from '@grpc/grpc-js';
import { buildCliConfig, channelCredentials, DEFAULT_SERVERS, type CliConfig, type Environment, type GlobalFlags } from '../config.js';
import { conciseDetails, formatError, type Output } from '../output.js';
import { registerAccountCommands } from './account.js';
import { registerAccountsCommand } from './accounts.js';
import { registerChaosCommand } from './chaos.js';
import type { CommandContext, CommandRegistrar, Run } from './context.js';
import { registerDigestCommand } from './digest.js';
import { UsageError } from './errors.js';
import { registerMemberCommands } from './members.js';
import { registerMessageCommands } from './messages.js';
import { createPasswordSource, type HiddenPrompt } from './password.js';
import { SessionStore } from './session.js';
import { registerStatusCommand } from './status.js';
import { registerWatchCommand } from './watch.js';

/** Every command, in the order `chatctl --help` lists them. Add new ones (e.g. chaos) here. */
export const COMMANDS: readonly CommandRegistrar[] = [
  registerAccountCommands,
  registerAccountsCommand,
  registerMessageCommands,
  registerWatchCommand,
  registerStatusCommand,
  registerMemberCommands,
  registerDigestCommand,
  registerChaosCommand,
];

export interface ChatctlDependencies {
  env: Environment;
  out: Output;
  stdin: Readable & { isTTY?: boolean };
  /** The terminal the shell draws on. */
  stdout: NodeJS.WritableStream;
  /** A hidden terminal prompt; undefined when stdin is not a terminal. */
  prompt: HiddenPrompt | undefined;
  /** Aborts on Ctrl+C. */
  signal: AbortSignal;
  createClient?: (options: RaftchatClientOptions) => RaftchatClient;
  /** Set by the shell: every line shares one client and session instead of making its own. */
  sharedContext?: (config: CliConfig) => CommandContext;
  /** Extra registrars (the shell command is added this way by the top-level program). */
  extraCommands?: readonly ((program: Command, run: Run, deps: ChatctlDependencies) => void)[];
}

export interface RunState {
  exitCode: number;
}

/** A retry line, e.g. "UNAVAILABLE from 127.0.0.1:50051 (no leader); retrying on 127.0.0.1:50052 in 240 ms…". */
export function formatRetry(event: RetryEvent): string {
  return `${event.error.codeName} from ${event.failedServer} (${conciseDetails(event.error.details)}); retrying on ${event.server} in ${event.delayMs} ms…`;
}

/** A context that owns its client (closed by `run` when the command finishes). */
export function createContext(config: CliConfig, deps: ChatctlDependencies, signal: AbortSignal = deps.signal): CommandContext {
  const options: RaftchatClientOptions = {
    servers: config.servers,
    deadlineMs: config.timeoutMs,
    onRetry: (event) => deps.out.stderr(formatRetry(event)),
    ...(config.adminToken === undefined ? {} : { adminToken: config.adminToken }),
    ...channelCredentials(config),
  };
  return {
    config,
    out: deps.out,
    client: (deps.createClient ?? ((o) => new RaftchatClient(o)))(options),
    session: new SessionStore(config.configDir),
    passwords: createPasswordSource({
      stdin: deps.stdin,
      passwordFromEnv: config.passwordFromEnv,
      prompt: deps.prompt,
    }),
    signal,
  };
}

export function exitCodeFor(error: unknown, signal: AbortSignal): number {
  if (error instanceof UsageError) return 2;
  if (signal.aborted && error instanceof RaftchatCallError && error.code === grpcStatus.CANCELLED) return 130;
  return 1;
}

export function buildProgram(deps: ChatctlDependencies, state: RunState): Command {
  const program = new Command('chatctl')
    .description('command-line client for raftchat, a replicated chat service')
    .option('--servers <host:port,...>', `replicas to talk to (env RAFTCHAT_SERVERS; default ${DEFAULT_SERVERS})`)
    .option('--json', 'machine-readable output')
    .option('--timeout <ms>', 'overall deadline of each call, retries included (default 10000)')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => deps.out.stdout(text.replace(/\n$/, '')),
      writeErr: (text) => deps.out.stderr(text.replace(/\n$/, '')),
    })
    .showHelpAfterError('(run chatctl --help for usage)');

  const run: Run = async (action) => {
    let ctx: CommandContext | undefined;
    const owned = deps.sharedContext === undefined;
    try {
      const config = buildCliConfig(program.opts<GlobalFlags>(), deps.env);
      ctx = deps.sharedContext?.(config) ?? createContext(config, deps);
      await action(ctx);
    } catch (error) {
      state.exitCode = exitCodeFor(error, ctx?.signal ?? deps.signal);
      deps.out.stderr(`error: ${formatError(error)}`);
    } finally {
      if (owned) ctx?.client.close();
    }
  };
  for (const register of COMMANDS) register(program, run);
  for (const register of deps.extraCommands ?? []) register(program, run, deps);
  return program;
}

/** Parses and runs one command line (without the `node chatctl` prefix); returns the exit code. */
export async function runChatctl(argv: readonly string[], deps: ChatctlDependencies): Promise<number> {
  const state: RunState = { exitCode: 0 };
  const program = buildProgram(deps, state);
  if (argv.length === 0) {
    program.outputHelp({ error: true });
    return 2;
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return state.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    deps.out.stderr(`error: ${formatError(error)}`);
    return 1;
  }
}
