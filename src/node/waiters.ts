// Bookkeeping between a caller and the Ready loop: proposals waiting for their entry to be applied,
// and linearizable reads waiting for a ReadIndex answer and then for the applied index to reach it.

import { randomBytes } from 'node:crypto';
import { ReplicaError } from './types.js';

interface ProposalWaiter<T> {
  term: number;
  resolve(value: T): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * Proposals by log index. An entry applied at a waiter's index with the waiter's term is its
 * result; any other term at that index means a new leader overwrote the proposal (§5.3), which
 * therefore will never apply: the caller may retry.
 */
export class ProposalWaiters<T> {
  private readonly byIndex = new Map<number, ProposalWaiter<T>>();

  get size(): number {
    return this.byIndex.size;
  }

  wait(index: number, term: number, deadlineMs: number, onTimeout: () => Error): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.byIndex.delete(index);
        reject(onTimeout());
      }, Math.max(0, deadlineMs - Date.now()));
      this.byIndex.set(index, { term, resolve, reject, timer });
    });
  }

  /** Called for every applied entry, in order. */
  applied(index: number, term: number, value: () => T): void {
    const waiter = this.byIndex.get(index);
    if (waiter === undefined) return;
    this.byIndex.delete(index);
    clearTimeout(waiter.timer);
    if (waiter.term === term) waiter.resolve(value());
    else waiter.reject(new ReplicaError('PROPOSAL_DROPPED', `proposal at index ${index} was replaced by a new leader's entry; safe to retry`));
  }

  /** A snapshot jumped past these indexes: their entries were applied elsewhere, not here. */
  skippedThrough(index: number): void {
    for (const [i, waiter] of this.byIndex) {
      if (i > index) continue;
      this.byIndex.delete(i);
      clearTimeout(waiter.timer);
      waiter.reject(new ReplicaError('PROPOSAL_DROPPED', `proposal at index ${i} was superseded by a snapshot; retry`));
    }
  }

  failAll(error: Error): void {
    for (const waiter of this.byIndex.values()) {
      clearTimeout(waiter.timer);
      waiter.reject(error);
    }
    this.byIndex.clear();
  }
}

interface Reader {
  resolve(): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * Linearizable reads (thesis §6.4), batched: one ReadIndex request serves every reader that arrived
 * before it was issued; readers arriving while it is in flight wait for the next one, because the
 * index it returns may predate writes they have seen acknowledged.
 */
export class ReadBarriers {
  private waitingForRequest: Reader[] = [];
  private readonly inFlight = new Map<string, Reader[]>();
  private readonly waitingForApply: Array<{ index: number; readers: Reader[] }> = [];
  private sequence = 0;
  /**
   * Request names must never repeat across restarts of this replica: a leader's late answer to a
   * request from before a restart would otherwise answer a new request of the same name with an
   * index from before writes it has since seen acknowledged — a stale read.
   */
  private readonly prefix = randomBytes(8).toString('hex');

  constructor(private readonly issue: (ctx: Uint8Array) => void) {}

  wait(deadlineMs: number, onTimeout: () => Error): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const reader: Reader = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.forget(reader);
          reject(onTimeout());
        }, Math.max(0, deadlineMs - Date.now())),
      };
      this.waitingForRequest.push(reader);
    });
  }

  /** Issues one ReadIndex request for everyone waiting, unless one is already out. */
  flush(): void {
    if (this.waitingForRequest.length === 0 || this.inFlight.size > 0) return;
    const key = `${this.prefix}.${++this.sequence}`;
    this.inFlight.set(key, this.waitingForRequest);
    this.waitingForRequest = [];
    this.issue(new TextEncoder().encode(key));
  }

  /** A ReadState arrived: its readers may proceed once applied >= index. */
  answered(ctx: Uint8Array, index: number, appliedIndex: number): void {
    const key = new TextDecoder().decode(ctx);
    const readers = this.inFlight.get(key);
    if (readers === undefined) return;
    this.inFlight.delete(key);
    this.waitingForApply.push({ index, readers });
    this.applied(appliedIndex);
    this.flush();
  }

  applied(appliedIndex: number): void {
    while (this.waitingForApply.length > 0 && this.waitingForApply[0]!.index <= appliedIndex) {
      for (const reader of this.waitingForApply.shift()!.readers) {
        clearTimeout(reader.timer);
        reader.resolve();
      }
    }
  }

  /**
   * The request may have been dropped (no leader, leader changed): re-issue for those still
   * waiting. Raft drops ReadIndex requests silently, so the replica calls this on role changes
   * and periodically.
   */
  retryInFlight(): void {
    const stranded = [...this.inFlight.values()].flat();
    this.inFlight.clear();
    this.waitingForRequest.unshift(...stranded);
    this.flush();
  }

  get pending(): number {
    let n = this.waitingForRequest.length;
    for (const readers of this.inFlight.values()) n += readers.length;
    for (const w of this.waitingForApply) n += w.readers.length;
    return n;
  }

  failAll(error: Error): void {
    const all = [...this.waitingForRequest, ...[...this.inFlight.values()].flat(), ...this.waitingForApply.flatMap((w) => w.readers)];
    this.waitingForRequest = [];
    this.inFlight.clear();
    this.waitingForApply.length = 0;
    for (const reader of all) {
      clearTimeout(reader.timer);
      reader.reject(error);
    }
  }

  private forget(reader: Reader): void {
    const drop = (list: Reader[]) => {
      const i = list.indexOf(reader);
      if (i >= 0) list.splice(i, 1);
    };
    drop(this.waitingForRequest);
    for (const readers of this.inFlight.values()) drop(readers);
    for (const w of this.waitingForApply) drop(w.readers);
  }
}
