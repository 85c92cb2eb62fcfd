// digest: each replica's applied index and state digest, and whether replicas that applied the
// same prefix of the log hold the same state (they must: §5.3 State Machine Safety).
import type { GetDigestResponse } from '../../gen/chat/v1/chat.js';
import { formatError, printJson, printTable } from '../output.js';
import type { CommandContext, CommandRegistrar } from './context.js';
import { CommandFailedError } from './errors.js';

export interface DigestReport {
  server: string;
  digest?: GetDigestResponse;
  error?: string;
}

export type DigestVerdict = 'agree' | 'diverged' | 'no-answers';

/** Replicas at the same applied index must have equal digests; different indexes are not compared. */
export function digestVerdict(reports: readonly DigestReport[]): { verdict: DigestVerdict; divergedAt: number[] } {
  const byIndex = new Map<number, Set<string>>();
  for (const { digest } of reports) {
    if (digest === undefined) continue;
    const digests = byIndex.get(digest.appliedIndex) ?? new Set<string>();
    digests.add(digest.digest);
    byIndex.set(digest.appliedIndex, digests);
  }
  if (byIndex.size === 0) return { verdict: 'no-answers', divergedAt: [] };
  const divergedAt = [...byIndex].filter(([, digests]) => digests.size > 1).map(([index]) => index);
  return { verdict: divergedAt.length > 0 ? 'diverged' : 'agree', divergedAt };
}

export async function digest(ctx: CommandContext): Promise<void> {
  const reports = await Promise.all(
    ctx.config.servers.map(async (server): Promise<DigestReport> => {
      try {
        return { server, digest: await ctx.client.digestOf(server, { deadlineMs: ctx.config.timeoutMs, signal: ctx.signal }) };
      } catch (error) {
        return { server, error: formatError(error) };
      }
    }),
  );
  const { verdict, divergedAt } = digestVerdict(reports);
  if (ctx.config.json) {
    printJson(ctx.out, { verdict, divergedAt, servers: reports });
  } else {
    printTable(
      ctx.out,
      ['SERVER', 'APPLIED', 'DIGEST', 'ACCOUNTS', 'MESSAGES'],
      reports.map((r) =>
        r.digest === undefined
          ? [r.server, undefined, r.error ?? 'no answer', undefined, undefined]
          : [r.server, r.digest.appliedIndex, r.digest.digest, r.digest.accounts, r.digest.messages],
      ),
    );
    const distinctIndexes = new Set(reports.flatMap((r) => (r.digest === undefined ? [] : [r.digest.appliedIndex])));
    if (verdict === 'agree') {
      ctx.out.stdout(
        distinctIndexes.size === 1
          ? 'all answering replicas agree'
          : 'replicas at the same applied index agree (others are at different indexes; run again once idle to compare all)',
      );
    }
  }
  if (verdict === 'diverged') throw new CommandFailedError(`replicas DIVERGED at applied index ${divergedAt.join(', ')}`);
  if (verdict === 'no-answers') throw new CommandFailedError('no replica answered GetDigest');
}

export const registerDigestCommand: CommandRegistrar = (program, run) => {
  program
    .command('digest')
    .description("each replica's applied index and state digest, and whether they agree")
    .action(() => run(digest));
};
