// A broken invariant found by the simulation: which one, and the evidence.

export type InvariantName =
  | 'election-safety'
  | 'log-matching'
  | 'leader-completeness'
  | 'state-machine-safety'
  | 'applied-monotonic'
  | 'commit-within-log'
  | 'acknowledged-durable'
  | 'read-linearizable'
  | 'liveness'
  /** The peer fuzz: a malformed message the core should have refused was stepped. */
  | 'malformed-accepted'
  /** A message a correct node sent was refused (other than for its sender having left). */
  | 'correct-refused'
  | 'core-assertion'
  | 'core-error';

export class SimViolation extends Error {
  readonly code = 'SIM_VIOLATION';
  constructor(
    readonly invariant: InvariantName,
    readonly detail: string,
  ) {
    super(`${invariant}: ${detail}`);
    this.name = 'SimViolation';
  }
}

export function violated(invariant: InvariantName, detail: string): never {
  throw new SimViolation(invariant, detail);
}
