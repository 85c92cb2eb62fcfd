// The chat state machine's keyspace: a sublevel of the replica's database with utf8 keys and binary
// values. Which sublevel is live changes when a snapshot is installed (see storage helper docs).
import type { AbstractSublevel } from 'abstract-level';
import type { ClassicLevel } from 'classic-level';

export type Keyspace = AbstractSublevel<ClassicLevel<string, Uint8Array>, string | Uint8Array, string, Uint8Array>;
