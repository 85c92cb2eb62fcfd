// The keys a command will read when applied, named before any is applied so a whole batch's point
// reads go to the engine in one call (PendingWrites.prefetch). A hint only: a key missing here is read
// when asked for, a key named needlessly costs a little I/O, and neither changes what apply does.
import type { Command } from '../gen/raftchat/command/v1/command.js';
import { dedupCandidates } from './dedup.js';
import { accountKey, counterKey, dedupEpochKey, messageKey } from './keys.js';
import { isValidUsername } from './validation.js';

export function keysRead(command: Command): string[] {
  const kind = command.kind;
  switch (kind?.$case) {
    case 'send': {
      const { sender, recipient, requestId } = kind.value;
      if (!isValidUsername(sender) || !isValidUsername(recipient)) return [];
      const keys = [accountKey(sender), accountKey(recipient), counterKey(recipient)];
      if (requestId !== '') keys.push(...dedupCandidates(sender, requestId, kind.value.sentAtUnixMs), dedupEpochKey(sender));
      return keys;
    }
    case 'markRead':
    case 'deleteMessages': {
      const { username, ids } = kind.value;
      if (!isValidUsername(username)) return [];
      const messages = ids.filter((id) => Number.isSafeInteger(id) && id > 0).map((id) => messageKey(username, id));
      return [accountKey(username), counterKey(username), ...messages];
    }
    case 'register':
    case 'deleteAccount':
    case 'revokeSessions':
      return isValidUsername(kind.value.username) ? [accountKey(kind.value.username)] : [];
    case undefined:
      return [];
  }
}
