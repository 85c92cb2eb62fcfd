// Validates a single-server membership change against a configuration and computes the result
// (thesis §4.1: one voter added or removed at a time keeps any two majorities overlapping).
import { RaftError } from '../errors.js';
import { ConfChangeType, type ConfChange, type ConfState } from '../types.js';

/** The configuration after `cc`, or RaftError CONF_CHANGE_INVALID when it does not apply to `cs`. */
export function applyChange(cs: ConfState, cc: ConfChange): ConfState {
  const id = cc.nodeId;
  if (id === '') throw new RaftError('CONF_CHANGE_INVALID', 'a conf change needs a node id');
  const isVoter = cs.voters.includes(id);
  const isLearner = cs.learners.includes(id);
  switch (cc.type) {
    case ConfChangeType.AddNode:
      if (isVoter) throw new RaftError('CONF_CHANGE_INVALID', `${id} is already a voter`);
      // Adding a learner as a node promotes it (it has been catching up as a learner).
      return { voters: [...cs.voters, id], learners: cs.learners.filter((l) => l !== id) };
    case ConfChangeType.AddLearner:
      if (isLearner) throw new RaftError('CONF_CHANGE_INVALID', `${id} is already a learner`);
      if (isVoter) throw new RaftError('CONF_CHANGE_INVALID', `${id} is a voter; demotion is not supported (remove it first)`);
      return { voters: [...cs.voters], learners: [...cs.learners, id] };
    case ConfChangeType.RemoveNode:
      if (!isVoter && !isLearner) throw new RaftError('CONF_CHANGE_INVALID', `${id} is not a member`);
      if (isVoter && cs.voters.length === 1) throw new RaftError('CONF_CHANGE_INVALID', `cannot remove the last voter ${id}`);
      return { voters: cs.voters.filter((v) => v !== id), learners: cs.learners.filter((l) => l !== id) };
    default:
      throw new RaftError('CONF_CHANGE_INVALID', `unknown conf change type ${String(cc.type)}`);
  }
}
