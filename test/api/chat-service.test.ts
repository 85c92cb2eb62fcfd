// ChatService end to end over loopback gRPC: the API over the real state machine and a real keyspace.
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { ReadConsistency } from '../../src/gen/chat/v1/chat.js';
import { call, rejectsWith, signUp, startHarness, type Harness } from './helpers/harness.js';

describe('ChatService', function () {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  it('registers an account, logs in and reports the unread count and the token expiry', async () => {
    const registered = await call(h.chat.register.bind(h.chat), { username: 'alice', password: 'correct horse battery' });
    assert.equal(registered.username, 'alice');
    const before = Date.now();
    const login = await call(h.chat.login.bind(h.chat), { username: 'alice', password: 'correct horse battery' });
    assert.equal(login.username, 'alice');
    assert.equal(login.unreadCount, 0);
    assert.ok(login.token.length > 20);
    assert.ok(login.expiresAtUnixMs >= before + 3_600_000 - 1000);
  });

  it('hashes the password before proposing: the log carries a hash and a salt, never the password', async () => {
    await call(h.chat.register.bind(h.chat), { username: 'alice', password: 'correct horse battery' });
    const command = h.replica.proposed[0]?.kind;
    assert.equal(command?.$case, 'register');
    if (command?.$case !== 'register') return;
    assert.ok(command.value.passwordHash.length >= 16);
    assert.ok(command.value.salt.length >= 8);
    assert.ok(!Buffer.from(command.value.passwordHash).toString('utf8').includes('correct horse'));
    assert.ok(Math.abs(command.value.createdAtUnixMs - Date.now()) < 60_000);
  });

  it('refuses a second account with a taken username with ALREADY_EXISTS', async () => {
    await call(h.chat.register.bind(h.chat), { username: 'alice', password: 'correct horse battery' });
    await rejectsWith(call(h.chat.register.bind(h.chat), { username: 'alice', password: 'another password' }), status.ALREADY_EXISTS);
  });

  it('answers a wrong password and an unknown user with the same UNAUTHENTICATED message', async () => {
    await call(h.chat.register.bind(h.chat), { username: 'alice', password: 'correct horse battery' });
    const wrong = await rejectsWith(call(h.chat.login.bind(h.chat), { username: 'alice', password: 'wrong password' }), status.UNAUTHENTICATED);
    const unknown = await rejectsWith(call(h.chat.login.bind(h.chat), { username: 'nobody', password: 'wrong password' }), status.UNAUTHENTICATED);
    assert.equal(wrong.details, 'invalid username or password');
    assert.equal(unknown.details, wrong.details);
  });

  it('sends a message that the recipient lists, with the sender taken from the token', async () => {
    const alice = await signUp(h, 'alice');
    const bob = await signUp(h, 'bob');
    const sent = await call(h.chat.sendMessage.bind(h.chat), { recipient: 'bob', body: 'hello bob', requestId: '' }, alice);
    assert.equal(sent.duplicate, false);
    assert.equal(sent.message?.sender, 'alice');
    assert.equal(sent.message?.recipient, 'bob');
    assert.ok((sent.message?.id ?? 0) > 0);

    const inbox = await call(h.chat.listMessages.bind(h.chat), { unreadOnly: false, afterId: 0, limit: 0, consistency: ReadConsistency.READ_CONSISTENCY_LINEARIZABLE }, bob);
    assert.deepEqual(inbox.messages.map((m) => [m.id, m.sender, m.body, m.read]), [[sent.message?.id, 'alice', 'hello bob', false]]);
    assert.equal(inbox.more, false);
    const empty = await call(h.chat.listMessages.bind(h.chat), { unreadOnly: false, afterId: 0, limit: 0, consistency: ReadConsistency.READ_CONSISTENCY_STALE }, alice);
    assert.deepEqual(empty.messages, []);
  });

  it('reports the unread count at login', async () => {
    const alice = await signUp(h, 'alice');
    await signUp(h, 'bob');
    for (const body of ['one', 'two', 'three']) await call(h.chat.sendMessage.bind(h.chat), { recipient: 'bob', body, requestId: '' }, alice);
    const login = await call(h.chat.login.bind(h.chat), { username: 'bob', password: 'correct horse battery' });
    assert.equal(login.unreadCount, 3);
  });

  it('pages through messages with limit and after_id, and filters unread ones', async () => {
    const alice = await signUp(h, 'alice');
    const bob = await signUp(h, 'bob');
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) {
      const sent = await call(h.chat.sendMessage.bind(h.chat), { recipient: 'bob', body: `m${i}`, requestId: '' }, alice);
      ids.push(sent.message!.id);
    }
    const list = (afterId: number, limit: number, unreadOnly = false) =>
      call(h.chat.listMessages.bind(h.chat), { unreadOnly, afterId, limit, consistency: ReadConsistency.READ_CONSISTENCY_LINEARIZABLE }, bob);
    const first = await list(0, 2);
    assert.deepEqual(first.messages.map((m) => m.body), ['m0', 'm1']);
    assert.equal(first.more, true);
    const rest = await list(first.messages[1]!.id, 10);
    assert.deepEqual(rest.messages.map((m) => m.body), ['m2', 'm3', 'm4']);
    assert.equal(rest.more, false);

    const marked = await call(h.chat.markRead.bind(h.chat), { ids: [ids[0]!, ids[2]!] }, bob);
    assert.equal(marked.updated, 2);
    const unread = await list(0, 0, true);
    assert.deepEqual(unread.messages.map((m) => m.body), ['m1', 'm3', 'm4']);
  });

  it('deletes messages from the caller\'s inbox', async () => {
    const alice = await signUp(h, 'alice');
    const bob = await signUp(h, 'bob');
    const a = await call(h.chat.sendMessage.bind(h.chat), { recipient: 'bob', body: 'a', requestId: '' }, alice);
    const b = await call(h.chat.sendMessage.bind(h.chat), { recipient: 'bob', body: 'b', requestId: '' }, alice);
    const deleted = await call(h.chat.deleteMessages.bind(h.chat), { ids: [a.message!.id] }, bob);
    assert.equal(deleted.deleted, 1);
    const inbox = await call(h.chat.listMessages.bind(h.chat), { unreadOnly: false, afterId: 0, limit: 0, consistency: 0 }, bob);
    assert.deepEqual(inbox.messages.map((m) => m.id), [b.message!.id]);
  });

  it('lets no user read, mark or delete another user\'s messages', async () => {
    const alice = await signUp(h, 'alice');
    const bob = await signUp(h, 'bob');
    const mallory = await signUp(h, 'mallory');
    const sent = await call(h.chat.sendMessage.bind(h.chat), { recipient: 'bob', body: 'for bob only', requestId: '' }, alice);
    const id = sent.message!.id;

    const seen = await call(h.chat.listMessages.bind(h.chat), { unreadOnly: false, afterId: 0, limit: 0, consistency: 0 }, mallory);
    assert.deepEqual(seen.messages, []);
    // Either refused or a no-op; what matters is that bob's message is untouched.
    const marked = await call(h.chat.markRead.bind(h.chat), { ids: [id] }, mallory).then((r) => r.updated, () => 0);
    const deleted = await call(h.chat.deleteMessages.bind(h.chat), { ids: [id] }, mallory).then((r) => r.deleted, () => 0);
    assert.equal(marked, 0);
    assert.equal(deleted, 0);
    const inbox = await call(h.chat.listMessages.bind(h.chat), { unreadOnly: false, afterId: 0, limit: 0, consistency: 0 }, bob);
    assert.deepEqual(inbox.messages.map((m) => [m.id, m.read]), [[id, false]]);
  });

  it('returns the first result for a retried send with the same request_id and stores one copy', async () => {
    const alice = await signUp(h, 'alice');
    const bob = await signUp(h, 'bob');
    const request = { recipient: 'bob', body: 'exactly once', requestId: 'req-1' };
    const first = await call(h.chat.sendMessage.bind(h.chat), request, alice);
    const retry = await call(h.chat.sendMessage.bind(h.chat), request, alice);
    assert.equal(first.duplicate, false);
    assert.equal(retry.duplicate, true);
    assert.equal(retry.message?.id, first.message?.id);
    const inbox = await call(h.chat.listMessages.bind(h.chat), { unreadOnly: false, afterId: 0, limit: 0, consistency: 0 }, bob);
    assert.equal(inbox.messages.length, 1);
  });

  it('reports NOT_FOUND for a message to an account that does not exist', async () => {
    const alice = await signUp(h, 'alice');
    await rejectsWith(call(h.chat.sendMessage.bind(h.chat), { recipient: 'ghost', body: 'hello?', requestId: '' }, alice), status.NOT_FOUND);
  });

  it('lists accounts matching a glob, a page at a time, to a logged-in user', async () => {
    const token = await signUp(h, 'alice');
    for (const name of ['bob', 'bobby', 'carol']) await call(h.chat.register.bind(h.chat), { username: name, password: 'correct horse battery' });
    const all = await call(h.chat.listAccounts.bind(h.chat), { pattern: '', pageSize: 0, pageToken: '', consistency: 0 }, token);
    assert.deepEqual(all.usernames, ['alice', 'bob', 'bobby', 'carol']);
    const first = await call(h.chat.listAccounts.bind(h.chat), { pattern: 'bob*', pageSize: 1, pageToken: '', consistency: 0 }, token);
    assert.deepEqual(first.usernames, ['bob']);
    assert.notEqual(first.nextPageToken, '');
    const second = await call(h.chat.listAccounts.bind(h.chat), { pattern: 'bob*', pageSize: 1, pageToken: first.nextPageToken, consistency: ReadConsistency.READ_CONSISTENCY_STALE }, token);
    assert.deepEqual(second.usernames, ['bobby']);
    await rejectsWith(call(h.chat.listAccounts.bind(h.chat), { pattern: '', pageSize: 0, pageToken: '', consistency: 0 }), status.UNAUTHENTICATED);
  });

  it('deletes the account only with the right password, and then its token is refused', async () => {
    const alice = await signUp(h, 'alice');
    await rejectsWith(call(h.chat.deleteAccount.bind(h.chat), { password: 'not the password' }, alice), status.PERMISSION_DENIED, /password/);
    await call(h.chat.deleteAccount.bind(h.chat), { password: 'correct horse battery' }, alice);
    await rejectsWith(call(h.chat.listMessages.bind(h.chat), { unreadOnly: false, afterId: 0, limit: 0, consistency: 0 }, alice), status.UNAUTHENTICATED);
    await rejectsWith(call(h.chat.login.bind(h.chat), { username: 'alice', password: 'correct horse battery' }), status.UNAUTHENTICATED);
  });

  it('does not let a token of a deleted account into a new account of the same name', async () => {
    const old = await signUp(h, 'alice');
    await call(h.chat.deleteAccount.bind(h.chat), { password: 'correct horse battery' }, old);
    const fresh = await signUp(h, 'alice', 'a brand new password');
    await call(h.chat.listMessages.bind(h.chat), { unreadOnly: false, afterId: 0, limit: 0, consistency: 0 }, fresh);
    await rejectsWith(call(h.chat.listMessages.bind(h.chat), { unreadOnly: false, afterId: 0, limit: 0, consistency: 0 }, old), status.UNAUTHENTICATED);
  });
});
