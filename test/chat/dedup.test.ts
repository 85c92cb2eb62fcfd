// Send deduplication: a retried (sender, request id) returns the first result and stores nothing.
import assert from 'node:assert/strict';
import { listMessages, unreadCount } from '../../src/chat/index.js';
import { DEDUP_PRUNE_MAX_RECORDS, DEDUP_RETENTION_MS } from '../../src/chat/dedup.js';
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

  it('returns the first message as sent (unread) after its recipient read it', async () => {
    const first = sent(await chat.apply(send('alice', 'bob', 'hi', 'req-1')));
    await chat.apply(markRead('bob', [first.message.id]));
    const retry = sent(await chat.apply(send('alice', 'bob', 'hi', 'req-1')));
    assert.deepEqual(retry, { message: first.message, duplicate: true });
  });

  it('answers a retry after its message was deleted with the first id and time but no body, storing nothing', async () => {
    const first = sent(await chat.apply(send('alice', 'bob', 'hi', 'req-1')));
    await chat.apply(deleteMessages('bob', [first.message.id]));
    const batch = await chat.applyBatch([send('alice', 'bob', 'hi', 'req-1', 9_000)]);
    const retry = sent(batch.results.get(batch.indexes[0]!));
    assert.deepEqual(retry, { message: { ...first.message, body: '' }, duplicate: true });
    assert.deepEqual(batch.ops, []);
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

  describe('expiry, by the commands\' own timestamps', () => {
    const DAY = DEDUP_RETENTION_MS;
    const T = 19_000 * DAY + 1_000; // early in a day
    /** The dedup records and epochs, in key order. */
    async function dedupKeys(): Promise<string[]> {
      return (await chat.contents()).map(([key]) => key).filter((key) => key.startsWith('d/') || key.startsWith('e/'));
    }
    const day = (unixMs: number): string => Math.floor(unixMs / DAY).toString(16).padStart(8, '0');

    it('answers a retry just inside the retention as a duplicate, and one at the retention as a new send', async () => {
      const first = sent(await chat.apply(send('alice', 'bob', 'hi', 'req-1', T)));
      assert.deepEqual(sent(await chat.apply(send('alice', 'bob', 'hi', 'req-1', T + DEDUP_RETENTION_MS - 1))), {
        message: first.message,
        duplicate: true,
      });
      const late = sent(await chat.apply(send('alice', 'bob', 'hi', 'req-1', T + DEDUP_RETENTION_MS)));
      assert.equal(late.duplicate, false);
      assert.notEqual(late.message.id, first.message.id);
      assert.equal((await listMessages(chat.keyspace, 'bob')).messages.length, 2);
      const retry = sent(await chat.apply(send('alice', 'bob', 'hi', 'req-1', T + DEDUP_RETENTION_MS + 5)));
      assert.deepEqual(retry, { message: late.message, duplicate: true });
    });

    it('finds a record filed on the next day, proposed by a replica whose clock ran ahead', async () => {
      const boundary = 19_001 * DAY;
      const first = sent(await chat.apply(send('alice', 'bob', 'hi', 'req-1', boundary + 20)));
      const retry = sent(await chat.apply(send('alice', 'bob', 'hi', 'req-1', boundary - 20)));
      assert.deepEqual(retry, { message: first.message, duplicate: true });
    });

    it('prunes a sender\'s records two days old when that sender sends again, and only that sender\'s', async () => {
      await chat.applyBatch([send('alice', 'bob', 'a', 'old-1', T), send('bob', 'alice', 'b', 'old-2', T + 10)]);
      await chat.apply(send('alice', 'bob', 'c', 'new-1', T + DAY));
      assert.deepEqual(await dedupKeys(), [
        `d/alice/${day(T)}/old-1`,
        `d/alice/${day(T + DAY)}/new-1`,
        `d/bob/${day(T)}/old-2`,
        'e/alice',
        'e/bob',
      ]);
      await chat.apply(send('alice', 'bob', 'd', 'new-2', T + 2 * DAY));
      assert.deepEqual(await dedupKeys(), [
        `d/alice/${day(T + DAY)}/new-1`,
        `d/alice/${day(T + 2 * DAY)}/new-2`,
        `d/bob/${day(T)}/old-2`,
        'e/alice',
        'e/bob',
      ]);
      // bob's record waits for bob's next send, but has expired all the same.
      assert.equal(sent(await chat.apply(send('bob', 'alice', 'b', 'old-2', T + 2 * DAY))).duplicate, false);
      assert.deepEqual((await dedupKeys()).filter((key) => key.startsWith('d/bob/')), [`d/bob/${day(T + 2 * DAY)}/old-2`]);
      // Pruning removes the records, not the messages they pointed at.
      assert.equal((await listMessages(chat.keyspace, 'bob')).messages.length, 3);
    });

    it('prunes a backlog longer than one page over the sender\'s following sends, in every batch split alike', async () => {
      const many = Array.from({ length: DEDUP_PRUNE_MAX_RECORDS + 5 }, (_, i) => send('alice', 'bob', 'm', `bulk-${i}`, T + i));
      await chat.applyBatch(many);
      const later = [send('alice', 'bob', 'x', 'late-1', T + 2 * DAY), send('alice', 'bob', 'x', 'late-2', T + 2 * DAY + 1)];
      await chat.apply(later[0]!);
      assert.equal((await dedupKeys()).filter((key) => key.startsWith('d/')).length, 5 + 1);
      await chat.apply(later[1]!);
      assert.deepEqual((await dedupKeys()).filter((key) => key.startsWith('d/')), [
        `d/alice/${day(T + 2 * DAY)}/late-1`,
        `d/alice/${day(T + 2 * DAY)}/late-2`,
      ]);

      // The same commands in one batch leave the same keyspace.
      const other = await ChatHarness.open();
      try {
        await other.applyBatch([register('alice'), register('bob')]);
        await other.applyBatch([...many, ...later]);
        assert.deepEqual(await other.contents(), await chat.contents());
      } finally {
        await other.close();
      }
    });

    it('deletes a deleted sender\'s records and epoch, and no one else\'s', async () => {
      await chat.apply(send('alice', 'bob', 'hi', 'req-1', T));
      await chat.apply(send('bob', 'alice', 'hi', 'req-2', T));
      await chat.apply(deleteAccount('alice'));
      assert.deepEqual(await dedupKeys(), [`d/bob/${day(T)}/req-2`, 'e/bob']);
    });
  });
});
