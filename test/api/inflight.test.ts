// Calls in flight per client connection: held calls fill the limit, the next is refused before any
// work, and a slot comes back exactly once however a call ends (answer, cancel, deadline, disconnect).
import assert from 'node:assert/strict';
import { connect } from 'node:http2';
import { status, type ClientUnaryCall, type ServiceError } from '@grpc/grpc-js';
import { ListAccountsRequest, type ChatServiceClient } from '../../src/gen/chat/v1/chat.js';
import { bearer, call, waitFor } from './helpers/harness.js';
import { startLimitHarness, type LimitHarness } from './helpers/limit-harness.js';

const maxInFlight = 4;

const listAccounts = { pattern: '', pageSize: 0, pageToken: '', consistency: 0 };

interface HeldCall {
  call: ClientUnaryCall;
  /** How the call ended: its status code's name and details. */
  ended: Promise<{ code: string; details: string }>;
}

/**
 * A linearizable ListAccounts without credentials: it waits in the replica's read barrier until the
 * test opens the gate, then fails UNAUTHENTICATED (any answer will do: it ends the call).
 */
function heldCall(client: ChatServiceClient, deadlineMs = 10_000): HeldCall {
  let unary: ClientUnaryCall | undefined;
  const ended = new Promise<{ code: string; details: string }>((resolve) => {
    unary = client.listAccounts(listAccounts, bearer(undefined), { deadline: Date.now() + deadlineMs }, (err: ServiceError | null) =>
      resolve(err === null ? { code: 'OK', details: '' } : { code: status[err.code], details: err.details }),
    );
  });
  return { call: unary!, ended };
}

describe('the in-flight limit per connection', function () {
  let h: LimitHarness;
  let openGate: () => void;
  beforeEach(async () => {
    h = await startLimitHarness({ maxInFlightPerConnection: maxInFlight });
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    h.replica.duringReadBarrier = () => gate;
  });
  afterEach(async () => {
    openGate();
    await h.close();
  });

  async function fill(client: ChatServiceClient): Promise<HeldCall[]> {
    const held = Array.from({ length: maxInFlight }, () => heldCall(client));
    await waitFor(() => h.api.inFlight.open() === maxInFlight, 5_000, `${maxInFlight} calls to be in flight`);
    return held;
  }

  it('refuses one call more than the limit with RESOURCE_EXHAUSTED, before the handler runs', async () => {
    await fill(h.chat);
    const barriersBefore = h.replica.deadlines.length;
    const refused = await heldCall(h.chat).ended;
    assert.equal(refused.code, 'RESOURCE_EXHAUSTED');
    assert.match(refused.details, /too many calls in flight on this connection \(at most 4\)/);
    assert.equal(h.replica.deadlines.length, barriersBefore, 'the refused call reached no read barrier');
    assert.equal(h.api.inFlight.open(), maxInFlight);
    assert.deepEqual(h.exceeded, ['inflight_per_connection']);
    assert.ok(!h.handled.some((c) => c.method === 'ListAccounts'), 'no handler saw the refused call');
  });

  it('gives the slots back when the calls are answered', async () => {
    const held = await fill(h.chat);
    openGate();
    for (const c of held) assert.equal((await c.ended).code, 'UNAUTHENTICATED');
    await waitFor(() => h.api.inFlight.open() === 0, 5_000, 'every slot to be released');
    assert.equal((await heldCall(h.chat).ended).code, 'UNAUTHENTICATED');
    assert.equal(h.api.inFlight.open(), 0);
  });

  it('gives a slot back when the client cancels, and admits the next call', async () => {
    const held = await fill(h.chat);
    held[0]!.call.cancel();
    await waitFor(() => h.api.inFlight.open() === maxInFlight - 1, 5_000, 'the cancelled call\'s slot');
    heldCall(h.chat);
    await waitFor(() => h.api.inFlight.open() === maxInFlight, 5_000, 'the next call to be admitted');
    assert.equal((await heldCall(h.chat).ended).code, 'RESOURCE_EXHAUSTED');
  });

  it('gives a slot back when the call\'s deadline passes', async () => {
    const expiring = heldCall(h.chat, 300);
    await waitFor(() => h.api.inFlight.open() === 1, 5_000, 'the call to be in flight');
    assert.equal((await expiring.ended).code, 'DEADLINE_EXCEEDED');
    await waitFor(() => h.api.inFlight.open() === 0, 5_000, 'the expired call\'s slot');
  });

  it('gives every slot back when the client\'s connection drops', async () => {
    // A bare HTTP/2 session: its calls are the limit's whole count, and destroying it drops the TCP
    // connection under them, as a crashed client or a cut network would.
    const session = connect(`http://${h.address}`);
    session.on('error', () => undefined);
    const request = ListAccountsRequest.encode(listAccounts).finish();
    const frame = Buffer.concat([Buffer.from([0, 0, 0, 0, request.length]), request]);
    for (let i = 0; i < maxInFlight; i++) {
      const stream = session.request({
        ':method': 'POST',
        ':path': '/chat.v1.ChatService/ListAccounts',
        'content-type': 'application/grpc',
        te: 'trailers',
      });
      stream.on('error', () => undefined);
      stream.end(frame);
    }
    await waitFor(() => h.api.inFlight.open() === maxInFlight, 5_000, 'the raw calls to be in flight');
    session.destroy();
    await waitFor(() => h.api.inFlight.open() === 0, 5_000, 'the slots of the dropped connection');
  });

  it('counts each connection on its own', async () => {
    await fill(h.chat);
    const other = h.newClient();
    const admitted = heldCall(other);
    await waitFor(() => h.api.inFlight.open() === maxInFlight + 1, 5_000, 'the other connection\'s call');
    openGate();
    assert.equal((await admitted.ended).code, 'UNAUTHENTICATED');
  });

  it('counts Subscribe streams for as long as they are open', async () => {
    h.replica.duringReadBarrier = undefined;
    await call(h.chat.register.bind(h.chat), { username: 'alice', password: 'correct horse battery' });
    const { token } = await call(h.chat.login.bind(h.chat), { username: 'alice', password: 'correct horse battery' });
    const streams = Array.from({ length: maxInFlight }, () => h.chat.subscribe({ afterId: 0 }, bearer(token)));
    for (const s of streams) s.on('error', () => undefined);
    await waitFor(() => h.api.subscriptions.streams('alice') === maxInFlight, 5_000, 'the streams to be live');
    assert.equal(h.api.inFlight.open(), maxInFlight);
    const refused = h.chat.subscribe({ afterId: 0 }, bearer(token));
    const err = await new Promise<ServiceError>((resolve) => refused.on('error', resolve));
    assert.equal(status[err.code], 'RESOURCE_EXHAUSTED');
    streams[0]!.cancel();
    await waitFor(() => h.api.inFlight.open() === maxInFlight - 1, 5_000, 'the cancelled stream\'s slot');
  });
});
