// Batches: later commands see earlier ones' writes, nothing is written until the caller commits, and
// the same entries over the same state always give the same ops, results and contents.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encodeCommand, listMessages, unreadCount } from '../../src/chat/index.js';
import type { Command } from '../../src/gen/raftchat/command/v1/command.js';
import { ChatHarness, counted, deleteAccount, deleteMessages, errorCode, markRead, register, revoke, send, sent } from './harness.js';

describe('ChatStateMachine batches', () => {
  const harnesses: ChatHarness[] = [];
  async function open(): Promise<ChatHarness> {
    const harness = await ChatHarness.open();
    harnesses.push(harness);
    return harness;
  }
  afterEach(async () => {
    for (const harness of harnesses.splice(0)) await harness.close();
  });

  it('lets a send see an account registered earlier in the same batch', async () => {
    const chat = await open();
    const batch = await chat.applyBatch([register('alice'), register('bob'), send('alice', 'bob', 'hi')]);
    assert.equal(sent(batch.results.get(batch.indexes[2]!)).message.body, 'hi');
    assert.equal(await unreadCount(chat.keyspace, 'bob'), 1);
  });

  it('deletes a message sent earlier in the same batch and keeps the counter at zero', async () => {
    const chat = await open();
    await chat.applyBatch([register('alice'), register('bob')]);
    const batch = await chat.applyBatch([send('alice', 'bob', 'oops'), deleteMessages('bob', [chat.nextIndex])]);
    assert.equal(counted(batch.results.get(batch.indexes[1]!)), 1);
    assert.deepEqual((await listMessages(chat.keyspace, 'bob')).messages, []);
    assert.equal(await unreadCount(chat.keyspace, 'bob'), 0);
  });

  it('deletes an account with the inbox it received earlier in the same batch', async () => {
    const chat = await open();
    const batch = await chat.applyBatch([
      register('alice'),
      register('bob'),
      send('alice', 'bob', 'one', 'r1'),
      send('bob', 'alice', 'two', 'r2'),
      deleteAccount('bob'),
      send('alice', 'bob', 'three'),
    ]);
    assert.equal(errorCode(batch.results.get(batch.indexes[5]!)), 'NOT_FOUND');
    const keys = (await chat.contents()).map(([key]) => key);
    assert.deepEqual(keys.filter((key) => key.includes('bob')), []);
    assert.equal((await listMessages(chat.keyspace, 'alice')).messages.length, 1);
  });

  it('writes nothing itself: the keyspace changes only when the caller commits the ops', async () => {
    const chat = await open();
    const batch = await chat.machine.applyBatch(chat.keyspace, [
      { index: 1, data: encodeCommand(register('alice')) },
      { index: 2, data: encodeCommand(register('bob')) },
    ]);
    assert.deepEqual(await chat.contents(), []);
    assert.deepEqual(
      batch.ops.map((op) => `${op.type} ${op.key}`),
      ['put a/alice', 'put a/bob'],
    );
  });

  it('gives one op per key, the last write winning', async () => {
    const chat = await open();
    await chat.applyBatch([register('alice'), register('bob')]);
    const batch = await chat.machine.applyBatch(chat.keyspace, [
      { index: 10, data: encodeCommand(send('alice', 'bob', 'x')) },
      { index: 11, data: encodeCommand(markRead('bob', [10])) },
    ]);
    const keys = batch.ops.map((op) => op.key);
    assert.equal(new Set(keys).size, keys.length);
    // The counter went 0 → 1 → 0 within the batch: its op is a delete.
    assert.deepEqual(batch.ops.find((op) => op.key === 'n/bob'), { type: 'del', key: 'n/bob' });
  });

  /** A random workload over a few users, with the indexes it will be applied at. */
  const users = ['alice', 'bob', 'carol'];
  const user = fc.constantFrom(...users);
  const id = fc.integer({ min: 1, max: 40 });
  const command: fc.Arbitrary<Command> = fc.oneof(
    user.map((u) => register(u)),
    user.map((u) => deleteAccount(u)),
    fc.tuple(user, user, fc.string({ maxLength: 5 }), fc.constantFrom('', 'r1', 'r2')).map(([a, b, body, r]) => send(a, b, body || 'x', r)),
    fc.tuple(user, fc.array(id, { maxLength: 4 })).map(([u, ids]) => markRead(u, ids)),
    fc.tuple(user, fc.array(id, { maxLength: 4 })).map(([u, ids]) => deleteMessages(u, ids)),
    fc.tuple(user, fc.constantFrom('', 's1'), fc.integer({ min: 0, max: 100 })).map(([u, s, at]) => revoke(u, s, at + 50, at)),
  );
  const workload = fc.array(fc.array(command, { minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 5 });

  it('applies the same entries to two fresh keyspaces with identical ops, results and contents', async () => {
    await fc.assert(
      fc.asyncProperty(workload, async (batches) => {
        const [a, b] = [await open(), await open()];
        for (const commands of batches) {
          const [fromA, fromB] = [await a.applyBatch(commands), await b.applyBatch(commands)];
          assert.deepEqual(fromB.ops, fromA.ops);
          assert.deepEqual(fromB.results, fromA.results);
          assert.deepEqual(fromB.events, fromA.events);
        }
        assert.deepEqual(await b.contents(), await a.contents());
        for (const harness of harnesses.splice(0)) await harness.close();
      }),
      { numRuns: 25, seed: 20261123 },
    );
  });

  it('ends in the same state whether commands are applied one per batch or all in one batch', async () => {
    await fc.assert(
      fc.asyncProperty(workload, async (batches) => {
        const [whole, single] = [await open(), await open()];
        const commands = batches.flat();
        await whole.applyBatch(commands);
        for (const c of commands) await single.apply(c);
        assert.deepEqual(await single.contents(), await whole.contents());
        for (const harness of harnesses.splice(0)) await harness.close();
      }),
      { numRuns: 25, seed: 7 },
    );
  });

  it('keeps every unread counter equal to the unread messages in that inbox', async () => {
    await fc.assert(
      fc.asyncProperty(workload, async (batches) => {
        const chat = await open();
        for (const commands of batches) await chat.applyBatch(commands);
        for (const u of users) {
          const { messages } = await listMessages(chat.keyspace, u, { unreadOnly: true, limit: 1000 });
          assert.equal(await unreadCount(chat.keyspace, u), messages.length, u);
        }
        for (const harness of harnesses.splice(0)) await harness.close();
      }),
      { numRuns: 25, seed: 11 },
    );
  });
});
