// The checker's rules on hand-made observations: a clean run passes, and each kind of violation —
// one lost message, one duplicate, one digest mismatch, one subscriber gap — is flagged on its own.
import assert from 'node:assert/strict';
import { checkObservations, formatReport, type ObservedMessage, type Observations, type ReplicaObservation } from '../../src/chaos/checker.js';
import { firstAckAfter, longestAckGap, type SendRecord, type SubscriberRecord } from '../../src/chaos/workload-records.js';

function send(requestId: string, recipient: string, outcome: SendRecord['outcome'], id?: number, endedAtMs = 0): SendRecord {
  return { requestId, sender: 'alice', recipient, firstServer: 'r0', startedAtMs: endedAtMs, endedAtMs, outcome, ...(id === undefined ? {} : { id }) };
}

function stored(s: SendRecord, id = s.id ?? 0): ObservedMessage {
  return { id, sender: s.sender, recipient: s.recipient, body: s.requestId };
}

const DIGEST = { appliedIndex: 40, digest: 'ab'.repeat(32) };

function replica(name: string, messages: readonly ObservedMessage[], digest = DIGEST): ReplicaObservation {
  const inboxes = new Map<string, ObservedMessage[]>([['bob', []], ['carol', []]]);
  for (const m of [...messages].sort((a, b) => a.id - b.id)) inboxes.get(m.recipient)!.push(m);
  return { replica: name, inboxes, digest };
}

function subscriber(user: string, messages: readonly ObservedMessage[]): SubscriberRecord {
  return { user, delivered: messages.filter((m) => m.recipient === user).map((m) => ({ ...m })) };
}

/** Three acknowledged sends and one uncertain that landed, seen identically everywhere. */
function cleanRun(): { sends: SendRecord[]; messages: ObservedMessage[]; observations: Observations } {
  const sends = [send('q1', 'bob', 'acknowledged', 11), send('q2', 'carol', 'acknowledged', 12), send('q3', 'bob', 'uncertain'), send('q4', 'bob', 'acknowledged', 14)];
  const messages = [stored(sends[0]!), stored(sends[1]!), stored(sends[2]!, 13), stored(sends[3]!)];
  return {
    sends,
    messages,
    observations: {
      sends,
      subscribers: [subscriber('bob', messages), subscriber('carol', messages)],
      replicas: ['r0', 'r1', 'r2'].map((name) => replica(name, messages)),
    },
  };
}

describe('the chaos checker', () => {
  it('passes a run where every replica and subscriber saw exactly what was acknowledged', () => {
    const report = checkObservations(cleanRun().observations);
    assert.equal(report.ok, true, formatReport(report));
    assert.equal(report.counts.acknowledged, 3);
    assert.equal(report.counts.uncertainApplied, 1);
    assert.equal(report.counts.appliedIndex, 40);
    assert.match(formatReport(report), /^PASS: 3 acknowledged, 1 uncertain \(1 applied\)/);
  });

  it('flags a single acknowledged message missing on one replica', () => {
    const { observations, messages } = cleanRun();
    const replicas = [...observations.replicas];
    replicas[2] = replica('r2', messages.filter((m) => m.id !== 12));
    const report = checkObservations({ ...observations, replicas });
    assert.equal(report.ok, false);
    assert.deepEqual(report.lost, [{ replica: 'r2', id: 12, requestId: 'q2', recipient: 'carol' }]);
    assert.equal(report.duplicates.length, 0);
    assert.equal(report.divergent.length, 1, 'r2 differs from the reference too');
    assert.match(formatReport(report), /lost acknowledged messages \(1\):\n {4}r2: id 12 \(request q2, to carol\) is missing/);
  });

  it('flags a request id stored twice, even when the send was only uncertain', () => {
    const { observations, messages, sends } = cleanRun();
    const twice = [...messages, stored(sends[2]!, 15)];
    const report = checkObservations({ ...observations, replicas: observations.replicas.map((r) => replica(r.replica, twice)) });
    assert.equal(report.ok, false);
    assert.deepEqual(report.duplicates.map((d) => [d.replica, d.requestId, d.ids]), [
      ['r0', 'q3', [13, 15]],
      ['r1', 'q3', [13, 15]],
      ['r2', 'q3', [13, 15]],
    ]);
    assert.equal(report.lost.length, 0);
    assert.match(formatReport(report), /r0: request q3 stored as ids 13, 15/);
  });

  it('flags a replica whose digest differs at the same applied index', () => {
    const { observations, messages } = cleanRun();
    const replicas = [...observations.replicas];
    replicas[1] = replica('r1', messages, { appliedIndex: 40, digest: 'cd'.repeat(32) });
    const report = checkObservations({ ...observations, replicas });
    assert.equal(report.ok, false);
    assert.equal(report.digestMismatches.length, 1);
    assert.equal(report.digestMismatches[0]!.replica, 'r1');
    assert.equal(report.digestMismatches[0]!.referenceReplica, 'r0');
    assert.equal(report.lost.length + report.duplicates.length + report.divergent.length, 0);
  });

  it('flags a subscriber that never received one message addressed to it', () => {
    const { observations, messages } = cleanRun();
    const gap = messages.filter((m) => m.id !== 13);
    const report = checkObservations({ ...observations, subscribers: [subscriber('bob', gap), subscriber('carol', messages)] });
    assert.equal(report.ok, false);
    assert.deepEqual(report.subscriberGaps, [{ user: 'bob', missingIds: [13] }]);
    assert.match(formatReport(report), /subscriber gaps \(1\):\n {4}bob: never received ids 13/);
  });

  it('does not require a subscriber to have seen messages committed after the newest acknowledged one', () => {
    const { observations, messages, sends } = cleanRun();
    const late = send('q5', 'bob', 'uncertain');
    const all = [...messages, stored(late, 20)];
    const report = checkObservations({
      sends: [...sends, late],
      subscribers: [subscriber('bob', messages), subscriber('carol', messages)],
      replicas: observations.replicas.map((r) => replica(r.replica, all)),
    });
    assert.equal(report.ok, true, formatReport(report));
  });

  it('flags a subscriber that received a message addressed to someone else', () => {
    const { observations, messages } = cleanRun();
    const bob = subscriber('bob', messages);
    bob.delivered.push({ ...messages[1]! });
    const report = checkObservations({ ...observations, subscribers: [bob, subscriber('carol', messages)] });
    assert.equal(report.ok, false);
    assert.deepEqual(report.subscriberExtras, [{ user: 'bob', id: 12, why: 'addressed to carol' }]);
  });

  it('flags a message stored for a send that was refused, and one no send explains', () => {
    const { observations, messages, sends } = cleanRun();
    const refused = { ...send('q6', 'carol', 'rejected'), errorCode: 'INVALID_ARGUMENT' };
    const phantom: ObservedMessage = { id: 30, sender: 'alice', recipient: 'carol', body: 'who-sent-this' };
    const all = [...messages, stored(refused, 21), phantom];
    const report = checkObservations({ ...observations, sends: [...sends, refused], replicas: [replica('r0', all)] });
    assert.equal(report.ok, false);
    assert.deepEqual(report.unexpected.map((u) => [u.id, u.why]), [
      [21, 'the send was refused with INVALID_ARGUMENT'],
      [30, 'no send had this request id'],
    ]);
  });

  it('flags an acknowledged message stored under another id than the one acknowledged', () => {
    const { observations, messages } = cleanRun();
    const moved = messages.map((m) => (m.id === 14 ? { ...m, id: 16 } : m));
    const report = checkObservations({ ...observations, replicas: [replica('r0', moved)], subscribers: [] });
    assert.equal(report.ok, false);
    assert.deepEqual(report.misplaced.map((m) => [m.requestId, m.acknowledgedId, m.found.id]), [['q4', 14, 16]]);
  });

  it('fails when a replica could not be read at all', () => {
    const { observations } = cleanRun();
    const replicas = [...observations.replicas, { replica: 'r3', inboxes: new Map(), digest: undefined, error: 'GetDigest failed: UNAVAILABLE' }];
    const report = checkObservations({ ...observations, replicas });
    assert.equal(report.ok, false);
    assert.deepEqual(report.unreadable, [{ replica: 'r3', error: 'GetDigest failed: UNAVAILABLE' }]);
  });
});

describe('the workload timing figures', () => {
  it('measure the longest stretch without an acknowledgement between acknowledgements and from the window edges', () => {
    const sends = [send('a', 'bob', 'acknowledged', 1, 100), send('b', 'bob', 'acknowledged', 2, 150), send('c', 'bob', 'uncertain', undefined, 900), send('d', 'bob', 'acknowledged', 3, 700)];
    assert.deepEqual(longestAckGap(sends, 0, 1000), { fromMs: 150, toMs: 700, gapMs: 550 });
    assert.deepEqual(longestAckGap(sends, 650, 2000), { fromMs: 700, toMs: 2000, gapMs: 1300 });
  });

  it('count as the first write after a fault only one issued after it', () => {
    const inFlight = { ...send('a', 'bob', 'acknowledged', 1, 1_010), startedAtMs: 990 };
    const issuedAfter = { ...send('b', 'bob', 'acknowledged', 2, 1_500), startedAtMs: 1_020 };
    assert.equal(firstAckAfter([inFlight, issuedAfter], 1_000)?.requestId, 'b');
  });
});
