// chaos: takes replicas down on purpose — deletes a random raftchat pod (--target kubernetes) or
// kills a local replica process (--target local) every --interval, never past the fault budget.
// With --verify a workload runs alongside and the command fails if an acknowledged message is lost.
import type { ChannelCredentials } from '@grpc/grpc-js';
import { channelCredentials } from '../config.js';
import type { KubeConfig } from '@kubernetes/client-node';
import { Option } from 'commander';
import { pino, type Logger } from 'pino';
import { runChaos, type ChaosOptions } from '../../chaos/engine.js';
import { runVerifiedChaos } from '../../chaos/engine-verify.js';
import { LocalTarget } from '../../chaos/target-local.js';
import type { ChaosTarget } from '../../chaos/target-types.js';
import type { CommandContext, CommandRegistrar } from './context.js';
import { CommandFailedError, UsageError } from './errors.js';
import { parseCount } from './parse.js';

/** The chart's CronJob passes these flags; their names are a contract. */
export interface ChaosFlags {
  target: 'kubernetes' | 'local';
  namespace?: string;
  selector: string;
  dataDir: string;
  interval: string;
  maxKills?: string;
  duration?: string;
  faultBudget?: string;
  leader?: boolean;
  dryRun?: boolean;
  verify?: boolean;
}

export const DEFAULT_SELECTOR = 'app.kubernetes.io/name=raftchat';

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** `500ms`, `30s`, `10m`, `1h` (like Go's durations, which chaoskube takes) to milliseconds. */
export function parseDurationMs(text: string, flag: string): number {
  const match = DURATION.exec(text.trim());
  if (match === null) throw new UsageError(`${flag} must be a duration such as 500ms, 30s, 10m or 1h, got "${text}"`);
  const ms = Math.round(Number(match[1]) * UNIT_MS[match[2]!]!);
  if (ms <= 0) throw new UsageError(`${flag} must be longer than 0, got "${text}"`);
  return ms;
}

/** In a pod, the service account's namespace; else the kubeconfig context's; else `default`. */
function defaultNamespace(kubeConfig: KubeConfig): string {
  return kubeConfig.getContextObject(kubeConfig.getCurrentContext())?.namespace ?? 'default';
}

export async function buildTarget(flags: ChaosFlags, credentials: { credentials?: ChannelCredentials } = {}): Promise<ChaosTarget> {
  if (flags.target === 'local') return new LocalTarget({ dataDir: flags.dataDir, ...credentials });
  // Loaded only here: @kubernetes/client-node adds a second or more to every chatctl start.
  const [{ KubeConfig }, { KubernetesTarget }] = await Promise.all([
    import('@kubernetes/client-node'),
    import('../../chaos/target-kubernetes.js'),
  ]);
  const kubeConfig = new KubeConfig();
  // In a pod: the service account token and the in-cluster API server; elsewhere $KUBECONFIG.
  kubeConfig.loadFromDefault();
  return new KubernetesTarget({ kubeConfig, namespace: flags.namespace ?? defaultNamespace(kubeConfig), labelSelector: flags.selector, ...credentials });
}

export function chaosOptions(flags: ChaosFlags, target: ChaosTarget, logger: Logger, signal: AbortSignal): ChaosOptions {
  return {
    target,
    intervalMs: parseDurationMs(flags.interval, '--interval'),
    ...(flags.maxKills === undefined ? {} : { maxKills: parseCount(flags.maxKills, '--max-kills') }),
    ...(flags.duration === undefined ? {} : { durationMs: parseDurationMs(flags.duration, '--duration') }),
    ...(flags.faultBudget === undefined ? {} : { faultBudget: parseCount(flags.faultBudget, '--fault-budget') }),
    leaderOnly: flags.leader === true,
    dryRun: flags.dryRun === true,
    logger,
    signal,
  };
}

export async function chaos(ctx: CommandContext, flags: ChaosFlags): Promise<void> {
  // Structured JSON, one object per line, on stdout: what a CronJob's log collector wants.
  const logger = pino({ base: { component: 'chaos' } }, { write: (line: string) => ctx.out.stdout(line.trimEnd()) });
  // RAFTCHAT_TLS_CLIENT / RAFTCHAT_TLS_CA_FILE: the probes, the workload and the check speak TLS too.
  const credentials = channelCredentials(ctx.config);
  const target = await buildTarget(flags, credentials);
  try {
    const options = { ...chaosOptions(flags, target, logger, ctx.signal), ...credentials };
    if (flags.verify !== true) {
      await runChaos(options);
      return;
    }
    const { report } = await runVerifiedChaos(options);
    if (!report.ok) {
      throw new CommandFailedError(`verify failed: ${report.lost.length} lost, ${report.duplicates.length} duplicated acknowledged messages`);
    }
  } finally {
    target.close();
  }
}

export const registerChaosCommand: CommandRegistrar = (program, run) => {
  program
    .command('chaos')
    .description('take replicas down on purpose, within a fault budget (pods on Kubernetes, processes locally)')
    .addOption(new Option('--target <kind>', 'what to break').choices(['kubernetes', 'local']).default('local'))
    .option('--namespace <ns>', 'kubernetes: the namespace (default: the pod\'s own, or the kubeconfig context\'s)')
    .option('--selector <labels>', 'kubernetes: label selector of the replica pods', DEFAULT_SELECTOR)
    .option('--data-dir <dir>', 'local: the `chatd local --data-dir` of the cluster', './data')
    .option('--interval <duration>', 'time between two kills, e.g. 30s, 5m', '30s')
    .option('--max-kills <n>', 'stop after this many kills')
    .option('--duration <duration>', 'stop after this long')
    .option('--fault-budget <n>', 'most replicas down at once, counting those already not ready (default ⌊(n−1)/2⌋)')
    .option('--leader', 'take down the leader')
    .option('--dry-run', 'decide and log, but take nothing down')
    .option('--verify', 'run a workload alongside; fail if an acknowledged message is lost or duplicated')
    .action((flags: ChaosFlags) => run((ctx) => chaos(ctx, flags)));
};
