// chatctl's configuration: one typed object built from the global flags and the environment.
// This is the only place the CLI reads process.env.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { ChannelCredentials } from '@grpc/grpc-js';
import path from 'node:path';
import { InvalidServerAddressError, parseServerList } from '../client/index.js';
import { UsageError } from './commands/errors.js';

export const DEFAULT_SERVERS = '127.0.0.1:50051,127.0.0.1:50052,127.0.0.1:50053,127.0.0.1:50054,127.0.0.1:50055';
export const DEFAULT_TIMEOUT_MS = 10_000;

export interface CliConfig {
  /** `host:port` of every replica to try, in order. */
  servers: string[];
  /** Machine-readable output: one JSON document (or one per line for streams) on stdout. */
  json: boolean;
  /** Overall deadline of each call, retries included. */
  timeoutMs: number;
  /** Holds session.json (the cached login). */
  configDir: string;
  /** RAFTCHAT_PASSWORD, for scripts; never taken from argv. */
  passwordFromEnv: string | undefined;
  /** RAFTCHAT_ADMIN_TOKEN: sent on membership and leadership calls when set. */
  adminToken: string | undefined;
  /** RAFTCHAT_TLS_CLIENT=true: talk TLS to the client port, trusting RAFTCHAT_TLS_CA_FILE (else the system roots). */
  tls: { caFile: string | undefined } | undefined;
}

/** The global flags as commander hands them over. */
export interface GlobalFlags {
  servers?: string;
  json?: boolean;
  timeout?: string;
}

export type Environment = Readonly<Record<string, string | undefined>>;

/** The channel credentials for the client port: TLS when configured, else plaintext (none given). */
export function channelCredentials(config: CliConfig): { credentials?: ChannelCredentials } {
  if (config.tls === undefined) return {};
  return { credentials: ChannelCredentials.createSsl(config.tls.caFile === undefined ? null : readFileSync(config.tls.caFile)) };
}

export function buildCliConfig(flags: GlobalFlags, env: Environment = process.env): CliConfig {
  return {
    servers: serversFrom(flags.servers ?? env['RAFTCHAT_SERVERS'] ?? DEFAULT_SERVERS),
    json: flags.json === true,
    timeoutMs: timeoutFrom(flags.timeout),
    configDir: configDirFrom(env),
    passwordFromEnv: nonEmpty(env['RAFTCHAT_PASSWORD']),
    adminToken: nonEmpty(env['RAFTCHAT_ADMIN_TOKEN']),
    tls: env['RAFTCHAT_TLS_CLIENT'] === 'true' ? { caFile: nonEmpty(env['RAFTCHAT_TLS_CA_FILE']) } : undefined,
  };
}

/** $RAFTCHAT_CONFIG_DIR, else $XDG_CONFIG_HOME/raftchat, else ~/.config/raftchat. */
export function configDirFrom(env: Environment): string {
  const explicit = nonEmpty(env['RAFTCHAT_CONFIG_DIR']);
  if (explicit !== undefined) return path.resolve(explicit);
  const xdg = nonEmpty(env['XDG_CONFIG_HOME']);
  return path.join(xdg ?? path.join(nonEmpty(env['HOME']) ?? os.homedir(), '.config'), 'raftchat');
}

function serversFrom(list: string): string[] {
  try {
    const servers = parseServerList(list);
    if (servers.length === 0) throw new UsageError('--servers: give at least one host:port');
    return servers;
  } catch (error) {
    if (error instanceof InvalidServerAddressError) throw new UsageError(`--servers: ${error.message}`);
    throw error;
  }
}

function timeoutFrom(text: string | undefined): number {
  if (text === undefined) return DEFAULT_TIMEOUT_MS;
  const ms = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(ms) || ms <= 0) {
    throw new UsageError(`--timeout must be a positive number of milliseconds, got "${text}"`);
  }
  return ms;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
