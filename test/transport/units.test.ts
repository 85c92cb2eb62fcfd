// The transport's small parts on their own: the message codec and its validation, the bounded send
// queue's drop policy, the reconnect back-off and the snapshot digest.

import assert from 'node:assert/strict';
import { RaftBatch } from '../../src/gen/raftchat/peer/v1/peer.js';
import type { DeepPartial } from '../../src/gen/raftchat/peer/v1/peer.js';
import { MessageType } from '../../src/raft/types.js';
import { Backoff } from '../../src/transport/backoff.js';
import { decodeBatch, encodeBatch, toRaftMessage, toRaftMessages } from '../../src/transport/codec.js';
import { SendQueue } from '../../src/transport/send-queue.js';
import { SnapshotDigest } from '../../src/transport/index.js';
import { entry, message, plain } from './helpers.js';

describe('transport: codec', () => {
  it('round-trips every field of a message, a Snap message included', () => {
    const messages = [
      message({ from: 'a', to: 'b', term: 9, logTerm: 8, index: 2 ** 40, commit: 7, entries: [entry(1, 'x'), entry(2, '')], context: new Uint8Array([1]) }),
      message({ type: MessageType.AppResp, from: 'a', to: 'b', reject: true, rejectHint: 3, hintTerm: 2 }),
      message({
        type: MessageType.Snap, from: 'a', to: 'b',
        snapshot: { metadata: { index: 5, term: 4, confState: { voters: ['a', 'b'], learners: [] } }, data: new Uint8Array([5]) },
      }),
    ];
    const decoded = decodeBatch(encodeBatch({ clusterId: 'c', messages }));
    assert.ok(decoded.ok);
    assert.equal(decoded.value.clusterId, 'c');
    const checked = decoded.value.messages.map((wire) => toRaftMessage(wire, 'a', 'b'));
    assert.ok(checked.every((c) => c.ok));
    assert.deepEqual(
      checked.map((c) => (c.ok ? c.value : undefined)!).map((m) => ({ ...plain(m), snapshot: m.snapshot && { ...m.snapshot, data: [...m.snapshot.data] } })),
      messages.map((m) => ({ ...plain(m), snapshot: m.snapshot && { ...m.snapshot, data: [...m.snapshot.data] } })),
    );
  });

  it('fills in an empty conf state on a Snap that carries none', () => {
    const wire = RaftBatch.fromPartial({ messages: [{ type: MessageType.Snap, from: 'a', to: 'b', snapshot: { metadata: { index: 1, term: 1 } } }] });
    const checked = toRaftMessage(wire.messages[0]!, 'a', 'b');
    assert.ok(checked.ok);
    assert.deepEqual(checked.value.snapshot!.metadata.confState, { voters: [], learners: [] });
  });

  it('refuses a Snap without snapshot metadata', () => {
    const wire = RaftBatch.fromPartial({ messages: [{ type: MessageType.Snap, from: 'a', to: 'b', snapshot: {} }] });
    assert.equal(toRaftMessage(wire.messages[0]!, 'a', 'b').ok, false);
  });

  it('says why a message is refused', () => {
    const refusal = (fields: DeepPartial<RaftBatch>) => {
      const checked = toRaftMessages(RaftBatch.fromPartial(fields).messages, 'a', 'b');
      return checked.ok ? 'accepted' : checked.kind;
    };
    assert.equal(refusal({ messages: [{ type: 13, from: 'a', to: 'b' }] }), 'invalid');
    assert.equal(refusal({ messages: [{ from: 'a', to: 'b', entries: [{ type: 2 }] }] }), 'invalid');
    assert.equal(refusal({ messages: [{ from: 'a', to: 'b', snapshot: {} }] }), 'invalid');
    assert.equal(refusal({ messages: [{ type: MessageType.Snap, from: 'a', to: 'b' }] }), 'invalid');
    const fullSnap = { type: MessageType.Snap, from: 'a', to: 'b', snapshot: { metadata: { index: 1, term: 1 } } };
    assert.equal(refusal({ messages: [fullSnap] }), 'invalid', 'a Snap belongs on a Snapshot call');
    assert.equal(refusal({ messages: [{ from: 'c', to: 'b' }] }), 'impersonation');
    assert.equal(refusal({ messages: [{ from: 'a', to: 'c' }] }), 'misdirected');
    assert.equal(refusal({ messages: [{ type: MessageType.TransferLeader, from: 'a', to: 'b' }] }), 'accepted');
  });
});

describe('transport: send queue', () => {
  it('drops the oldest App or Heartbeat first and keeps votes, in order', () => {
    const queue = new SendQueue({ maxQueuedMessages: 3, maxQueuedBytes: 1 << 20 });
    queue.push(message({ type: MessageType.Vote, from: 'a', to: 'b', index: 1 }));
    queue.push(message({ type: MessageType.App, from: 'a', to: 'b', index: 2 }));
    queue.push(message({ type: MessageType.Heartbeat, from: 'a', to: 'b', index: 3 }));
    queue.push(message({ type: MessageType.TimeoutNow, from: 'a', to: 'b', index: 4 }));
    queue.push(message({ type: MessageType.App, from: 'a', to: 'b', index: 5 }));
    assert.equal(queue.droppedMessages, 2);
    assert.deepEqual(queue.takeBatch(1 << 20).map((m) => m.index), [1, 4, 5]);
    assert.equal(queue.length, 0);
  });

  it('drops the oldest message of any kind when none is expendable', () => {
    const queue = new SendQueue({ maxQueuedMessages: 2, maxQueuedBytes: 1 << 20 });
    for (let i = 1; i <= 4; i++) queue.push(message({ type: MessageType.Vote, from: 'a', to: 'b', index: i }));
    assert.deepEqual(queue.takeBatch(1 << 20).map((m) => m.index), [3, 4]);
  });

  it('bounds queued bytes, yet keeps a single message larger than the bound', () => {
    const queue = new SendQueue({ maxQueuedMessages: 100, maxQueuedBytes: 10_000 });
    for (let i = 0; i < 10; i++) queue.push(message({ from: 'a', to: 'b', index: i, entries: [entry(i, 'x'.repeat(3_000))] }));
    assert.equal(queue.length, 3);
    queue.push(message({ from: 'a', to: 'b', index: 99, entries: [entry(99, 'x'.repeat(50_000))] }));
    assert.deepEqual(queue.takeBatch(1 << 20).map((m) => m.index), [99]);
  });

  it('cuts batches by bytes, always taking at least one message', () => {
    const queue = new SendQueue({ maxQueuedMessages: 100, maxQueuedBytes: 1 << 20 });
    for (let i = 0; i < 5; i++) queue.push(message({ from: 'a', to: 'b', index: i, entries: [entry(i, 'x'.repeat(1_000))] }));
    assert.deepEqual(queue.takeBatch(2_500).map((m) => m.index), [0, 1]);
    assert.deepEqual(queue.takeBatch(10).map((m) => m.index), [2]);
    assert.deepEqual(queue.takeBatch(1 << 20).map((m) => m.index), [3, 4]);
  });
});

describe('transport: reconnect back-off', () => {
  it('doubles from the minimum to the maximum, jittered within [delay/2, delay), and resets', () => {
    let draw = 0;
    const draws = [0, 0.999, 0.5];
    const backoff = new Backoff({ minMs: 50, maxMs: 2_000, random: () => draws[draw++ % draws.length]! });
    const delays = Array.from({ length: 9 }, () => backoff.nextDelayMs());
    const bases = [50, 100, 200, 400, 800, 1_600, 2_000, 2_000, 2_000];
    delays.forEach((delayMs, i) => {
      assert.ok(delayMs >= bases[i]! / 2 && delayMs < bases[i]!, `attempt ${i}: ${delayMs} outside [${bases[i]! / 2}, ${bases[i]})`);
    });
    backoff.reset();
    assert.ok(backoff.nextDelayMs() < 50);
  });
});

describe('transport: snapshot digest', () => {
  it('tells ("ab","c") from ("a","bc") and counts pairs and bytes', () => {
    const one = new SnapshotDigest();
    one.update([{ key: Buffer.from('ab'), value: Buffer.from('c') }]);
    const two = new SnapshotDigest();
    two.update([{ key: Buffer.from('a'), value: Buffer.from('bc') }]);
    assert.equal(one.pairs, 1);
    assert.equal(one.bytes, 3);
    assert.notDeepEqual(Buffer.from(one.digest()), Buffer.from(two.digest()));
  });

  it('does not depend on how pairs are split into chunks', () => {
    const pairs = Array.from({ length: 10 }, (_, i) => ({ key: Buffer.from(`k${i}`), value: Buffer.from(`v${i}`) }));
    const whole = new SnapshotDigest();
    whole.update(pairs);
    const split = new SnapshotDigest();
    split.update(pairs.slice(0, 3));
    split.update(pairs.slice(3));
    assert.deepEqual(Buffer.from(whole.digest()), Buffer.from(split.digest()));
  });
});
