// The receiving side of a snapshot: pairs land in a staging keyspace generation beside the live one,
// and only a verified checksum lets the store swap it in (ReplicaStore.beginInstall documents the
// crash story). Raft §7: the snapshot replaces the state machine and the log it covers, whole.
import { timingSafeEqual } from 'node:crypto';
import type { MemberInfo } from '../gen/raftchat/command/v1/command.js';
import type { SnapshotMetadata } from '../raft/types.js';
import { batchOptions } from './database.js';
import { StorageError } from './errors.js';
import type { Keyspace } from './keyspace.js';
import { PairHash, type KeyValuePair } from './pair-hash.js';

export interface InstallFinish {
  metadata: SnapshotMetadata;
  members: MemberInfo[];
  /** The sender's SHA-256 over every pair (SnapshotSource.checksum()). */
  checksum: Uint8Array;
}

/** What the store does at the end of an installation (the atomic swap) or on abort (discard staging). */
export interface InstallHooks {
  commit(metadata: SnapshotMetadata, members: MemberInfo[]): Promise<void>;
  discard(): Promise<void>;
  /** Records a failed write as the store's fatal failure and returns the 'IO' error to throw. */
  ioFailure(action: string, err: unknown): StorageError;
}

export class SnapshotInstaller {
  private readonly hash = new PairHash();
  private done = false;

  constructor(
    /** The database directory, named in errors. */
    private readonly location: string,
    readonly generation: number,
    private readonly staging: Keyspace,
    private readonly hooks: InstallHooks,
  ) {}

  /**
   * Adds `pairs` to the staging generation. Written with sync so that every staged pair is durable
   * before the swap batch can be: LevelDB does not fsync a log file it rotates away from, so an
   * unsynced pair could otherwise vanish in a power loss while the later, synced swap survives.
   */
  async write(pairs: KeyValuePair[]): Promise<void> {
    this.assertOpen();
    if (pairs.length === 0) return;
    for (const { key, value } of pairs) this.hash.add(key, value);
    try {
      await this.staging.batch(
        pairs.map(({ key, value }) => ({ type: 'put' as const, key, value })),
        batchOptions<Uint8Array, Uint8Array>(true, { keyEncoding: 'view', valueEncoding: 'view' }),
      );
    } catch (err) {
      throw this.hooks.ioFailure('writing a snapshot chunk', err);
    }
  }

  /** Pairs and key+value bytes written so far. */
  get pairs(): number {
    return this.hash.pairs;
  }

  get bytes(): number {
    return this.hash.bytes;
  }

  /**
   * Verifies `checksum` against the pairs written, then makes them the live keyspace with the given
   * metadata in one batch. On a mismatch the staging generation is discarded and 'CHECKSUM_MISMATCH'
   * thrown: the old state stays live.
   */
  async finish({ metadata, members, checksum }: InstallFinish): Promise<void> {
    this.assertOpen();
    this.done = true;
    const actual = this.hash.digest();
    if (actual.length !== checksum.length || !timingSafeEqual(actual, checksum)) {
      await this.hooks.discard();
      throw new StorageError(
        'CHECKSUM_MISMATCH',
        `database ${this.location}: snapshot at index ${metadata.index} has checksum ${hex(actual)} over ` +
          `${this.hash.pairs} pairs, the sender's is ${hex(checksum)}; the old state stays live`,
      );
    }
    await this.hooks.commit(metadata, members);
  }

  /** Discards the staging generation; the old state stays live. Idempotent after finish/abort. */
  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await this.hooks.discard();
  }

  private assertOpen(): void {
    if (this.done) throw new Error(`snapshot installation of generation ${this.generation} already finished or aborted`);
  }
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}
