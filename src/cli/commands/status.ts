// status: a table of every member, built from each reachable server's own GetStatus merged with
// the leader's view of the membership.
import { formatError, printJson, printTable } from '../output.js';
import { mergeClusterView, type ServerReport } from './cluster-view.js';
import type { CommandContext, CommandRegistrar } from './context.js';
import { CommandFailedError } from './errors.js';

/** Asks every known server (the --servers list plus member addresses learned on the way) for its status. */
export async function gatherReports(ctx: CommandContext): Promise<ServerReport[]> {
  const askTimeoutMs = Math.min(ctx.config.timeoutMs, 2_000);
  const ask = async (server: string): Promise<ServerReport> => {
    try {
      return { server, status: await ctx.client.statusOf(server, { deadlineMs: askTimeoutMs, signal: ctx.signal }) };
    } catch (error) {
      return { server, error: formatError(error) };
    }
  };
  const reports = await Promise.all(ctx.config.servers.map(ask));
  const known = new Set(reports.map((r) => r.server));
  const learned = reports
    .flatMap((r) => r.status?.members ?? [])
    .map((m) => m.clientAddress)
    .filter((address) => address !== '' && !known.has(address));
  reports.push(...(await Promise.all([...new Set(learned)].map(ask))));
  return reports;
}

export async function status(ctx: CommandContext): Promise<void> {
  const reports = await gatherReports(ctx);
  const view = mergeClusterView(reports);
  if (ctx.config.json) {
    printJson(ctx.out, { ...view, servers: reports });
    return;
  }
  const leader = view.leaderId === '' ? 'none' : view.leaderId;
  ctx.out.stdout(`cluster ${view.clusterId || '?'}  leader ${leader}  term ${view.term}`);
  printTable(
    ctx.out,
    ['ID', 'ROLE', 'VOTER', 'TERM', 'COMMIT/APPLIED', 'MATCH/LAG', 'REACHABLE', 'CLIENT ADDRESS'],
    view.rows.map((row) => [
      row.id,
      row.role,
      row.voter,
      row.term,
      row.commitIndex === undefined ? undefined : `${row.commitIndex}/${row.appliedIndex ?? '-'}`,
      row.matchIndex === undefined ? undefined : `${row.matchIndex}/${row.lag ?? '-'}`,
      row.reachable,
      row.clientAddress,
    ]),
  );
  for (const report of reports) {
    if (report.error !== undefined) ctx.out.stderr(`${report.server}: ${report.error}`);
  }
  if (reports.every((r) => r.status === undefined)) throw new CommandFailedError('no server answered GetStatus');
}

/** Redraws the status table every interval until interrupted (Ctrl+C), like top. */
async function watchStatus(ctx: CommandContext, intervalMs: number): Promise<void> {
  const clear = process.stdout.isTTY === true && !ctx.config.json;
  while (ctx.signal?.aborted !== true) {
    if (clear) ctx.out.stdout('\x1b[2J\x1b[H' + `every ${intervalMs} ms — ${new Date().toISOString()} — Ctrl+C to stop`);
    try {
      await status(ctx);
    } catch (error) {
      // Keep watching through an outage: that is when the table matters most.
      ctx.out.stderr(formatError(error));
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, intervalMs);
      ctx.signal?.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      }, { once: true });
    });
  }
}

function parseInterval(text: string): number {
  const ms = Number(text);
  if (!Number.isInteger(ms) || ms < 100) throw new CommandFailedError(`--watch takes milliseconds (at least 100), got "${text}"`);
  return ms;
}

export const registerStatusCommand: CommandRegistrar = (program, run) => {
  program
    .command('status')
    .description('every member: role, term, commit/applied, match/lag, reachability, address')
    .option('-w, --watch [ms]', 'refresh the table every ms milliseconds (default 1000) until Ctrl+C')
    .action((options: { watch?: string | boolean }) =>
      run((ctx) => (options.watch === undefined || options.watch === false ? status(ctx) : watchStatus(ctx, options.watch === true ? 1000 : parseInterval(options.watch)))),
    );
  program
    .command('top')
    .description('status, refreshed every second until Ctrl+C')
    .action(() => run((ctx) => watchStatus(ctx, 1000)));
};
