// The state machine's side of the store: the keyspace changes and the applied point land together,
// membership rides along with a conf change, and bootstrap gives a fresh volume its identity.
import assert from 'node:assert/strict';
import { ReplicaStore, StorageError } from '../../src/storage/index.js';
import { keyspaceLevel, logLevel, metaLevel } from '../../src/storage/layout.js';
import { logKey } from '../../src/storage/log-codec.js';
import { MetaKey } from '../../src/storage/meta-codec.js';
import type { MemberInfo } from '../../src/gen/raftchat/command/v1/command.js';
import { InvariantError } from '../../src/raft/errors.js';
import { TempDirs, bytes, entries, text, withRawDatabase } from './helpers.js';

const member = (id: string): MemberInfo => ({
  id,
  peerAddress: `${id}.peers:7000`,
  clientAddress: `${id}.clients:8000`,
  incarnation: `inc-${id}`,
  learnerOnly: false,
});

describe('ReplicaStore applied state', () => {
  const temp = new TempDirs();
  afterEach(() => temp.cleanup());

  it('writes keyspace changes and the applied index together so a restart sees both', async () => {
    const dir = await temp.make();
    const store = await ReplicaStore.open(dir);
    await store.persist({ entries: entries(1, 3, 1) }, { sync: true });
    await store.applyBatch([{ type: 'put', key: 'user/alice', value: bytes('a') }, { type: 'put', key: 'user/bob', value: bytes('b') }], 2, 1);
    await store.applyBatch([{ type: 'del', key: 'user/bob' }], 3, 1);
    await store.close();
    const reopened = await ReplicaStore.open(dir);
    const state = await reopened.load();
    assert.equal(state.appliedIndex, 3);
    assert.equal(state.appliedTerm, 1);
    assert.equal(text(await reopened.keyspace().get('user/alice')), 'a');
    assert.equal(await reopened.keyspace().get('user/bob'), undefined);
    await reopened.close();
  });

  it('puts the keyspace changes and the applied point in one engine batch', async () => {
    const dir = await temp.make();
    const store = await ReplicaStore.open(dir);
    await store.persist({ entries: entries(1, 1, 1) }, { sync: true });
    // Record every batch the engine receives: one applyBatch must be exactly one of them.
    const db = (store as unknown as { db: { batch: (...args: unknown[]) => { length: number; write: (...a: unknown[]) => Promise<void> } } }).db;
    const written: number[] = [];
    const realBatch = db.batch.bind(db);
    db.batch = (...args: unknown[]) => {
      const chained = realBatch(...args);
      const write = chained.write.bind(chained);
      chained.write = (...a: unknown[]) => {
        written.push(chained.length);
        return write(...a);
      };
      return chained;
    };
    await store.applyBatch([{ type: 'put', key: 'k', value: bytes('v') }], 1, 1);
    assert.deepEqual(written, [2], 'one engine batch holding the change and the applied point');
    await store.close();
  });

  it('records the configuration and member table of a conf change with its applied index', async () => {
    const dir = await temp.make();
    const store = await ReplicaStore.open(dir);
    await store.persist({ entries: entries(1, 2, 1) }, { sync: true });
    const confState = { voters: ['n1'], learners: ['n2'] };
    await store.applyBatch([], 2, 1, { confState, members: [member('n1'), member('n2')] });
    await store.close();
    const reopened = await ReplicaStore.open(dir);
    const state = await reopened.load();
    assert.deepEqual(state.confState, confState);
    assert.deepEqual(state.members, [member('n1'), member('n2')]);
    assert.equal(state.appliedIndex, 2);
    await reopened.close();
  });

  it('records a moved commit index in the apply batch, never moving it back', async () => {
    const dir = await temp.make();
    const store = await ReplicaStore.open(dir);
    const hardState = { term: 2, vote: 'n1', commit: 1 };
    await store.persist({ entries: entries(1, 4, 2), hardState }, { sync: true });
    await store.applyBatch([{ type: 'put', key: 'k', value: bytes('v') }], 3, 2, { commit: 3 });
    await store.applyBatch([], 3, 2, { commit: 2 });
    await store.close();
    const reopened = await ReplicaStore.open(dir);
    const state = await reopened.load();
    assert.deepEqual(state.hardState, { term: 2, vote: 'n1', commit: 3 }, 'term and vote kept, commit moved to 3 and not back');
    assert.equal(state.appliedIndex, 3);
    await reopened.close();
  });

  it('refuses to move the applied index backwards', async () => {
    const store = await ReplicaStore.open(await temp.make());
    await store.persist({ entries: entries(1, 3, 1) }, { sync: true });
    await store.applyBatch([], 3, 1);
    await assert.rejects(store.applyBatch([], 2, 1), InvariantError);
    await store.close();
  });

  it('throws CORRUPT on load when entries were applied that the log no longer holds', async () => {
    const dir = await temp.make();
    const store = await ReplicaStore.open(dir);
    await store.persist({ entries: entries(1, 3, 1) }, { sync: true });
    await store.applyBatch([], 3, 1);
    await store.close();
    // A lost log tail (a disk that acknowledged writes it never made): the applied point outruns it.
    await withRawDatabase(dir, (db) => logLevel(db).del(logKey(3)));
    const reopened = await ReplicaStore.open(dir);
    await assert.rejects(reopened.load(), { code: 'CORRUPT', message: /applied but the log ends at 2/ });
    await reopened.close();
  });

  it('bootstraps a fresh volume once and refuses a second bootstrap', async () => {
    const dir = await temp.make();
    const store = await ReplicaStore.open(dir);
    const confState = { voters: ['n1'], learners: [] };
    await store.bootstrap({ clusterId: 'c-1', incarnation: 'i-1', confState, members: [member('n1')] });
    await assert.rejects(
      store.bootstrap({ clusterId: 'c-2', incarnation: 'i-2', confState, members: [] }),
      (err: unknown) => err instanceof StorageError && err.code === 'ALREADY_BOOTSTRAPPED' && /c-1/.test(err.message),
    );
    await store.close();
    const reopened = await ReplicaStore.open(dir);
    const state = await reopened.load();
    assert.equal(state.clusterId, 'c-1');
    assert.equal(state.incarnation, 'i-1');
    assert.deepEqual(state.snapshot, { index: 0, term: 0, confState });
    assert.deepEqual(state.confState, confState);
    assert.deepEqual(state.members, [member('n1')]);
    await reopened.close();
  });

  it('throws CORRUPT naming the record when a meta record is damaged', async () => {
    const dir = await temp.make();
    const store = await ReplicaStore.open(dir);
    await store.persist({ hardState: { term: 1, vote: 'n1', commit: 0 }, entries: [] }, { sync: true });
    await store.close();
    await withRawDatabase(dir, (db) => metaLevel(db).put(MetaKey.hardState, '{"term":"one"}'));
    await assert.rejects(ReplicaStore.open(dir), { code: 'CORRUPT', message: /meta record 'hardState'/ });
  });

  it('serves the live keyspace as a sublevel of the replica database', async () => {
    const dir = await temp.make();
    const store = await ReplicaStore.open(dir);
    await store.persist({ entries: entries(1, 1, 1) }, { sync: true });
    await store.applyBatch([{ type: 'put', key: 'x', value: bytes('1') }], 1, 1);
    await store.close();
    await withRawDatabase(dir, async (db) => assert.equal(text(await keyspaceLevel(db, 0).get('x')), '1'));
  });
});
