// The durable storage each simulated replica starts from: a new cluster's founders, or an empty
// replica that waits to be added.
import { MemoryStorage, NONE, type NodeId } from '../../src/raft/index.js';

/**
 * The founders' storage, two ways. `MemoryStorage.bootstrap` puts the first configuration in a
 * snapshot at index 0, which a leader never sends: a replica added before any compaction gets entries
 * from index 1 and learns the configuration from the conf change entries (which carry the resulting
 * configuration). A snapshot at (1, t1) instead makes every joiner start from a snapshot.
 */
export function bootstrapStorage(voters: readonly NodeId[], atIndexZero: boolean): MemoryStorage {
  const confState = { voters: [...voters], learners: [] };
  if (atIndexZero) return MemoryStorage.bootstrap(confState);
  const storage = new MemoryStorage();
  storage.applySnapshot({ metadata: { index: 1, term: 1, confState }, data: new Uint8Array() });
  storage.setHardState({ term: 1, vote: NONE, commit: 1 });
  return storage;
}

export function emptyStorage(): MemoryStorage {
  return new MemoryStorage();
}
