// The chat state machine's keyspace: a sublevel of the replica's database with utf8 keys and binary
// values. Which sublevel is live changes when a snapshot is installed: call ReplicaStore.keyspace() again.
import type { Sublevel } from './database.js';

export type Keyspace = Sublevel<string, Uint8Array>;
