// `npm run sim -- --seeds N [--start S] [--seed S] [--steps K] [--peer-fuzz]`: run seeds through the
// deterministic simulation; print one summary line, or the first violation with its seed and last events.
import { Command, InvalidArgumentError } from 'commander';
import { addFuzzStats, emptyFuzzStats } from './peer-fuzz.js';
import { DEFAULT_CHAOS_STEPS, runSeed, type RunOptions, type RunResult } from './run.js';

function positiveInt(value: string): number {
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed < 0) throw new InvalidArgumentError('expected a non-negative integer');
  return parsed;
}

const program = new Command()
  .name('sim')
  .description('Deterministic simulation of the Raft core: one seed drives every fault and choice.')
  .option('--seeds <n>', 'run seeds start..start+n-1', positiveInt, 100)
  .option('--start <s>', 'first seed', positiveInt, 1)
  .option('--seed <s>', 'replay one seed, with its trace', positiveInt)
  .option('--steps <k>', 'steps of the fault phase per seed', positiveInt, DEFAULT_CHAOS_STEPS)
  .option('--verbose', 'print every event of a replayed seed')
  .option('--keep-going', 'run every seed and list each violating one (one line each)')
  .option('--peer-fuzz', 'add a buggy peer that injects replays and malformed messages (peer-fuzz.ts)')
  .parse();

const options = program.opts<{
  seeds: number;
  start: number;
  seed?: number;
  steps: number;
  verbose?: boolean;
  keepGoing?: boolean;
  peerFuzz?: boolean;
}>();
const runOptions = (trace: boolean): RunOptions => ({
  chaosSteps: options.steps,
  trace,
  ...(options.peerFuzz === true ? { peerFuzz: { checkRefusals: true } } : {}),
});
const fuzzTotals = emptyFuzzStats();

function report(result: RunResult): void {
  const violation = result.violation;
  if (violation === undefined) return;
  // Replay the seed with tracing on: the same history, now with its events.
  const traced = runSeed(result.seed, runOptions(true));
  const replayed = traced.steps === result.steps && traced.violation?.message.split('\n')[0] === violation.message.split('\n')[0];
  process.stdout.write(
    [
      `VIOLATION seed ${result.seed} at step ${result.steps}: ${violation.invariant}`,
      `  ${violation.detail}`,
      `  scenario: ${JSON.stringify(result.scenario)}`,
      `  last events:`,
      ...traced.lastEvents.map((line) => `    ${line}`),
      replayed ? `  (replayed identically; run: npm run sim -- --seed ${result.seed})` : '  WARNING: the traced replay diverged',
      '',
    ].join('\n'),
  );
}

function main(): number {
  if (options.seed !== undefined) {
    const result = runSeed(options.seed, runOptions(true));
    if (options.verbose === true) process.stdout.write(result.lastEvents.join('\n') + '\n');
    if (result.violation !== undefined) {
      report(result);
      return 1;
    }
    process.stdout.write(
      `seed ${options.seed}: ${result.steps} steps, ${result.acknowledged} acknowledged, ${JSON.stringify(result.stats)}\n` +
        (result.peerFuzz === undefined ? '' : `  peer fuzz: ${JSON.stringify(result.peerFuzz)}\n`) +
        `  scenario: ${JSON.stringify(result.scenario)}\n` +
        `  trace digest ${result.digest} (${result.eventCount} events)\n` +
        `1 seeds, ${result.steps} steps, 0 violations\n`,
    );
    return 0;
  }
  const started = performance.now();
  let lastProgress = started;
  let steps = 0;
  let violations = 0;
  for (let i = 0; i < options.seeds; i++) {
    const seed = options.start + i;
    const result = runSeed(seed, runOptions(false));
    steps += result.steps;
    if (result.peerFuzz !== undefined) addFuzzStats(fuzzTotals, result.peerFuzz);
    if (result.violation !== undefined && options.keepGoing === true) {
      violations++;
      const firstLine = result.violation.detail.split('\n')[0] ?? '';
      process.stdout.write(`seed ${seed} step ${result.steps}: ${result.violation.invariant}: ${firstLine.slice(0, 300)}\n`);
      continue;
    }
    if (result.violation !== undefined) {
      report(result);
      process.stdout.write(`${i + 1} seeds, ${steps} steps, 1 violations\n`);
      return 1;
    }
    const now = performance.now();
    if (now - lastProgress > 3000) {
      lastProgress = now;
      process.stderr.write(`sim: ${i + 1}/${options.seeds} seeds, ${steps} steps, ${((now - started) / 1000).toFixed(1)} s\n`);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  process.stderr.write(`sim: ${seconds.toFixed(1)} s\n`);
  if (options.peerFuzz === true) process.stderr.write(`peer fuzz: ${JSON.stringify(fuzzTotals)}\n`);
  process.stdout.write(`${options.seeds} seeds, ${steps} steps, ${violations} violations\n`);
  return violations === 0 ? 0 : 1;
}

process.exitCode = main();
