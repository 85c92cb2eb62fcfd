// A full, non-incremental Log Matching check (§5.3) across replicas' logs: the belt to the
// checker's braces, run now and then and at the end of every run.
import type { Entry, NodeId } from '../../src/raft/index.js';
import type { SimReplica } from './replica.js';
import { violated } from './violation.js';

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function entriesOf(replica: SimReplica, lo: number, hi: number): Entry[] {
  return hi < lo ? [] : replica.storage.entries(lo, hi + 1, Number.MAX_SAFE_INTEGER);
}

/** Any two logs that hold an entry with the same index and term are identical up to it. */
export function scanLogMatching(replicas: readonly SimReplica[]): void {
  for (let a = 0; a < replicas.length; a++) {
    for (let b = a + 1; b < replicas.length; b++) {
      scanPair(replicas[a] as SimReplica, replicas[b] as SimReplica);
    }
  }
}

function scanPair(left: SimReplica, right: SimReplica): void {
  const lo = Math.max(left.storage.firstIndex(), right.storage.firstIndex());
  const hi = Math.min(left.storage.lastIndex(), right.storage.lastIndex());
  const leftEntries = entriesOf(left, lo, hi);
  const rightEntries = entriesOf(right, lo, hi);
  let matched = -1;
  for (let k = leftEntries.length - 1; k >= 0; k--) {
    if (leftEntries[k]?.term === rightEntries[k]?.term) {
      matched = k;
      break;
    }
  }
  for (let k = 0; k <= matched; k++) {
    const l = leftEntries[k] as Entry;
    const r = rightEntries[k] as Entry;
    if (l.term !== r.term || !sameBytes(l.data, r.data)) {
      fail(left.id, right.id, l.index, (rightEntries[matched] as Entry).index);
    }
  }
}

function fail(leftId: NodeId, rightId: NodeId, index: number, matchedIndex: number): never {
  violated(
    'log-matching',
    `${leftId} and ${rightId} agree at ${matchedIndex} but differ at ${index} (full scan)`,
  );
}
