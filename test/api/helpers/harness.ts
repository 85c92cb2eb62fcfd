// A real API server on 127.0.0.1:0 over an InMemoryReplica, with generated grpc-js clients, and small
// promise wrappers so tests read as the calls they make.
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { pino } from 'pino';
import { startApiServer, type ApiObserver, type ApiServer } from '../../../src/api/index.js';
import type { ApiLimits } from '../../../src/api/options.js';
import { ChatServiceClient, ClusterServiceClient } from '../../../src/gen/chat/v1/chat.js';
import { InMemoryReplica } from './in-memory-replica.js';

export const tokenKey = new Uint8Array(32).fill(7);

export interface HarnessOptions {
  adminToken?: string;
  tokenTtlMs?: number;
  limits?: Partial<ApiLimits>;
  observer?: ApiObserver;
}

export interface Harness {
  replica: InMemoryReplica;
  api: ApiServer;
  address: string;
  chat: ChatServiceClient;
  cluster: ClusterServiceClient;
  close(): Promise<void>;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const replica = await InMemoryReplica.open();
  const api = await startApiServer({
    replica,
    address: '127.0.0.1:0',
    auth: { tokenKey, tokenTtlMs: options.tokenTtlMs ?? 3_600_000, adminToken: options.adminToken },
    limits: { healthPollIntervalMs: 20, ...options.limits },
    logger: pino({ level: 'silent' }),
    observer: options.observer,
  });
  const address = `127.0.0.1:${api.port}`;
  const chat = new ChatServiceClient(address, grpc.credentials.createInsecure());
  const cluster = new ClusterServiceClient(address, grpc.credentials.createInsecure());
  return {
    replica,
    api,
    address,
    chat,
    cluster,
    async close() {
      chat.close();
      cluster.close();
      await api.close();
      await replica.close();
    },
  };
}

type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: grpc.Metadata,
  options: Partial<grpc.CallOptions>,
  callback: (error: grpc.ServiceError | null, response: Res) => void,
) => grpc.ClientUnaryCall;

/** Calls a unary method with `authorization: Bearer <token>` when a token is given. */
export function call<Req, Res>(method: UnaryMethod<Req, Res>, request: Req, token?: string): Promise<Res> {
  return new Promise<Res>((resolve, reject) => {
    method(request, bearer(token), { deadline: Date.now() + 10_000 }, (err, response) => (err === null ? resolve(response) : reject(err)));
  });
}

export function bearer(token: string | undefined): grpc.Metadata {
  const metadata = new grpc.Metadata();
  if (token !== undefined) metadata.set('authorization', `Bearer ${token}`);
  return metadata;
}

/** Asserts that `promise` fails with gRPC `code` and details matching `details`. */
export async function rejectsWith(promise: Promise<unknown>, code: grpc.status, details?: RegExp): Promise<grpc.ServiceError> {
  try {
    await promise;
  } catch (err) {
    const e = err as grpc.ServiceError;
    assert.equal(grpc.status[e.code], grpc.status[code], `expected ${grpc.status[code]}, got ${grpc.status[e.code]}: ${e.details}`);
    if (details !== undefined) assert.match(e.details, details);
    return e;
  }
  assert.fail(`expected ${grpc.status[code]}, but the call succeeded`);
}

/** Registers `username` and logs in; returns the session token. */
export async function signUp(h: Harness, username: string, password = 'correct horse battery'): Promise<string> {
  await call(h.chat.register.bind(h.chat), { username, password });
  const login = await call(h.chat.login.bind(h.chat), { username, password });
  return login.token;
}

/** Waits for `predicate` to hold, polling, up to `timeoutMs` (a condition, not a sleep). */
export async function waitFor(predicate: () => boolean | Promise<boolean>, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
