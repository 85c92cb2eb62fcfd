// A real API server on 127.0.0.1:0 for the abuse-limit tests: a clock the test moves, limits the
// test sets, and an observer that records every limit refusal and every finished call.
import * as grpc from '@grpc/grpc-js';
import { pino } from 'pino';
import { startApiServer, type ApiObserver, type ApiServer, type HandledCall, type LimitName } from '../../../src/api/index.js';
import type { ApiLimits } from '../../../src/api/options.js';
import { ChatServiceClient } from '../../../src/gen/chat/v1/chat.js';
import { tokenKey } from './harness.js';
import { InMemoryReplica } from './in-memory-replica.js';

export interface LimitHarness {
  replica: InMemoryReplica;
  api: ApiServer;
  address: string;
  chat: ChatServiceClient;
  /** Every limit refusal the observer heard of, in order. */
  exceeded: LimitName[];
  handled: HandledCall[];
  /** The throttle's clock: tests move it forward instead of sleeping. */
  clock: { nowMs: number };
  /** A client on its own connection (grpc-js otherwise shares one between clients of one address). */
  newClient(): ChatServiceClient;
  close(): Promise<void>;
}

export interface LimitHarnessWiring {
  /** Server interceptors, as chatd passes them (the metrics interceptor). */
  interceptors?: grpc.ServerInterceptor[];
  /** Also told of everything the harness records (e.g. a real ReplicaMetrics' apiObserver). */
  observer?: ApiObserver;
}

export async function startLimitHarness(limits: Partial<ApiLimits> = {}, wiring: LimitHarnessWiring = {}): Promise<LimitHarness> {
  const replica = await InMemoryReplica.open();
  const exceeded: LimitName[] = [];
  const handled: HandledCall[] = [];
  const clock = { nowMs: Date.parse('2026-01-01T00:00:00Z') };
  const api = await startApiServer({
    replica,
    address: '127.0.0.1:0',
    auth: { tokenKey, tokenTtlMs: 3_600_000 },
    limits: { healthPollIntervalMs: 20, ...limits },
    logger: pino({ level: 'silent' }),
    observer: {
      callHandled: (c) => {
        handled.push(c);
        wiring.observer?.callHandled(c);
      },
      limitExceeded: (limit) => {
        exceeded.push(limit);
        wiring.observer?.limitExceeded?.(limit);
      },
    },
    interceptors: wiring.interceptors ?? [],
    nowMs: () => clock.nowMs,
  });
  const address = `127.0.0.1:${api.port}`;
  const clients: ChatServiceClient[] = [];
  const newClient = (): ChatServiceClient => {
    const client = new ChatServiceClient(address, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
    clients.push(client);
    return client;
  };
  const chat = newClient();
  return {
    replica,
    api,
    address,
    chat,
    exceeded,
    handled,
    clock,
    newClient,
    async close() {
      for (const client of clients) client.close();
      await api.close();
      await replica.close();
    },
  };
}
