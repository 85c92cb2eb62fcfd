// send, read, mark-read and delete: the inbox commands.
import type { CommandContext, CommandRegistrar } from './context.js';
import { callOptions, requireSession } from './context.js';
import { UsageError } from './errors.js';
import { parseCount, parseMessageIds } from './parse.js';
import { formatMessage, printJson } from '../output.js';

export async function send(ctx: CommandContext, to: string, words: readonly string[], flags: { requestId?: string }): Promise<void> {
  await requireSession(ctx);
  const body = words.join(' ');
  if (body === '') throw new UsageError('send: the message is empty');
  const request = flags.requestId === undefined ? { recipient: to, body } : { recipient: to, body, requestId: flags.requestId };
  const reply = await ctx.client.sendMessage(request, callOptions(ctx));
  if (ctx.config.json) {
    printJson(ctx.out, { message: reply.message, duplicate: reply.duplicate });
    return;
  }
  const note = reply.duplicate ? ' (already sent earlier with this request id)' : '';
  ctx.out.stdout(`sent #${reply.message?.id ?? '?'} to ${to}${note}`);
}

export interface ReadFlags {
  unread?: boolean;
  after?: string;
  limit?: string;
  stale?: boolean;
}

export async function read(ctx: CommandContext, flags: ReadFlags): Promise<void> {
  await requireSession(ctx);
  const reply = await ctx.client.listMessages(
    {
      unreadOnly: flags.unread === true,
      afterId: flags.after === undefined ? 0 : parseCount(flags.after, '--after'),
      limit: flags.limit === undefined ? 0 : parseCount(flags.limit, '--limit'),
      stale: flags.stale === true,
    },
    callOptions(ctx),
  );
  if (ctx.config.json) {
    printJson(ctx.out, { messages: reply.messages, more: reply.more });
    return;
  }
  if (reply.messages.length === 0) ctx.out.stderr('(no messages)');
  for (const message of reply.messages) ctx.out.stdout(formatMessage(message));
  const last = reply.messages.at(-1);
  if (reply.more && last !== undefined) ctx.out.stderr(`(more: chatctl read --after ${last.id})`);
}

export async function markRead(ctx: CommandContext, ids: readonly string[]): Promise<void> {
  await requireSession(ctx);
  const reply = await ctx.client.markRead({ ids: parseMessageIds(ids) }, callOptions(ctx));
  if (ctx.config.json) printJson(ctx.out, { updated: reply.updated });
  else ctx.out.stdout(`marked ${reply.updated} message${reply.updated === 1 ? '' : 's'} read`);
}

export async function deleteMessages(ctx: CommandContext, ids: readonly string[]): Promise<void> {
  await requireSession(ctx);
  const reply = await ctx.client.deleteMessages({ ids: parseMessageIds(ids) }, callOptions(ctx));
  if (ctx.config.json) printJson(ctx.out, { deleted: reply.deleted });
  else ctx.out.stdout(`deleted ${reply.deleted} message${reply.deleted === 1 ? '' : 's'}`);
}

export const registerMessageCommands: CommandRegistrar = (program, run) => {
  program
    .command('send <to> <text...>')
    .description('send a message (retried safely: one request id per send)')
    .option('--request-id <id>', 'idempotency key; default: a fresh one per send')
    .action((to: string, text: string[], flags: { requestId?: string }) => run((ctx) => send(ctx, to, text, flags)));
  program
    .command('read')
    .description('list your messages, oldest first (* marks unread)')
    .option('--unread', 'only unread messages')
    .option('--after <id>', 'only messages with a larger id')
    .option('--limit <n>', 'at most n messages (server default 100)')
    .option('--stale', "answer from the replica's own state, without a quorum round")
    .action((flags: ReadFlags) => run((ctx) => read(ctx, flags)));
  program
    .command('mark-read <ids...>')
    .description('mark messages read')
    .action((ids: string[]) => run((ctx) => markRead(ctx, ids)));
  program
    .command('delete <ids...>')
    .description('delete messages from your inbox')
    .action((ids: string[]) => run((ctx) => deleteMessages(ctx, ids)));
};
