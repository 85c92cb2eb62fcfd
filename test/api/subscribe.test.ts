// Subscribe: replay after after_id, then live messages, with no gap and no duplicate; ends with
// UNAUTHENTICATED when the account is deleted or the session revoked; bounded per user.
import assert from 'node:assert/strict';
import { status, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import type { Message } from '../../src/gen/chat/v1/chat.js';
import { ReplicaError } from '../../src/node/types.js';
import { bearer, call, signUp, startHarness, waitFor, type Harness } from './helpers/harness.js';

interface Subscriber {
  stream: ClientReadableStream<Message>;
  received: Message[];
  ended: Promise<ServiceError>;
}

function subscribe(h: Harness, token: string, afterId: number): Subscriber {
  const stream = h.chat.subscribe({ afterId }, bearer(token));
  const received: Message[] = [];
  stream.on('data', (m: Message) => received.push(m));
  const ended = new Promise<ServiceError>((resolve) => stream.on('error', resolve));
  return { stream, received, ended };
}

describe('ChatService.Subscribe', function () {
  let h: Harness;
  let alice: string;
  let bob: string;
  beforeEach(async () => {
    h = await startHarness({ limits: { maxSubscriptionsPerUser: 2 } });
    alice = await signUp(h, 'alice');
    bob = await signUp(h, 'bob');
  });
  afterEach(async () => {
    await h.close();
  });

  const send = (body: string, recipient = 'bob', token = alice) =>
    call(h.chat.sendMessage.bind(h.chat), { recipient, body, requestId: '' }, token).then((r) => r.message!);

  it('replays the messages after after_id, then streams new ones, each once and in order', async () => {
    const m1 = await send('one');
    await send('two');
    await send('three');
    const sub = subscribe(h, bob, m1.id);
    await waitFor(() => sub.received.length === 2, 5_000, 'the replay');
    await send('not for bob', 'alice', bob);
    await send('four');
    await waitFor(() => sub.received.length === 3, 5_000, 'the live message');
    assert.deepEqual(sub.received.map((m) => m.body), ['two', 'three', 'four']);
    const ids = sub.received.map((m) => m.id);
    assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
    assert.ok(sub.received.every((m) => m.recipient === 'bob'));
    sub.stream.cancel();
  });

  it('loses nothing sent while the replay is running', async () => {
    for (let i = 0; i < 30; i++) await send(`old${i}`);
    const sub = subscribe(h, bob, 0);
    const live = await Promise.all(Array.from({ length: 20 }, (_, i) => send(`new${i}`)));
    await waitFor(() => sub.received.length >= 50, 5_000, 'all 50 messages');
    const bodies = sub.received.map((m) => m.body);
    assert.equal(new Set(bodies).size, 50, 'no duplicates');
    for (const m of live) assert.ok(bodies.includes(m.body));
    const ids = sub.received.map((m) => m.id);
    assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
    sub.stream.cancel();
  });

  it('sends a message applied between joining and replaying once, from the replay, not again from the buffer', async () => {
    await send('before');
    h.replica.duringReadBarrier = async () => {
      h.replica.duringReadBarrier = undefined;
      await send('during the barrier');
    };
    const sub = subscribe(h, bob, 0);
    await waitFor(() => sub.received.length === 2, 5_000, 'the replay');
    await send('after');
    await waitFor(() => sub.received.length === 3, 5_000, 'the live message');
    assert.deepEqual(sub.received.map((m) => m.body), ['before', 'during the barrier', 'after']);
    sub.stream.cancel();
  });

  it('ends with UNAUTHENTICATED when the account is deleted', async () => {
    const sub = subscribe(h, bob, 0);
    await send('hello');
    await waitFor(() => sub.received.length === 1, 5_000, 'the first message');
    await call(h.chat.deleteAccount.bind(h.chat), { password: 'correct horse battery' }, bob);
    const err = await sub.ended;
    assert.equal(err.code, status.UNAUTHENTICATED);
    await waitFor(() => h.api.subscriptions.streams('bob') === 0, 5_000, 'the stream to be removed');
  });

  it('ends with UNAUTHENTICATED when its session is logged out, but not for another session\'s logout', async () => {
    const other = (await call(h.chat.login.bind(h.chat), { username: 'bob', password: 'correct horse battery' })).token;
    const sub = subscribe(h, bob, 0);
    await send('first');
    await waitFor(() => sub.received.length === 1, 5_000, 'the first message');
    await call(h.chat.logout.bind(h.chat), { allSessions: false }, other);
    await send('second');
    await waitFor(() => sub.received.length === 2, 5_000, 'a message after the other session\'s logout');
    await call(h.chat.logout.bind(h.chat), { allSessions: false }, bob);
    const err = await sub.ended;
    assert.equal(err.code, status.UNAUTHENTICATED);
  });

  it('refuses a subscription without a valid token', async () => {
    const sub = subscribe(h, 'not-a-token', 0);
    assert.equal((await sub.ended).code, status.UNAUTHENTICATED);
  });

  it('limits the streams per user with RESOURCE_EXHAUSTED and frees the slot on cancel', async () => {
    const a = subscribe(h, bob, 0);
    const b = subscribe(h, bob, 0);
    await send('ping');
    await waitFor(() => a.received.length === 1 && b.received.length === 1, 5_000, 'both streams live');
    const c = subscribe(h, bob, 0);
    assert.equal((await c.ended).code, status.RESOURCE_EXHAUSTED);
    a.stream.cancel();
    await waitFor(() => h.api.subscriptions.streams('bob') === 1, 5_000, 'the cancelled stream to be cleaned up');
    const d = subscribe(h, bob, 0);
    await waitFor(() => d.received.length === 1, 5_000, 'the replay on a freed slot');
    b.stream.cancel();
    d.stream.cancel();
  });

  it('ends a subscriber whose queue exceeds the bound with RESOURCE_EXHAUSTED', async () => {
    await h.close();
    h = await startHarness({ limits: { maxPendingMessagesPerSubscription: 3 } });
    alice = await signUp(h, 'alice');
    bob = await signUp(h, 'bob');
    const sub = subscribe(h, bob, 0);
    await send('warm-up');
    await waitFor(() => sub.received.length === 1, 5_000, 'the stream to go live');
    sub.stream.pause();
    // Emitted in one go, as a batch applied at once would be: far more than the client can take.
    const body = 'x'.repeat(60_000);
    for (let i = 0; i < 200; i++) {
      h.replica.events.emit('message', { id: 1_000 + i, sender: 'alice', recipient: 'bob', body, sentAtUnixMs: Date.now(), read: false });
    }
    sub.stream.resume();
    const err = await sub.ended;
    assert.equal(err.code, status.RESOURCE_EXHAUSTED);
    assert.match(err.details, /after_id/);
    assert.ok(sub.received.length < 201);
  });

  it('ends every stream with UNAVAILABLE when the server closes, and closes promptly', async () => {
    const sub = subscribe(h, bob, 0);
    await send('hello');
    await waitFor(() => sub.received.length === 1, 5_000, 'the stream to go live');
    const started = Date.now();
    await h.api.close();
    const err = await sub.ended;
    assert.equal(err.code, status.UNAVAILABLE);
    assert.match(err.details, /after_id = \d+/);
    assert.ok(Date.now() - started < 1_500, 'close did not wait for the stream');
  });

  it('rejects a call to a replica without a quorum as UNAVAILABLE', async () => {
    h.replica.failWith = new ReplicaError('UNAVAILABLE', 'no leader');
    const sub = subscribe(h, bob, 0);
    assert.equal((await sub.ended).code, status.UNAVAILABLE);
    assert.match((await sub.ended).details, /retry/);
    assert.equal(h.api.subscriptions.streams(), 0);
  });
});
