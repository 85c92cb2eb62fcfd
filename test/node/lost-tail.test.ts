import assert from 'node:assert/strict';
import { LostTailDetector } from '../../src/node/lost-tail.js';
import { newMessage } from '../../src/raft/util.js';
import { MessageType, type Message } from '../../src/raft/types.js';

function heartbeat(from: string, term: number, commit: number): Message {
  return newMessage({ type: MessageType.Heartbeat, from, to: 'n1', term, commit });
}

describe('LostTailDetector', () => {
  const self = { id: 'n1', term: 4, lastIndex: 100 };

  it('stops the replica on the third refused heartbeat in a row from one leader, naming both indexes', () => {
    const detector = new LostTailDetector();
    assert.equal(detector.refusedHeartbeat(heartbeat('n2', 4, 250), self), undefined);
    assert.equal(detector.refusedHeartbeat(heartbeat('n2', 4, 250), self), undefined);
    const err = detector.refusedHeartbeat(heartbeat('n2', 4, 250), self);
    assert.ok(err instanceof Error);
    assert.match(err.message, /log ends at index 100, but n2, leader in term 4, holds that it acknowledged entries up to index 250/);
    assert.match(err.message, /chatctl members remove n1/);
  });

  it('counts afresh when the leader or the term changes', () => {
    const detector = new LostTailDetector();
    detector.refusedHeartbeat(heartbeat('n2', 4, 250), self);
    detector.refusedHeartbeat(heartbeat('n2', 4, 250), self);
    assert.equal(detector.refusedHeartbeat(heartbeat('n3', 4, 250), self), undefined);
    assert.equal(detector.refusedHeartbeat(heartbeat('n3', 5, 250), self), undefined);
    assert.equal(detector.refusedHeartbeat(heartbeat('n3', 5, 250), self), undefined);
    assert.ok(detector.refusedHeartbeat(heartbeat('n3', 5, 250), self) instanceof Error);
  });

  it('takes no evidence from a stale term, another message type, a commit within the log, or an empty volume', () => {
    const detector = new LostTailDetector(1);
    assert.equal(detector.refusedHeartbeat(heartbeat('n2', 3, 250), self), undefined, 'a leader of an older term');
    assert.equal(detector.refusedHeartbeat({ ...heartbeat('n2', 4, 250), type: MessageType.App }, self), undefined, 'not a heartbeat');
    assert.equal(detector.refusedHeartbeat(heartbeat('n2', 4, 100), self), undefined, 'within the log');
    // A member whose volume was replaced: the leader still knows its old incarnation until it is re-added.
    assert.equal(detector.refusedHeartbeat(heartbeat('n2', 4, 250), { id: 'n1', term: 0, lastIndex: 0 }), undefined, 'an empty volume');
    assert.ok(detector.refusedHeartbeat(heartbeat('n2', 4, 250), { id: 'n1', term: 0, lastIndex: 7 }) instanceof Error, 'a volume with a log');
  });
});
