// The ConfChange codec and the single-server change rules.
import assert from 'node:assert/strict';
import {
  ConfChangeType, RaftError, applyConfChangeToConfState, decodeConfChange, encodeConfChange, mulberry32,
} from '../../src/raft/index.js';

const invalid = (err: unknown): boolean => err instanceof RaftError && err.code === 'CONF_CHANGE_INVALID';
const cs = { voters: ['n1', 'n2'], learners: ['n3'] };

describe('ConfChange codec', () => {
  it('round-trips type, node id, context and the resulting configuration', () => {
    const cc = { type: ConfChangeType.AddNode, nodeId: 'raftchat-3', context: new Uint8Array([1, 2, 3]),
      confStateAfter: { voters: ['a', 'b'], learners: ['ü'] } };
    assert.deepEqual(decodeConfChange(encodeConfChange(cc)), cc);
    const bare = { type: ConfChangeType.RemoveNode, nodeId: 'n1', context: new Uint8Array() };
    assert.deepEqual(decodeConfChange(encodeConfChange(bare)), bare);
  });

  it('reads the version-1 encoding (no resulting configuration)', () => {
    const v1 = new Uint8Array([1, ConfChangeType.AddLearner, 0, 2, 110, 52, 9, 9]);
    assert.deepEqual(decodeConfChange(v1), { type: ConfChangeType.AddLearner, nodeId: 'n4', context: new Uint8Array([9, 9]) });
  });

  it('rejects garbage with CONF_CHANGE_INVALID', () => {
    assert.throws(() => decodeConfChange(new Uint8Array([])), invalid);
    assert.throws(() => decodeConfChange(new Uint8Array([7, 0, 0, 0])), invalid);
    assert.throws(() => decodeConfChange(new Uint8Array([2, 9, 0, 0])), invalid);
    assert.throws(() => decodeConfChange(new Uint8Array([2, 0, 0, 5, 1])), invalid);
  });
});

describe('single-server configuration changes', () => {
  it('AddNode adds a voter or promotes a learner', () => {
    assert.deepEqual(applyConfChangeToConfState(cs, { type: ConfChangeType.AddNode, nodeId: 'n4', context: new Uint8Array() }),
      { voters: ['n1', 'n2', 'n4'], learners: ['n3'] });
    assert.deepEqual(applyConfChangeToConfState(cs, { type: ConfChangeType.AddNode, nodeId: 'n3', context: new Uint8Array() }),
      { voters: ['n1', 'n2', 'n3'], learners: [] });
  });

  it('RemoveNode removes a voter or a learner, but never the last voter', () => {
    assert.deepEqual(applyConfChangeToConfState(cs, { type: ConfChangeType.RemoveNode, nodeId: 'n3', context: new Uint8Array() }),
      { voters: ['n1', 'n2'], learners: [] });
    assert.throws(() => applyConfChangeToConfState({ voters: ['n1'], learners: [] },
      { type: ConfChangeType.RemoveNode, nodeId: 'n1', context: new Uint8Array() }), invalid);
  });

  it('refuses changes that do not apply to the configuration', () => {
    const bad = [
      { type: ConfChangeType.AddNode, nodeId: 'n1' },
      { type: ConfChangeType.AddLearner, nodeId: 'n3' },
      { type: ConfChangeType.AddLearner, nodeId: 'n2' },
      { type: ConfChangeType.RemoveNode, nodeId: 'n9' },
      { type: ConfChangeType.AddNode, nodeId: '' },
    ];
    for (const b of bad) assert.throws(() => applyConfChangeToConfState(cs, { ...b, context: new Uint8Array() }), invalid);
  });
});

describe('mulberry32', () => {
  it('replays the same sequence from the same seed, in [0, 1)', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const c = mulberry32(43);
    const xs = Array.from({ length: 1000 }, () => a());
    assert.deepEqual(xs, Array.from({ length: 1000 }, () => b()));
    assert.notDeepEqual(xs.slice(0, 10), Array.from({ length: 10 }, () => c()));
    for (const x of xs) assert.ok(x >= 0 && x < 1);
  });
});
