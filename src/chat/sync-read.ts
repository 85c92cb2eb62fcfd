// Whether a keyspace read can skip libuv's thread pool: abstract-level 3's getSync, which classic-level
// implements, answers from the memtable, block cache or OS page cache in microseconds.
import type { Keyspace } from '../storage/keyspace.js';

/**
 * True when `keyspace.getSync` will answer now. The type does not name the `getSync` flag yet, and a
 * sublevel made a moment ago is still opening: getSync would throw where an async read would wait.
 */
export function canReadSync(keyspace: Keyspace): boolean {
  const { supports } = keyspace;
  return 'getSync' in supports && supports.getSync === true && keyspace.status === 'open';
}
