// Send deduplication: a retried (sender, request id) returns the first result and stores nothing.
import assert from 'node:assert/strict';
import { listMessages, unreadCount } from '../../src/chat/index.js';
import { ChatHarness, deleteAccount, deleteMessages, errorCode, markRead, register, send, sent } from './harness.js';

describe('ChatStateMachine send deduplication', () => {
  let chat: ChatHarness;
  beforeEach(async () => {
    chat = await ChatHarness.open();
    await chat.applyBatch([register('alice'), register('bob')]);
  });
  afterEach(async () => {
    await chat.close();
  });

  it('answers the same request id twice in one batch with one stored message and duplicate=true', async () => {
    const batch = await chat.applyBatch([send('alice', 'bob', 'hi', 'req-1', 10), send('alice', 'bob', 'hi', 'req-1', 20)]);
    const first = sent(batch.results.get(batch.indexes[0]!));
    const second = sent(batch.results.get(batch.indexes[1]!));
    assert.equal(first.duplicate, false);
    assert.deepEqual(second, { message: first.message, duplicate: true });
    assert.equal((await listMessages(chat.keyspace, 'bob')).messages.length, 1);
    assert.equal(await unreadCount(chat.keyspace, 'bob'), 1);
    assert.deepEqual(batch.events.messages, [first.message]);
  });

  it('answers a retry in a later batch with the first id and writes nothing', async () => {
    const first = sent(await chat.apply(send('alice', 'bob', 'hi', 'req-1')));
    const batch = await chat.applyBatch([send('alice', 'bob', 'hi', 'req-1')]);
    assert.deepEqual(sent(batch.results.get(batch.indexes[0]!)), { message: first.message, duplicate: true });
    assert.deepEqual(batch.ops, []);
    assert.deepEqual(batch.events.messages, []);
  });

  it('returns the first result as sent, even after the message was read or deleted', async () => {
    const first = sent(await chat.apply(send('alice', 'bob', 'hi', 'req-1')));
    await chat.apply(markRead('bob', [first.message.id]));
    await chat.apply(deleteMessages('bob', [first.message.id]));
    const retry = sent(await chat.apply(send('alice', 'bob', 'hi', 'req-1')));
    assert.deepEqual(retry, { message: first.message, duplicate: true });
    assert.deepEqual((await listMessages(chat.keyspace, 'bob')).messages, []);
  });

  it('keeps request ids apart per sender, and never deduplicates an empty request id', async () => {
    const batch = await chat.applyBatch([
      send('alice', 'bob', 'a', 'same'),
      send('bob', 'alice', 'b', 'same'),
      send('alice', 'bob', 'c'),
      send('alice', 'bob', 'c'),
    ]);
    for (const index of batch.indexes) assert.equal(sent(batch.results.get(index)).duplicate, false);
    assert.equal((await listMessages(chat.keyspace, 'bob')).messages.length, 3);
  });

  it('forgets a sender’s request ids when the sender’s account is deleted', async () => {
    await chat.apply(send('alice', 'bob', 'hi', 'req-1'));
    await chat.apply(deleteAccount('alice'));
    assert.equal(errorCode(await chat.apply(send('alice', 'bob', 'hi', 'req-1'))), 'NOT_FOUND');
    await chat.apply(register('alice'));
    assert.equal(sent(await chat.apply(send('alice', 'bob', 'hi', 'req-1'))).duplicate, false);
  });
});
