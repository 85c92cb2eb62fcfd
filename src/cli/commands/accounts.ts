// accounts [pattern]: usernames matching a glob, a page at a time or all of them.
import type { CommandContext, CommandRegistrar } from './context.js';
import { callOptions, requireSession } from './context.js';
import { parseCount } from './parse.js';
import { printJson } from '../output.js';

export interface AccountsFlags {
  pageSize?: string;
  all?: boolean;
  stale?: boolean;
}

export async function accounts(ctx: CommandContext, pattern: string | undefined, flags: AccountsFlags): Promise<void> {
  await requireSession(ctx);
  const pageSize = flags.pageSize === undefined ? 0 : parseCount(flags.pageSize, '--page-size');
  const usernames: string[] = [];
  let pageToken = '';
  do {
    const reply = await ctx.client.listAccounts(
      { pattern: pattern ?? '', pageSize, pageToken, stale: flags.stale === true },
      callOptions(ctx),
    );
    usernames.push(...reply.usernames);
    pageToken = reply.nextPageToken;
  } while (flags.all === true && pageToken !== '');
  if (ctx.config.json) {
    printJson(ctx.out, { usernames, nextPageToken: pageToken });
    return;
  }
  for (const name of usernames) ctx.out.stdout(name);
  if (pageToken !== '') ctx.out.stderr('(more accounts match: use --all, or a larger --page-size)');
}

export const registerAccountsCommand: CommandRegistrar = (program, run) => {
  program
    .command('accounts [pattern]')
    .description('list accounts matching a glob (* any run, ? one character)')
    .option('--page-size <n>', 'accounts per page (server default 100, at most 1000)')
    .option('--all', 'fetch every page')
    .option('--stale', "answer from the replica's own state, without a quorum round")
    .action((pattern: string | undefined, flags: AccountsFlags) => run((ctx) => accounts(ctx, pattern, flags)));
};
