// Snapshots (Raft §7): the keyspace read through one database snapshot streams into a second store's
// staging generation and swaps in whole; an abort, a bad checksum or a crash leaves the old state.
import assert from 'node:assert/strict';
import { ReplicaStore, SnapshotInstaller, StorageError, type KeyValuePair } from '../../src/storage/index.js';
import { keyspaceLevel, logLevel, metaLevel } from '../../src/storage/layout.js';
import { MetaKey, encodeMeta } from '../../src/storage/meta-codec.js';
import type { MemberInfo } from '../../src/gen/raftchat/command/v1/command.js';
import { TempDirs, bytes, countKeys, entries, text, withRawDatabase } from './helpers.js';

const members: MemberInfo[] = [
  { id: 'n1', peerAddress: 'n1:7000', clientAddress: 'n1:8000', incarnation: 'a', learnerOnly: false },
  { id: 'n2', peerAddress: 'n2:7000', clientAddress: 'n2:8000', incarnation: 'b', learnerOnly: false },
];
const confState = { voters: ['n1', 'n2'], learners: [] };
const classify = (key: string): string | undefined => key.split('/')[0];

describe('ReplicaStore snapshots', () => {
  const temp = new TempDirs();
  afterEach(() => temp.cleanup());

  /** A store whose keyspace holds `users` users and `messages` messages, applied through index 10 term 3. */
  async function populated(users: number, messages: number, dataDir?: string): Promise<ReplicaStore> {
    const store = await ReplicaStore.open(dataDir ?? (await temp.make()));
    await store.persist({ hardState: { term: 3, vote: 'n1', commit: 10 }, entries: entries(1, 10, 3) }, { sync: true });
    const ops = [];
    for (let i = 0; i < users; i++) ops.push({ type: 'put' as const, key: `user/${String(i).padStart(5, '0')}`, value: bytes(`hash-${i}`) });
    for (let i = 0; i < messages; i++) ops.push({ type: 'put' as const, key: `msg/${String(i).padStart(8, '0')}`, value: bytes(`body ${i} `.repeat(20)) });
    await store.applyBatch(ops, 10, 3, { confState, members });
    return store;
  }

  /** Streams `source` into `target`'s installer and finishes it. */
  async function transfer(source: ReplicaStore, target: ReplicaStore, maxBytesPerChunk = 4096): Promise<number> {
    const snapshot = await source.openSnapshot();
    try {
      const installer = await target.beginInstall();
      let chunks = 0;
      for await (const pairs of snapshot.chunks(maxBytesPerChunk)) {
        await installer.write(pairs);
        chunks++;
      }
      await installer.finish({
        metadata: { index: snapshot.appliedIndex, term: snapshot.appliedTerm, confState: snapshot.confState },
        members: snapshot.members,
        checksum: snapshot.checksum(),
      });
      return chunks;
    } finally {
      await snapshot.close();
    }
  }

  it('exports a snapshot that installs into a second store with an equal digest', async () => {
    const source = await populated(50, 300);
    const targetDir = await temp.make();
    const target = await ReplicaStore.open(targetDir);
    await target.persist({ hardState: { term: 1, vote: '', commit: 2 }, entries: entries(1, 4, 1) }, { sync: true });
    await target.applyBatch([{ type: 'put', key: 'user/stale', value: bytes('old') }], 2, 1);
    const chunks = await transfer(source, target);
    assert.ok(chunks > 1, `expected several chunks, got ${chunks}`);
    const expected = await source.digest(classify);
    const actual = await target.digest(classify);
    assert.deepEqual(actual, expected);
    assert.deepEqual(expected.counts, { user: 50, msg: 300 });
    assert.equal(await target.keyspace().get('user/stale'), undefined);
    await target.close();
    // After a restart: the new state, an empty log after the snapshot index, commit caught up.
    const reopened = await ReplicaStore.open(targetDir);
    const state = await reopened.load();
    assert.deepEqual(state.snapshot, { index: 10, term: 3, confState });
    assert.equal(state.appliedIndex, 10);
    assert.equal(state.appliedTerm, 3);
    assert.deepEqual(state.entries, []);
    assert.equal(state.hardState.commit, 10);
    assert.deepEqual(state.members, members);
    assert.deepEqual(await reopened.digest(classify), expected);
    await reopened.persist({ entries: entries(11, 12, 4) }, { sync: true });
    assert.deepEqual((await reopened.load()).entries, entries(11, 12, 4));
    await reopened.close();
    await source.close();
    // The replaced generation's keys are gone.
    await withRawDatabase(targetDir, async (db) => assert.equal(await countKeys(keyspaceLevel(db, 0)), 0));
  });

  it('drops in the swap a stale tail past the snapshot point, and the entries below it after', async () => {
    const source = await populated(3, 0);
    const targetDir = await temp.make();
    const target = await ReplicaStore.open(targetDir);
    // A follower with a divergent tail (term 1) beyond the snapshot's index 10 (term 3).
    await target.persist({ hardState: { term: 1, vote: '', commit: 2 }, entries: entries(1, 14, 1) }, { sync: true });
    await target.applyBatch([], 2, 1);
    await transfer(source, target);
    // Straight after the swap, before the background deletion is awaited anywhere.
    assert.deepEqual((await target.load()).entries, []);
    await target.persist({ entries: entries(11, 12, 4) }, { sync: true });
    assert.deepEqual((await target.load()).entries, entries(11, 12, 4));
    await target.close();
    await source.close();
    await withRawDatabase(targetDir, async (db) => assert.equal(await countKeys(logLevel(db)), 2));
  });

  it('streams the keyspace as of openSnapshot, not the writes that follow it', async () => {
    const source = await populated(3, 0);
    const before = await source.digest();
    const snapshot = await source.openSnapshot();
    await source.persist({ entries: entries(11, 11, 3) }, { sync: false });
    await source.applyBatch([{ type: 'put', key: 'user/late', value: bytes('x') }, { type: 'del', key: 'user/00000' }], 11, 3);
    const pairs: KeyValuePair[] = [];
    for await (const chunk of snapshot.chunks(1 << 20)) pairs.push(...chunk);
    assert.equal(snapshot.appliedIndex, 10);
    assert.deepEqual(pairs.map((p) => text(p.key)), ['user/00000', 'user/00001', 'user/00002']);
    assert.equal(Buffer.from(snapshot.checksum()).toString('hex'), before.digest);
    assert.equal(snapshot.pairs, 3);
    await snapshot.close();
    await source.close();
  });

  it('keeps the old state when an installation is aborted midway', async () => {
    const source = await populated(20, 20);
    const targetDir = await temp.make();
    const target = await ReplicaStore.open(targetDir);
    await target.persist({ entries: entries(1, 2, 1) }, { sync: true });
    await target.applyBatch([{ type: 'put', key: 'user/keep', value: bytes('me') }], 2, 1);
    const before = await target.digest();
    const snapshot = await source.openSnapshot();
    const installer = await target.beginInstall();
    for await (const pairs of snapshot.chunks(256)) {
      await installer.write(pairs);
      break;
    }
    await installer.abort();
    await snapshot.close();
    assert.deepEqual(await target.digest(), before);
    assert.equal((await target.load()).appliedIndex, 2);
    await target.close();
    await withRawDatabase(targetDir, async (db) => {
      assert.equal(await countKeys(keyspaceLevel(db, installer.generation)), 0);
      assert.equal(await metaLevel(db).get(MetaKey.staging), undefined);
    });
    await source.close();
  });

  it('refuses a snapshot whose checksum differs and keeps the old state', async () => {
    const source = await populated(5, 5);
    const target = await ReplicaStore.open(await temp.make());
    const before = await target.digest();
    const snapshot = await source.openSnapshot();
    const installer = await target.beginInstall();
    for await (const pairs of snapshot.chunks(128)) await installer.write(pairs.slice(1));
    const checksum = snapshot.checksum();
    await assert.rejects(
      installer.finish({ metadata: { index: 10, term: 3, confState }, members, checksum }),
      (err: unknown) => err instanceof StorageError && err.code === 'CHECKSUM_MISMATCH' && /index 10/.test(err.message),
    );
    assert.deepEqual(await target.digest(), before);
    // The failed installation is over: a new one may start.
    const again = await target.beginInstall();
    await again.abort();
    await snapshot.close();
    await Promise.all([source.close(), target.close()]);
  });

  it('allows one installation at a time', async () => {
    const store = await ReplicaStore.open(await temp.make());
    const first = await store.beginInstall();
    await assert.rejects(store.beginInstall(), { code: 'INSTALL_IN_PROGRESS' });
    await first.abort();
    await store.close();
  });

  it('leaves the old state and clears the staging generation after a crash before finish', async () => {
    const source = await populated(10, 10);
    const targetDir = await temp.make();
    const target = await ReplicaStore.open(targetDir);
    await target.persist({ hardState: { term: 1, vote: 'n9', commit: 3 }, entries: entries(1, 3, 1) }, { sync: true });
    await target.applyBatch([{ type: 'put', key: 'user/old', value: bytes('1') }], 3, 1);
    const before = await target.digest();
    const snapshot = await source.openSnapshot();
    const installer: SnapshotInstaller = await target.beginInstall();
    for await (const pairs of snapshot.chunks(64)) await installer.write(pairs);
    await snapshot.close();
    // The crash: the process stops between the last chunk and the swap.
    await target.close();
    await withRawDatabase(targetDir, async (db) => {
      assert.ok((await countKeys(keyspaceLevel(db, installer.generation))) > 0, 'staged pairs are on disk before the restart');
    });
    const reopened = await ReplicaStore.open(targetDir);
    const state = await reopened.load();
    assert.equal(state.appliedIndex, 3);
    assert.deepEqual(state.entries, entries(1, 3, 1));
    assert.deepEqual(state.hardState, { term: 1, vote: 'n9', commit: 3 });
    assert.deepEqual(await reopened.digest(), before);
    await reopened.close();
    await withRawDatabase(targetDir, async (db) => {
      assert.equal(await countKeys(keyspaceLevel(db, installer.generation)), 0);
      assert.equal(await metaLevel(db).get(MetaKey.staging), undefined);
    });
    await source.close();
  });

  it('finishes deleting a replaced generation on open after a crash right after the swap', async () => {
    const storeDir = await temp.make();
    const store = await populated(4, 4, storeDir);
    const expected = await store.digest();
    await store.close();
    // The swap committed (generation 1 live, 0 retired) but the background deletion never ran.
    await withRawDatabase(storeDir, async (db) => {
      const old = keyspaceLevel(db, 0);
      const live = keyspaceLevel(db, 1);
      for await (const [key, value] of old.iterator()) await live.put(key, value);
      await metaLevel(db).batch([
        { type: 'put', key: MetaKey.generation, value: encodeMeta(1) },
        { type: 'put', key: MetaKey.retired, value: encodeMeta(0) },
      ]);
    });
    const reopened = await ReplicaStore.open(storeDir);
    assert.deepEqual(await reopened.digest(), expected);
    await reopened.close();
    await withRawDatabase(storeDir, async (db) => {
      assert.equal(await countKeys(keyspaceLevel(db, 0)), 0);
      assert.equal(await metaLevel(db).get(MetaKey.retired), undefined);
      assert.equal(await countKeys(logLevel(db)), 10);
    });
  });

  it('digests equal keyspaces equally and different ones differently', async () => {
    const a = await populated(3, 3);
    const b = await populated(3, 3);
    assert.equal((await a.digest()).digest, (await b.digest()).digest);
    await b.persist({ entries: entries(11, 11, 3) }, { sync: false });
    await b.applyBatch([{ type: 'put', key: 'msg/00000000', value: bytes('edited') }], 11, 3);
    assert.notEqual((await a.digest()).digest, (await b.digest()).digest);
    await Promise.all([a.close(), b.close()]);
  });
});
