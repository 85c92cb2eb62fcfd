// The state machine's read cache: it mirrors the keyspace exactly, so it may make apply cheaper but
// never different — not after an account is deleted, not after a snapshot replaces the keyspace.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import fc from 'fast-check';
import { ChatStateMachine, encodeCommand, getAccount, unreadCount } from '../../src/chat/index.js';
import { ReadCache } from '../../src/chat/read-cache.js';
import { canReadSync } from '../../src/chat/sync-read.js';
import type { Command, CommandResult } from '../../src/gen/raftchat/command/v1/command.js';
import { EntryType } from '../../src/raft/types.js';
import { ReplicaStore } from '../../src/storage/index.js';
import { ChatHarness, deleteAccount, errorCode, markRead, register, revoke, send, sent } from './harness.js';

/** A store and a state machine driven the way src/node/replica.ts drives them: persist, apply, commit. */
class StoreDriver {
  readonly machine = new ChatStateMachine();
  private nextIndex = 1;

  private constructor(
    readonly directory: string,
    readonly store: ReplicaStore,
  ) {}

  static async open(): Promise<StoreDriver> {
    const directory = await mkdtemp(join(tmpdir(), 'raftchat-chat-cache-'));
    return new StoreDriver(directory, await ReplicaStore.open(directory));
  }

  async apply(commands: Command[]): Promise<CommandResult[]> {
    const entries = commands.map((command) => ({ term: 1, index: this.nextIndex++, type: EntryType.Normal, data: encodeCommand(command) }));
    await this.store.persist({ hardState: { term: 1, vote: '', commit: entries.at(-1)!.index }, entries }, { sync: false });
    const { ops, results } = await this.machine.applyBatch(this.store.keyspace(), entries);
    await this.store.applyBatch(ops, entries.at(-1)!.index, 1);
    return entries.map((e) => results.get(e.index)!);
  }

  /** Replaces this store's keyspace with `source`'s, as a follower installing a leader's snapshot (§7). */
  async installSnapshotOf(source: StoreDriver): Promise<void> {
    const snapshot = await source.store.openSnapshot();
    try {
      const installer = await this.store.beginInstall();
      for await (const pairs of snapshot.chunks(1 << 16)) await installer.write(pairs);
      await installer.finish({
        metadata: { index: snapshot.appliedIndex, term: snapshot.appliedTerm, confState: { voters: ['n1'], learners: [] } },
        members: [],
        checksum: snapshot.checksum(),
      });
      this.nextIndex = snapshot.appliedIndex + 1;
    } finally {
      await snapshot.close();
    }
  }

  async close(): Promise<void> {
    await this.store.close();
    await rm(this.directory, { recursive: true, force: true });
  }
}

describe('ChatStateMachine read cache', () => {
  const drivers: StoreDriver[] = [];
  const harnesses: ChatHarness[] = [];
  async function driver(): Promise<StoreDriver> {
    const d = await StoreDriver.open();
    drivers.push(d);
    return d;
  }
  async function harness(): Promise<ChatHarness> {
    const h = await ChatHarness.open();
    harnesses.push(h);
    return h;
  }
  afterEach(async () => {
    for (const d of drivers.splice(0)) await d.close();
    for (const h of harnesses.splice(0)) await h.close();
  });

  it('after a snapshot is installed, applies over the new keyspace instead of cached records of the old', async () => {
    const follower = await driver();
    await follower.apply([register('alice'), register('bob')]);
    await follower.apply([send('alice', 'bob', 'warms the cache: a/alice, a/bob, n/bob')]);

    // The leader's history differs: alice is gone and carol exists; bob has no unread messages.
    const leader = await driver();
    await leader.apply([register('bob'), register('carol'), register('dave'), register('erin')]);
    await follower.installSnapshotOf(leader);

    const next = [send('alice', 'bob', 'x'), send('carol', 'bob', 'y')];
    const [fromAlice, fromCarol] = await follower.apply(next);
    assert.equal(errorCode(fromAlice), 'NOT_FOUND');
    assert.equal(sent(fromCarol).duplicate, false);
    // Had the cached n/bob (1) survived, the counter would read 2.
    assert.equal(await unreadCount(follower.store.keyspace(), 'bob'), 1);
    await leader.apply(next);
    assert.equal((await follower.store.digest()).digest, (await leader.store.digest()).digest);
  });

  it('does not serve a deleted account from the cache, in a later batch or later in the same batch', async () => {
    const chat = await harness();
    await chat.applyBatch([register('alice'), register('bob')]);
    assert.equal(sent(await chat.apply(send('alice', 'bob', 'hi'))).duplicate, false);
    await chat.apply(deleteAccount('alice'));
    assert.equal(errorCode(await chat.apply(send('alice', 'bob', 'hi again'))), 'NOT_FOUND');
    assert.equal(errorCode(await chat.apply(send('bob', 'alice', 'hello?'))), 'NOT_FOUND');

    const batch = await chat.applyBatch([register('alice'), send('alice', 'bob', 'back'), deleteAccount('alice'), send('alice', 'bob', 'gone')]);
    assert.equal(sent(batch.results.get(batch.indexes[1]!)).duplicate, false);
    assert.equal(errorCode(batch.results.get(batch.indexes[3]!)), 'NOT_FOUND');
    assert.equal(await getAccount(chat.keyspace, 'alice'), undefined);
  });

  it('forgets what it cached when reset(), so a keyspace changed behind its back is read again', async () => {
    const chat = await harness();
    await chat.applyBatch([register('alice'), register('bob'), send('alice', 'bob', 'hi')]);
    await chat.keyspace.batch([{ type: 'del', key: 'a/alice' }]); // not through the machine's ops
    chat.machine.reset();
    assert.equal(errorCode(await chat.apply(send('alice', 'bob', 'hi'))), 'NOT_FOUND');
  });

  it('computes the same ops and results with a warm cache, a tiny evicting cache and no cache carried over', async () => {
    const user = fc.constantFrom('alice', 'bob', 'carol');
    const command: fc.Arbitrary<Command> = fc.oneof(
      user.map((u) => register(u)),
      user.map((u) => deleteAccount(u)),
      fc.tuple(user, user, fc.constantFrom('', 'r1', 'r2')).map(([a, b, r]) => send(a, b, 'x', r)),
      fc.tuple(user, fc.array(fc.integer({ min: 1, max: 30 }), { maxLength: 3 })).map(([u, ids]) => markRead(u, ids)),
      fc.tuple(user, fc.constantFrom('', 's1')).map(([u, s]) => revoke(u, s, 500, 100)),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(command, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 6 }), async (batches) => {
        const [warm, tiny, cold] = [await harness(), await harness(), await harness()];
        const tinyMachine = new ChatStateMachine({ maxCachedKeys: 2 });
        for (const commands of batches) {
          const expected = await warm.applyBatch(commands);
          for (const [chat, machine] of [[tiny, tinyMachine], [cold, new ChatStateMachine()]] as const) {
            const entries = commands.map((c, i) => ({ index: expected.indexes[i]!, data: encodeCommand(c) }));
            const got = await machine.applyBatch(chat.keyspace, entries);
            await chat.keyspace.batch(got.ops);
            assert.deepEqual(got.ops, expected.ops);
            assert.deepEqual(got.results, expected.results);
          }
        }
        for (const h of harnesses.splice(0)) await h.close();
      }),
      { numRuns: 30, seed: 8 },
    );
  });
});

describe('canReadSync', () => {
  it('says no for a sublevel that is still opening and yes once it is open', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'raftchat-chat-sync-'));
    const db = new ClassicLevel<string, Uint8Array>(directory, { keyEncoding: 'utf8', valueEncoding: 'view' });
    try {
      await db.open();
      const keyspace = db.sublevel<string, Uint8Array>('kv', { keyEncoding: 'utf8', valueEncoding: 'view' });
      assert.equal(canReadSync(keyspace), false);
      assert.equal(await keyspace.get('a/alice'), undefined); // waits for the sublevel to open
      assert.equal(canReadSync(keyspace), true);
      assert.equal(keyspace.getSync('a/alice'), undefined);
    } finally {
      await db.close();
      await rm(directory, { recursive: true, force: true });
    }
  });
});

describe('ReadCache', () => {
  const keepAll = (): boolean => true;

  it('evicts the least recently used key beyond its bound', () => {
    const cache = new ReadCache(keepAll, 2);
    cache.write('a', new Uint8Array([1]));
    cache.write('b', null);
    assert.deepEqual(cache.lookup('a'), new Uint8Array([1])); // a is now the most recent
    cache.write('c', new Uint8Array([3]));
    assert.equal(cache.size, 2);
    assert.equal(cache.lookup('b'), undefined);
    assert.equal(cache.lookup('c')?.[0], 3);
  });

  it('tells a key known absent (null) from a key it does not know (undefined)', () => {
    const cache = new ReadCache(keepAll, 4);
    cache.write('gone', null);
    assert.equal(cache.lookup('gone'), null);
    assert.equal(cache.lookup('never'), undefined);
  });

  it('holds only keys its policy keeps, and writing any other key forgets it', () => {
    let keep = true;
    const cache = new ReadCache(() => keep, 4);
    cache.write('k', new Uint8Array([1]));
    keep = false;
    cache.write('k', new Uint8Array([2]));
    assert.equal(cache.lookup('k'), undefined);
    cache.clear();
    assert.equal(cache.size, 0);
  });
});
