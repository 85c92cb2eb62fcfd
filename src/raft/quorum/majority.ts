// Majority quorums (§5.2, §5.3): the index a majority of voters has, and whether a vote is decided.
import type { NodeId } from '../types.js';

export type VoteResult = 'won' | 'lost' | 'pending';

export function quorumSize(voterCount: number): number {
  return Math.floor(voterCount / 2) + 1;
}

/**
 * The largest index that a majority of `voters` have matched (missing voters count as 0). The
 * leader may commit up to it — when that entry is from its own term (§5.4.2). `scratch` is reused
 * between calls: this runs on every acknowledgement.
 */
export function committedIndex(voters: ReadonlySet<NodeId>, matchOf: (id: NodeId) => number, scratch: number[] = []): number {
  const n = voters.size;
  if (n === 0) return 0;
  scratch.length = n;
  let i = 0;
  for (const id of voters) {
    // Insertion sort, descending: voter sets are small.
    const m = matchOf(id);
    let j = i++;
    while (j > 0 && (scratch[j - 1] as number) < m) {
      scratch[j] = scratch[j - 1] as number;
      j--;
    }
    scratch[j] = m;
  }
  return scratch[quorumSize(n) - 1] as number;
}

/** Won once a majority granted, lost once a majority can no longer grant; else pending. */
export function voteResult(voters: ReadonlySet<NodeId>, votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  if (voters.size === 0) return 'won';
  let granted = 0;
  let missing = 0;
  for (const id of voters) {
    const v = votes.get(id);
    if (v === undefined) missing++;
    else if (v) granted++;
  }
  const q = quorumSize(voters.size);
  if (granted >= q) return 'won';
  if (granted + missing >= q) return 'pending';
  return 'lost';
}
