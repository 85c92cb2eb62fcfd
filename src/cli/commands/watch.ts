// watch: your messages as they arrive, following the cluster through replica failures.
import type { CommandContext, CommandRegistrar } from './context.js';
import { requireSession } from './context.js';
import { parseCount } from './parse.js';
import { formatMessage, printJson } from '../output.js';

export async function watch(ctx: CommandContext, flags: { after?: string }): Promise<void> {
  await requireSession(ctx);
  const afterId = flags.after === undefined ? 0 : parseCount(flags.after, '--after');
  await ctx.client.watch({
    afterId,
    signal: ctx.signal,
    onSubscribed: (server) => ctx.out.stderr(`watching on ${server} (Ctrl+C to stop)`),
    onMessage: (message) => {
      if (ctx.config.json) printJson(ctx.out, message);
      else ctx.out.stdout(formatMessage(message));
    },
  });
}

export const registerWatchCommand: CommandRegistrar = (program, run) => {
  program
    .command('watch')
    .description('print messages as they arrive (replays those after --after first); survives a replica dying')
    .option('--after <id>', 'start after this id (default 0: the whole inbox first)')
    .action((flags: { after?: string }) => run((ctx) => watch(ctx, flags)));
};
