// What every chatctl command runs with, and the shape of a command module: a registrar that adds
// the command to a commander program and hands its work to `run`, which supplies the context.
import type { Command } from 'commander';
import type { CallOptions, RaftchatClient } from '../../client/index.js';
import type { CliConfig } from '../config.js';
import type { Output } from '../output.js';
import { NotLoggedInError } from './errors.js';
import type { PasswordSource } from './password.js';
import type { Session, SessionStore } from './session.js';

export interface CommandContext {
  config: CliConfig;
  out: Output;
  client: RaftchatClient;
  session: SessionStore;
  passwords: PasswordSource;
  /** Aborts on Ctrl+C: calls are cancelled and long-running commands (watch) return. */
  signal: AbortSignal;
}

export type CommandAction = (ctx: CommandContext) => Promise<void>;

/** Builds the context from the global flags, runs the action, reports its error and exit code. */
export type Run = (action: CommandAction) => Promise<void>;

/** Adds one command (or a group) to the program. New commands (e.g. `chaos`) are one more of these. */
export type CommandRegistrar = (program: Command, run: Run) => void;

/** The cached session, with its token installed on the client; NotLoggedInError without one. */
export async function requireSession(ctx: CommandContext): Promise<Session> {
  const session = await ctx.session.load();
  if (session === undefined) throw new NotLoggedInError();
  ctx.client.setToken(session.token);
  return session;
}

export function callOptions(ctx: CommandContext): CallOptions {
  return { deadlineMs: ctx.config.timeoutMs, signal: ctx.signal };
}
