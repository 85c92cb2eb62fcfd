// How long the fuzz runs and from which seed: RAFTCHAT_FUZZ_RUNS (default sized for CI, ≤ 90 s on a
// busy two-core machine) and RAFTCHAT_FUZZ_SEED to replay a run's inputs exactly.

export interface FuzzSettings {
  seed: number;
  numRuns: number;
  /** True when the seed came from RAFTCHAT_FUZZ_SEED (a replay). */
  replay: boolean;
}

/** Runs of the property in CI; each run is one to five concurrent actions. */
export const DEFAULT_RUNS = 300;

export function fuzzSettings(env: NodeJS.ProcessEnv = process.env): FuzzSettings {
  const seedText = env['RAFTCHAT_FUZZ_SEED'];
  const runsText = env['RAFTCHAT_FUZZ_RUNS'];
  const seed = seedText === undefined || seedText === '' ? Math.floor(Math.random() * 0x7fffffff) : parseInteger('RAFTCHAT_FUZZ_SEED', seedText);
  const numRuns = runsText === undefined || runsText === '' ? DEFAULT_RUNS : parseInteger('RAFTCHAT_FUZZ_RUNS', runsText);
  if (numRuns <= 0) throw new RangeError(`RAFTCHAT_FUZZ_RUNS must be positive, got ${numRuns}`);
  return { seed, numRuns, replay: seedText !== undefined && seedText !== '' };
}

function parseInteger(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new RangeError(`${name} must be an integer, got "${text}"`);
  return value;
}
