// register, login, logout and delete-account: the commands that create or end sessions.
import type { CommandContext, CommandRegistrar } from './context.js';
import { callOptions, requireSession } from './context.js';
import { printJson } from '../output.js';

export async function register(ctx: CommandContext, username: string, flags: { passwordStdin?: boolean }): Promise<void> {
  const password = await ctx.passwords.read(`password for ${username}: `, { fromStdin: flags.passwordStdin, confirm: true });
  const reply = await ctx.client.register({ username, password }, callOptions(ctx));
  if (ctx.config.json) printJson(ctx.out, { username: reply.username });
  else ctx.out.stdout(`registered ${reply.username}; now run: chatctl login ${reply.username}`);
}

export async function login(ctx: CommandContext, username: string, flags: { passwordStdin?: boolean }): Promise<void> {
  const password = await ctx.passwords.read(`password for ${username}: `, { fromStdin: flags.passwordStdin });
  const reply = await ctx.client.login({ username, password }, callOptions(ctx));
  const name = reply.username || username;
  await ctx.session.save({ username: name, token: reply.token, expiresAtUnixMs: reply.expiresAtUnixMs });
  if (ctx.config.json) {
    printJson(ctx.out, { username: name, unreadCount: reply.unreadCount, expiresAtUnixMs: reply.expiresAtUnixMs });
  } else {
    ctx.out.stdout(`logged in as ${name}: ${reply.unreadCount} unread message${reply.unreadCount === 1 ? '' : 's'}`);
  }
}

export async function logout(ctx: CommandContext, flags: { all?: boolean }): Promise<void> {
  const session = await requireSession(ctx);
  try {
    await ctx.client.logout({ allSessions: flags.all === true }, callOptions(ctx));
  } finally {
    // Forget the token even when the server refused it: it is no use to keep.
    await ctx.session.clear();
  }
  if (ctx.config.json) printJson(ctx.out, { username: session.username, allSessions: flags.all === true });
  else ctx.out.stdout(`logged out ${session.username}${flags.all === true ? ' (every session)' : ''}`);
}

export async function deleteAccount(ctx: CommandContext, flags: { passwordStdin?: boolean }): Promise<void> {
  const session = await requireSession(ctx);
  const password = await ctx.passwords.read(`password for ${session.username} (deletes the account): `, {
    fromStdin: flags.passwordStdin,
  });
  await ctx.client.deleteAccount({ password }, callOptions(ctx));
  await ctx.session.clear();
  if (ctx.config.json) printJson(ctx.out, { deleted: session.username });
  else ctx.out.stdout(`deleted account ${session.username} and its inbox`);
}

const PASSWORD_STDIN = ['--password-stdin', 'read the password from stdin'] as const;

export const registerAccountCommands: CommandRegistrar = (program, run) => {
  program
    .command('register <username>')
    .description('create an account (password from a hidden prompt, --password-stdin or RAFTCHAT_PASSWORD)')
    .option(...PASSWORD_STDIN)
    .action((username: string, flags: { passwordStdin?: boolean }) => run((ctx) => register(ctx, username, flags)));
  program
    .command('login <username>')
    .description('log in and cache the session token')
    .option(...PASSWORD_STDIN)
    .action((username: string, flags: { passwordStdin?: boolean }) => run((ctx) => login(ctx, username, flags)));
  program
    .command('logout')
    .description('end this session')
    .option('--all', 'end every session of this account')
    .action((flags: { all?: boolean }) => run((ctx) => logout(ctx, flags)));
  program
    .command('delete-account')
    .description('delete the logged-in account, its inbox and every session')
    .option(...PASSWORD_STDIN)
    .action((flags: { passwordStdin?: boolean }) => run((ctx) => deleteAccount(ctx, flags)));
};
