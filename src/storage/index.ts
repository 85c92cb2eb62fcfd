// The storage layer's public surface: one ReplicaStore per replica, its snapshot source and installer.
export {
  ReplicaStore,
  type ApplyExtras,
  type BootstrapState,
  type DigestResult,
  type KeyspaceOperation,
  type LoadedState,
  type PersistRequest,
  type ReplicaStoreOptions,
  type WriteObserver,
  type WriteStats,
} from './store.js';
export { SnapshotSource } from './snapshot-source.js';
export { SnapshotInstaller, type InstallFinish } from './snapshot-installer.js';
export { StorageError, type StorageErrorCode } from './errors.js';
export type { Keyspace } from './keyspace.js';
export type { KeyValuePair } from './pair-hash.js';
export type { AppliedPoint } from './meta-codec.js';
