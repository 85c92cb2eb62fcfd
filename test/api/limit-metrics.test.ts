// Every API limit, tripped over real gRPC, is reported to the observer once under its own name
// (raftchat_api_limit_exceeded_total{limit}), with the status code the caller always got for it.
import assert from 'node:assert/strict';
import { status, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import { limitNames, type ApiLimits, type LimitName } from '../../src/api/index.js';
import { ChatServiceService, type Message } from '../../src/gen/chat/v1/chat.js';
import { createMetrics, grpcServerMetricsInterceptor } from '../../src/metrics/index.js';
import { bearer, call, waitFor } from './helpers/harness.js';
import { startLimitHarness, type LimitHarness } from './helpers/limit-harness.js';

const password = 'correct horse battery';
const noPaging = { pageToken: '', consistency: 0 };

interface Row {
  limit: LimitName;
  /** What trips it, for the test's name. */
  request: string;
  /** The gRPC code the refusal has always had (validation codes do not change). */
  code: keyof typeof status;
  limits?: Partial<ApiLimits>;
  /** Trips the limit (once); resolves with the code the caller saw. */
  trip(h: LimitHarness, token: string): Promise<string>;
}

/** The code a unary call ended with ('OK' when it succeeded). */
async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'OK';
  } catch (err) {
    return status[(err as ServiceError).code];
  }
}

/** The code a Subscribe stream ended with. */
function streamEnd(stream: ClientReadableStream<Message>): Promise<string> {
  return new Promise((resolve) => stream.on('error', (err: ServiceError) => resolve(status[err.code])));
}

const rows: Row[] = [
  {
    limit: 'max_receive_bytes',
    request: 'a SendMessage larger than the receive limit',
    code: 'RESOURCE_EXHAUSTED',
    limits: { maxBodyBytes: 1024, maxReceiveBytes: 16 * 1024 },
    trip: (h, token) => codeOf(call(h.chat.sendMessage.bind(h.chat), { recipient: 'alice', body: 'x'.repeat(32 * 1024), requestId: '' }, token)),
  },
  {
    limit: 'body_bytes',
    request: 'a SendMessage body over max_body_bytes',
    code: 'RESOURCE_EXHAUSTED',
    limits: { maxBodyBytes: 1024 },
    trip: (h, token) => codeOf(call(h.chat.sendMessage.bind(h.chat), { recipient: 'alice', body: 'x'.repeat(1025), requestId: '' }, token)),
  },
  {
    limit: 'username_length',
    request: 'a Register username over 32 characters',
    code: 'INVALID_ARGUMENT',
    trip: (h) => codeOf(call(h.chat.register.bind(h.chat), { username: 'a'.repeat(33), password })),
  },
  {
    limit: 'password_length',
    request: 'a Register password over 256 bytes',
    code: 'INVALID_ARGUMENT',
    trip: (h) => codeOf(call(h.chat.register.bind(h.chat), { username: 'carol', password: 'p'.repeat(257) })),
  },
  {
    limit: 'password_length',
    request: 'a Login password over 1024 bytes',
    code: 'INVALID_ARGUMENT',
    trip: (h) => codeOf(call(h.chat.login.bind(h.chat), { username: 'alice', password: 'p'.repeat(1025) })),
  },
  {
    limit: 'request_id_length',
    request: 'a SendMessage request_id over 64 characters',
    code: 'INVALID_ARGUMENT',
    trip: (h, token) => codeOf(call(h.chat.sendMessage.bind(h.chat), { recipient: 'alice', body: 'hi', requestId: 'r'.repeat(65) }, token)),
  },
  {
    limit: 'pattern_length',
    request: 'a ListAccounts pattern over 64 characters',
    code: 'INVALID_ARGUMENT',
    trip: (h, token) => codeOf(call(h.chat.listAccounts.bind(h.chat), { pattern: 'a'.repeat(65), pageSize: 0, ...noPaging }, token)),
  },
  {
    limit: 'page_size',
    request: 'a ListAccounts page_size over 1000',
    code: 'INVALID_ARGUMENT',
    trip: (h, token) => codeOf(call(h.chat.listAccounts.bind(h.chat), { pattern: '', pageSize: 1001, ...noPaging }, token)),
  },
  {
    limit: 'page_size',
    request: 'a ListMessages limit over 1000',
    code: 'INVALID_ARGUMENT',
    trip: (h, token) => codeOf(call(h.chat.listMessages.bind(h.chat), { unreadOnly: false, afterId: 0, limit: 1001, consistency: 0 }, token)),
  },
  {
    limit: 'ids_count',
    request: 'a MarkRead of more than 1000 ids',
    code: 'INVALID_ARGUMENT',
    trip: (h, token) => codeOf(call(h.chat.markRead.bind(h.chat), { ids: Array.from({ length: 1001 }, (_, i) => i + 1) }, token)),
  },
  {
    limit: 'subscriptions_per_user',
    request: 'a Subscribe over the streams per user',
    code: 'RESOURCE_EXHAUSTED',
    limits: { maxSubscriptionsPerUser: 1 },
    trip: async (h, token) => {
      const first = h.chat.subscribe({ afterId: 0 }, bearer(token));
      first.on('error', () => undefined);
      await waitFor(() => h.api.subscriptions.streams('alice') === 1, 5_000, 'the first stream');
      const code = await streamEnd(h.chat.subscribe({ afterId: 0 }, bearer(token)));
      first.cancel();
      return code;
    },
  },
  {
    limit: 'subscription_backlog',
    request: 'a Subscribe whose buffer overflows during its replay',
    code: 'RESOURCE_EXHAUSTED',
    limits: { maxPendingMessagesPerSubscription: 2 },
    trip: (h, token) => {
      // While the stream replays, messages applied meanwhile are buffered: three overflow a bound of two.
      h.replica.duringReadBarrier = async () => {
        h.replica.duringReadBarrier = undefined;
        for (let id = 100; id < 103; id++) {
          h.replica.events.emit('message', { id, sender: 'alice', recipient: 'alice', body: 'hi', sentAtUnixMs: 0, read: false });
        }
      };
      return streamEnd(h.chat.subscribe({ afterId: 0 }, bearer(token)));
    },
  },
  {
    limit: 'inflight_per_connection',
    request: 'a call over the in-flight limit of its connection',
    code: 'RESOURCE_EXHAUSTED',
    limits: { maxInFlightPerConnection: 1 },
    trip: async (h, token) => {
      const held = h.chat.subscribe({ afterId: 0 }, bearer(token));
      held.on('error', () => undefined);
      await waitFor(() => h.api.subscriptions.streams('alice') === 1, 5_000, 'the held stream');
      const code = await codeOf(call(h.chat.listAccounts.bind(h.chat), { pattern: '', pageSize: 0, ...noPaging }, token));
      held.cancel();
      return code;
    },
  },
  {
    limit: 'login_throttle_username',
    request: 'a Login after the failures of its username',
    code: 'RESOURCE_EXHAUSTED',
    limits: { loginFailureBurstPerUsername: 1 },
    trip: async (h) => {
      await codeOf(call(h.chat.login.bind(h.chat), { username: 'alice', password: 'wrong password' }));
      return codeOf(call(h.chat.login.bind(h.chat), { username: 'alice', password }));
    },
  },
  {
    limit: 'login_throttle_peer',
    request: 'a Login after the failures of its address',
    code: 'RESOURCE_EXHAUSTED',
    limits: { loginFailureBurstPerPeer: 1 },
    trip: async (h) => {
      await codeOf(call(h.chat.login.bind(h.chat), { username: 'mallory', password: 'wrong password' }));
      return codeOf(call(h.chat.login.bind(h.chat), { username: 'alice', password }));
    },
  },
];

describe('the limit-exceeded count', function () {
  it('has a row below for every limit name', () => {
    assert.deepEqual([...new Set(rows.map((r) => r.limit))].sort(), [...limitNames].sort());
  });

  for (const row of rows) {
    it(`counts ${row.limit} once for ${row.request}, answered ${row.code} as before`, async () => {
      const h = await startLimitHarness(row.limits);
      try {
        await call(h.chat.register.bind(h.chat), { username: 'alice', password });
        const { token } = await call(h.chat.login.bind(h.chat), { username: 'alice', password });
        assert.deepEqual(h.exceeded, [], 'nothing counted while setting up');
        const code = await row.trip(h, token);
        assert.equal(code, row.code);
        await waitFor(() => h.exceeded.length > 0, 2_000, 'the refusal to be counted');
        assert.deepEqual(h.exceeded, [row.limit]);
      } finally {
        await h.close();
      }
    });
  }

  it('does not count a request refused for anything but its size', async () => {
    const h = await startLimitHarness();
    try {
      await call(h.chat.register.bind(h.chat), { username: 'alice', password });
      const { token } = await call(h.chat.login.bind(h.chat), { username: 'alice', password });
      const refusals = [
        call(h.chat.register.bind(h.chat), { username: 'Not Valid', password }),
        call(h.chat.register.bind(h.chat), { username: 'carol', password: 'short' }),
        call(h.chat.sendMessage.bind(h.chat), { recipient: 'alice', body: '', requestId: '' }, token),
        call(h.chat.sendMessage.bind(h.chat), { recipient: 'alice', body: 'hi', requestId: 'tab\there' }, token),
        call(h.chat.listAccounts.bind(h.chat), { pattern: 'UPPER', pageSize: 0, ...noPaging }, token),
        call(h.chat.markRead.bind(h.chat), { ids: [] }, token),
        call(h.chat.login.bind(h.chat), { username: 'alice', password: 'wrong password' }),
      ];
      for (const refusal of refusals) assert.notEqual(await codeOf(refusal), 'OK');
      assert.deepEqual(h.exceeded, []);
    } finally {
      await h.close();
    }
  });

  it('reaches /metrics as chatd wires it: the limit counter, and grpc_server_handled_total for a refusal before any handler', async () => {
    const metrics = createMetrics({ nodeId: 'n0', defaultMetrics: false });
    const h = await startLimitHarness({ maxInFlightPerConnection: 1 }, { interceptors: [grpcServerMetricsInterceptor(metrics)], observer: metrics.apiObserver });
    metrics.grpc.initialize(ChatServiceService);
    try {
      await call(h.chat.register.bind(h.chat), { username: 'alice', password });
      const { token } = await call(h.chat.login.bind(h.chat), { username: 'alice', password });
      const held = h.chat.subscribe({ afterId: 0 }, bearer(token));
      held.on('error', () => undefined);
      await waitFor(() => h.api.subscriptions.streams('alice') === 1, 5_000, 'the held stream');
      assert.equal(await codeOf(call(h.chat.listAccounts.bind(h.chat), { pattern: '', pageSize: 0, ...noPaging }, token)), 'RESOURCE_EXHAUSTED');
      held.cancel();
      const text = await metrics.registry.metrics();
      assert.match(text, /^raftchat_api_limit_exceeded_total\{limit="inflight_per_connection"\} 1$/m);
      assert.match(text, /^grpc_server_handled_total\{[^}]*grpc_method="ListAccounts"[^}]*grpc_code="ResourceExhausted"[^}]*\} 1$/m);
    } finally {
      await h.close();
    }
  });
});
