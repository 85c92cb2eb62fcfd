// Every malformed request field is refused before anything is proposed, with a code the caller can act
// on and a message that names the field.
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { call, rejectsWith, signUp, startHarness, type Harness } from './helpers/harness.js';

describe('ChatService request validation', function () {
  let h: Harness;
  let alice: string;
  before(async () => {
    h = await startHarness({ limits: { maxBodyBytes: 1024 } });
    alice = await signUp(h, 'alice');
    await call(h.chat.register.bind(h.chat), { username: 'bob', password: 'correct horse battery' });
  });
  after(async () => {
    await h.close();
  });

  const invalid = (promise: Promise<unknown>, field: string) => rejectsWith(promise, status.INVALID_ARGUMENT, new RegExp(`^${field}\\b`));

  it('names username for a username that breaks [a-z0-9_.-]{1,32}', async () => {
    for (const username of ['', 'Alice', 'a/b', 'x'.repeat(33), 'spa ce']) {
      await invalid(call(h.chat.register.bind(h.chat), { username, password: 'correct horse battery' }), 'username');
    }
    await invalid(call(h.chat.login.bind(h.chat), { username: 'UPPER', password: 'whatever123' }), 'username');
  });

  it('names password for one shorter than 8 or longer than 256 bytes at registration', async () => {
    await invalid(call(h.chat.register.bind(h.chat), { username: 'carol', password: 'short' }), 'password');
    await invalid(call(h.chat.register.bind(h.chat), { username: 'carol', password: 'p'.repeat(257) }), 'password');
    await invalid(call(h.chat.login.bind(h.chat), { username: 'alice', password: '' }), 'password');
    await invalid(call(h.chat.deleteAccount.bind(h.chat), { password: '' }, alice), 'password');
  });

  it('names recipient and body for a bad send, and request_id for one that is too long or not printable', async () => {
    await invalid(call(h.chat.sendMessage.bind(h.chat), { recipient: 'Bob!', body: 'hi', requestId: '' }, alice), 'recipient');
    await invalid(call(h.chat.sendMessage.bind(h.chat), { recipient: 'bob', body: '', requestId: '' }, alice), 'body');
    await invalid(call(h.chat.sendMessage.bind(h.chat), { recipient: 'bob', body: 'hi', requestId: 'r'.repeat(200) }, alice), 'request_id');
    await invalid(call(h.chat.sendMessage.bind(h.chat), { recipient: 'bob', body: 'hi', requestId: 'tab\there' }, alice), 'request_id');
  });

  it('answers a body over the size limit with RESOURCE_EXHAUSTED naming body', async () => {
    const err = await rejectsWith(
      call(h.chat.sendMessage.bind(h.chat), { recipient: 'bob', body: 'x'.repeat(1025), requestId: '' }, alice),
      status.RESOURCE_EXHAUSTED,
      /^body\b/,
    );
    assert.match(err.details, /1024/);
    const ok = await call(h.chat.sendMessage.bind(h.chat), { recipient: 'bob', body: 'x'.repeat(1024), requestId: '' }, alice);
    assert.equal(ok.message?.body.length, 1024);
  });

  it('answers a request larger than the receive limit with RESOURCE_EXHAUSTED before parsing it', async () => {
    await rejectsWith(
      call(h.chat.sendMessage.bind(h.chat), { recipient: 'bob', body: 'x'.repeat(200_000), requestId: '' }, alice),
      status.RESOURCE_EXHAUSTED,
    );
  });

  it('names ids for an empty list, a zero id or too many ids', async () => {
    await invalid(call(h.chat.markRead.bind(h.chat), { ids: [] }, alice), 'ids');
    await invalid(call(h.chat.markRead.bind(h.chat), { ids: [0] }, alice), 'ids');
    await invalid(call(h.chat.deleteMessages.bind(h.chat), { ids: [] }, alice), 'ids');
    await invalid(call(h.chat.deleteMessages.bind(h.chat), { ids: Array.from({ length: 1001 }, (_, i) => i + 1) }, alice), 'ids');
  });

  it('names page_size, limit and pattern when they are out of range', async () => {
    await invalid(call(h.chat.listAccounts.bind(h.chat), { pattern: '', pageSize: 1001, pageToken: '', consistency: 0 }, alice), 'page_size');
    await invalid(call(h.chat.listAccounts.bind(h.chat), { pattern: 'A*', pageSize: 0, pageToken: '', consistency: 0 }, alice), 'pattern');
    await invalid(call(h.chat.listAccounts.bind(h.chat), { pattern: '*'.repeat(65), pageSize: 0, pageToken: '', consistency: 0 }, alice), 'pattern');
    await invalid(call(h.chat.listMessages.bind(h.chat), { unreadOnly: false, afterId: 0, limit: 1001, consistency: 0 }, alice), 'limit');
  });

  it('names consistency when it is not a known read consistency', async () => {
    await invalid(call(h.chat.listMessages.bind(h.chat), { unreadOnly: false, afterId: 0, limit: 0, consistency: 7 }, alice), 'consistency');
  });

  it('names page_token when it was not issued by the server', async () => {
    await invalid(call(h.chat.listAccounts.bind(h.chat), { pattern: '', pageSize: 0, pageToken: '!!not a token!!', consistency: 0 }, alice), 'page_token');
  });

  it('proposes nothing for a refused request', async () => {
    const before = h.replica.proposed.length;
    await invalid(call(h.chat.sendMessage.bind(h.chat), { recipient: 'bob', body: '', requestId: '' }, alice), 'body');
    await invalid(call(h.chat.markRead.bind(h.chat), { ids: [] }, alice), 'ids');
    assert.equal(h.replica.proposed.length, before);
  });
});
