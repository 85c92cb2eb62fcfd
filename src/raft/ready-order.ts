// When a Ready's messages may leave before its writes are durable: the one exception to "persist,
// then send" (types.ts Ready), the leader's optimisation of thesis §10.2.1.
import type { Ready, Role } from './types.js';

/**
 * True when `rd`'s messages may be sent while its entries and hard state are still being written.
 * `roleBefore` is the role the node had when the previous Ready was handled.
 *
 * A leader's messages carry entries and commit indexes, never acknowledgements of its own log, and
 * the core counts the leader's copy of an entry when it appends it. With more than one voter a commit
 * also needs followers' acknowledgements of what this Ready sends, so it becomes visible (applied, or
 * as a commit index on the wire) only in a later Ready, after this one's writes finished. Two cases
 * must still wait:
 * - the role changed within this Ready: it may hold a follower's or candidate's acknowledgements
 *   (MsgAppResp, MsgVoteResp), which promise durable state (§5.1);
 * - the Ready commits entries it also appends (a single voter, alone in its quorum): its MsgApps
 *   would tell learners the commit index before the entries are durable here, and a crash could
 *   then lose an entry that a learner has applied.
 */
export function maySendBeforePersist(rd: Ready, roleBefore: Role): boolean {
  if (roleBefore !== 'leader' || rd.softState !== undefined) return false;
  const first = rd.entries[0];
  return first === undefined || rd.hardState === undefined || rd.hardState.commit < first.index;
}
