// The Raft log on disk: appends and hard state survive a restart, a conflicting tail is replaced
// whole, compaction drops the prefix, and damage is reported with the database path and the index.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ReplicaStore, StorageError } from '../../src/storage/index.js';
import { logLevel, metaLevel } from '../../src/storage/layout.js';
import { encodeLogEntry, logKey } from '../../src/storage/log-codec.js';
import { MetaKey, encodeMeta } from '../../src/storage/meta-codec.js';
import { InvariantError } from '../../src/raft/errors.js';
import { TempDirs, countKeys, entries, entry, withRawDatabase } from './helpers.js';

describe('ReplicaStore log', () => {
  const temp = new TempDirs();
  afterEach(() => temp.cleanup());

  async function reopen(dir: string, store: ReplicaStore): Promise<ReplicaStore> {
    await store.close();
    return ReplicaStore.open(dir);
  }

  it('loads empty defaults from a fresh data directory', async () => {
    const store = await ReplicaStore.open(await temp.make());
    const state = await store.load();
    assert.deepEqual(state.hardState, { term: 0, vote: '', commit: 0 });
    assert.deepEqual(state.snapshot, { index: 0, term: 0, confState: { voters: [], learners: [] } });
    assert.deepEqual(state.entries, []);
    assert.equal(state.appliedIndex, 0);
    assert.equal(state.clusterId, '');
    assert.equal(state.incarnation, '');
    await store.close();
  });

  it('returns persisted entries and hard state after a restart', async () => {
    const dir = await temp.make();
    let store = await ReplicaStore.open(dir);
    await store.persist({ hardState: { term: 2, vote: 'n1', commit: 0 }, entries: entries(1, 3, 1) }, { sync: true });
    await store.persist({ hardState: { term: 2, vote: 'n1', commit: 4 }, entries: entries(4, 5, 2) }, { sync: false });
    store = await reopen(dir, store);
    const state = await store.load();
    assert.deepEqual(state.hardState, { term: 2, vote: 'n1', commit: 4 });
    assert.deepEqual(state.entries, [...entries(1, 3, 1), ...entries(4, 5, 2)]);
    await store.close();
  });

  it('reports each write to the onWrite observer with its entry count, bytes and sync flag', async () => {
    const seen: Array<[number, number, boolean]> = [];
    const store = await ReplicaStore.open(await temp.make(), {
      onWrite: (durationMs, entryCount, bytes, synced) => {
        assert.ok(durationMs >= 0);
        seen.push([entryCount, bytes, synced]);
      },
    });
    const stats = await store.persist({ entries: entries(1, 3, 1) }, { sync: true });
    assert.equal(seen.length, 1);
    assert.equal(seen[0]![0], 3);
    assert.equal(seen[0]![1], stats.bytes);
    assert.equal(seen[0]![2], true);
    assert.equal(stats.bytes, entries(1, 3, 1).reduce((n, e) => n + encodeLogEntry(e).length, 0));
    await store.close();
  });

  it('replaces a conflicting tail and deletes the stale entries beyond the new last index', async () => {
    const dir = await temp.make();
    let store = await ReplicaStore.open(dir);
    await store.persist({ entries: entries(1, 6, 1) }, { sync: true });
    // A new leader's log diverges at 4 and is shorter (§5.3): 4..6 of term 1 must all go.
    await store.persist({ hardState: { term: 2, vote: '', commit: 3 }, entries: [entry(4, 2)] }, { sync: true });
    store = await reopen(dir, store);
    const state = await store.load();
    assert.deepEqual(state.entries, [...entries(1, 3, 1), entry(4, 2)]);
    await store.close();
    await withRawDatabase(dir, async (db) => assert.equal(await countKeys(logLevel(db)), 4));
  });

  it('refuses entries that would leave a gap in the log', async () => {
    const store = await ReplicaStore.open(await temp.make());
    await store.persist({ entries: entries(1, 2, 1) }, { sync: false });
    await assert.rejects(store.persist({ entries: [entry(4, 1)] }, { sync: false }), InvariantError);
    // The refusal is not a disk failure: the store keeps working.
    await store.persist({ entries: [entry(3, 1)] }, { sync: false });
    assert.equal((await store.load()).entries.length, 3);
    await store.close();
  });

  it('throws CORRUPT naming the database path and the index when an entry fails its checksum', async () => {
    const dir = await temp.make();
    const store = await ReplicaStore.open(dir);
    await store.persist({ entries: entries(1, 5, 1) }, { sync: true });
    await store.close();
    await withRawDatabase(dir, async (db) => {
      const valid = encodeLogEntry(entry(3, 1));
      const damaged = valid.slice();
      damaged[damaged.length - 1]! ^= 0xff;
      await logLevel(db).put(logKey(3), damaged);
    });
    const reopened = await ReplicaStore.open(dir);
    await assert.rejects(reopened.load(), (err: unknown) => {
      assert.ok(err instanceof StorageError);
      assert.equal(err.code, 'CORRUPT');
      assert.match(err.message, new RegExp(escape(join(dir, 'db'))));
      assert.match(err.message, /log entry 3 /);
      return true;
    });
    await reopened.close();
  });

  it('throws CORRUPT when garbage shorter than a checksum sits under a log key', async () => {
    const dir = await temp.make();
    const store = await ReplicaStore.open(dir);
    await store.persist({ entries: entries(1, 3, 1) }, { sync: true });
    await store.close();
    await withRawDatabase(dir, (db) => logLevel(db).put(logKey(2), new Uint8Array([1, 2])));
    const reopened = await ReplicaStore.open(dir);
    await assert.rejects(reopened.load(), { name: 'StorageError', code: 'CORRUPT', message: /log entry 2 .*shorter/ });
    await reopened.close();
  });

  it('throws CORRUPT naming the index when an entry is missing from the middle of the log', async () => {
    const dir = await temp.make();
    const store = await ReplicaStore.open(dir);
    await store.persist({ entries: entries(1, 5, 1) }, { sync: true });
    await store.close();
    await withRawDatabase(dir, (db) => logLevel(db).del(logKey(3)));
    const reopened = await ReplicaStore.open(dir);
    await assert.rejects(reopened.load(), { code: 'CORRUPT', message: /log entry 3 is missing \(the next is 4\)/ });
    await reopened.close();
  });

  it('throws CORRUPT when an entry is stored under another index', async () => {
    const dir = await temp.make();
    const store = await ReplicaStore.open(dir);
    await store.persist({ entries: entries(1, 3, 1) }, { sync: true });
    await store.close();
    await withRawDatabase(dir, (db) => logLevel(db).put(logKey(2), encodeLogEntry(entry(7, 1))));
    const reopened = await ReplicaStore.open(dir);
    await assert.rejects(reopened.load(), { code: 'CORRUPT', message: /log entry 2 is corrupt: it says it is entry 7/ });
    await reopened.close();
  });

  it('compacts the log up to an applied index and keeps the entries after it', async () => {
    const dir = await temp.make();
    let store = await ReplicaStore.open(dir);
    await store.persist({ entries: [...entries(1, 5, 1), ...entries(6, 8, 2)] }, { sync: true });
    await store.applyBatch([], 7, 2);
    await store.compactLog(6, 2, { voters: ['n1'], learners: [] });
    store = await reopen(dir, store);
    const state = await store.load();
    assert.deepEqual(state.snapshot, { index: 6, term: 2, confState: { voters: ['n1'], learners: [] } });
    assert.deepEqual(state.entries, entries(7, 8, 2));
    await store.close();
    await withRawDatabase(dir, async (db) => assert.equal(await countKeys(logLevel(db)), 2));
  });

  it('refuses to compact past the applied index or with the wrong term', async () => {
    const store = await ReplicaStore.open(await temp.make());
    await store.persist({ entries: entries(1, 5, 1) }, { sync: true });
    await store.applyBatch([], 3, 1);
    await assert.rejects(store.compactLog(4, 1, { voters: [], learners: [] }), /only 3 is applied/);
    await assert.rejects(store.compactLog(3, 2, { voters: [], learners: [] }), /the entry has term 1/);
    await store.close();
  });

  it('appends after a compaction and keeps log order across a restart', async () => {
    const dir = await temp.make();
    let store = await ReplicaStore.open(dir);
    await store.persist({ entries: entries(1, 4, 1) }, { sync: true });
    await store.applyBatch([], 4, 1);
    await store.compactLog(4, 1, { voters: ['n1'], learners: [] });
    await store.persist({ entries: entries(5, 6, 3) }, { sync: true });
    store = await reopen(dir, store);
    assert.deepEqual((await store.load()).entries, entries(5, 6, 3));
    await store.close();
  });

  it('ignores and then deletes entries a crash left below a recorded compaction point', async () => {
    const dir = await temp.make();
    const store = await ReplicaStore.open(dir);
    await store.persist({ entries: entries(1, 6, 1) }, { sync: true });
    await store.applyBatch([], 6, 1);
    await store.close();
    // The crash window of a large compaction: the point is durable, the deletions are not done.
    await withRawDatabase(dir, (db) =>
      metaLevel(db).put(MetaKey.snapshot, encodeMeta({ index: 4, term: 1, confState: { voters: ['n1'], learners: [] } })),
    );
    const reopened = await ReplicaStore.open(dir);
    assert.deepEqual((await reopened.load()).entries, entries(5, 6, 1));
    await reopened.close();
    await withRawDatabase(dir, async (db) => assert.equal(await countKeys(logLevel(db)), 2));
  });

  it('compacts 20,000 entries and leaves only the ones after the point on disk', async () => {
    const dir = await temp.make();
    let store = await ReplicaStore.open(dir);
    const total = 20_000;
    for (let from = 1; from <= total; from += 5_000) await store.persist({ entries: entries(from, from + 4_999, 1) }, { sync: false });
    await store.applyBatch([], total, 1);
    await store.compactLog(total - 10, 1, { voters: ['n1'], learners: [] });
    store = await reopen(dir, store);
    assert.deepEqual((await store.load()).entries, entries(total - 9, total, 1));
    await store.close();
    await withRawDatabase(dir, async (db) => assert.equal(await countKeys(logLevel(db)), 10));
  });

  it('goes on appending while the compacted entries are deleted in the background; close() waits for the deletion', async () => {
    const dir = await temp.make();
    const store = await ReplicaStore.open(dir);
    await store.persist({ entries: entries(1, 12_000, 1) }, { sync: false });
    await store.applyBatch([], 12_000, 1);
    await store.compactLog(10_000, 1, { voters: ['n1'], learners: [] });
    // compactLog returned with the point recorded; the deletion may still be running.
    await store.persist({ entries: entries(12_001, 12_010, 2) }, { sync: true });
    assert.deepEqual((await store.load()).entries, [...entries(10_001, 12_000, 1), ...entries(12_001, 12_010, 2)]);
    // The next compaction starts after the previous deletion has finished.
    await store.applyBatch([], 12_010, 2);
    await store.compactLog(12_005, 2, { voters: ['n1'], learners: [] });
    await store.close();
    await withRawDatabase(dir, async (db) => assert.equal(await countKeys(logLevel(db)), 5));
  });

  it('replaces the whole log when a Ready carries a newer snapshot, and catches commit up to it', async () => {
    const dir = await temp.make();
    let store = await ReplicaStore.open(dir);
    await store.persist({ hardState: { term: 1, vote: 'n2', commit: 2 }, entries: entries(1, 5, 1) }, { sync: true });
    const snapshot = { index: 9, term: 3, confState: { voters: ['n1', 'n2'], learners: [] } };
    await store.persist({ snapshot, entries: entries(10, 11, 3) }, { sync: true });
    // The same snapshot again (already recorded) leaves the log alone.
    await store.persist({ snapshot, entries: [] }, { sync: true });
    store = await reopen(dir, store);
    const state = await store.load();
    assert.deepEqual(state.snapshot, snapshot);
    assert.deepEqual(state.entries, entries(10, 11, 3));
    assert.deepEqual(state.hardState, { term: 1, vote: 'n2', commit: 9 });
    await store.close();
    await withRawDatabase(dir, async (db) => assert.equal(await countKeys(logLevel(db)), 2));
  });

  it('drops, with a newer snapshot in a Ready, a stale tail past it at once and the entries below it after', async () => {
    const dir = await temp.make();
    const store = await ReplicaStore.open(dir);
    await store.persist({ hardState: { term: 1, vote: 'n2', commit: 2 }, entries: entries(1, 14, 1) }, { sync: true });
    await store.persist({ snapshot: { index: 9, term: 3, confState: { voters: ['n1', 'n2'], learners: [] } }, entries: [] }, { sync: true });
    // Straight after the write, before the background deletion is awaited anywhere: 10-14 are gone.
    assert.deepEqual((await store.load()).entries, []);
    await store.persist({ entries: entries(10, 10, 3) }, { sync: true });
    assert.deepEqual((await store.load()).entries, entries(10, 10, 3));
    await store.close();
    await withRawDatabase(dir, async (db) => assert.equal(await countKeys(logLevel(db)), 1));
  });

  it('fails a write with IO when the engine fails, and refuses every write after it', async () => {
    const failures: Error[] = [];
    const store = await ReplicaStore.open(await temp.make(), { onFailure: (err) => failures.push(err) });
    // Pull the engine out from under the store: the next write fails inside the engine.
    await (store as unknown as { db: { close(): Promise<void> } }).db.close();
    await assert.rejects(store.persist({ entries: [entry(1, 1)] }, { sync: true }), { name: 'StorageError', code: 'IO' });
    await assert.rejects(store.applyBatch([], 0, 0), { name: 'StorageError', code: 'CLOSED', message: /earlier failure/ });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(failures.length, 1, 'the owner hears of the first failure, once');
    assert.equal((failures[0] as { code?: string }).code, 'IO');
    await store.close();
  });

  it('tells its owner when a snapshot being installed fails to write (nothing else may ever write)', async () => {
    const failures: Error[] = [];
    const store = await ReplicaStore.open(await temp.make(), { onFailure: (err) => failures.push(err) });
    const installer = await store.beginInstall();
    await (store as unknown as { db: { close(): Promise<void> } }).db.close();
    await assert.rejects(installer.write([{ key: new Uint8Array([1]), value: new Uint8Array([2]) }]), { name: 'StorageError' });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(failures.length, 1);
    await store.close();
  });

  it('refuses a second store on the same data directory with LOCKED', async () => {
    const dir = await temp.make();
    const store = await ReplicaStore.open(dir);
    await assert.rejects(ReplicaStore.open(dir), { name: 'StorageError', code: 'LOCKED' });
    await store.close();
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
