// members list|add|remove and transfer-leader: membership changes go through the leader, one at a time.
import type { Member } from '../../gen/chat/v1/chat.js';
import { printJson, printTable } from '../output.js';
import { mergeClusterView } from './cluster-view.js';
import type { CommandContext, CommandRegistrar } from './context.js';
import { callOptions } from './context.js';
import { gatherReports } from './status.js';

function printMembers(ctx: CommandContext, members: readonly Member[]): void {
  if (ctx.config.json) {
    printJson(ctx.out, { members });
    return;
  }
  printTable(
    ctx.out,
    ['ID', 'VOTER', 'PEER ADDRESS', 'CLIENT ADDRESS'],
    members.map((m) => [m.id, m.voter, m.peerAddress, m.clientAddress]),
  );
}

export async function listMembers(ctx: CommandContext): Promise<void> {
  const view = mergeClusterView(await gatherReports(ctx));
  if (ctx.config.json) {
    printJson(ctx.out, { leaderId: view.leaderId, members: view.rows });
    return;
  }
  printTable(
    ctx.out,
    ['ID', 'VOTER', 'ROLE', 'MATCH', 'LAG', 'REACHABLE', 'CLIENT ADDRESS'],
    view.rows.map((r) => [r.id, r.voter, r.role, r.matchIndex, r.lag, r.reachable, r.clientAddress]),
  );
}

export async function addMember(
  ctx: CommandContext,
  id: string,
  peerAddress: string,
  clientAddress: string,
  flags: { learner?: boolean },
): Promise<void> {
  const reply = await ctx.client.addMember({ id, peerAddress, clientAddress, asLearner: flags.learner === true }, callOptions(ctx));
  if (!ctx.config.json) ctx.out.stderr(`added ${id} as a learner${flags.learner === true ? '' : '; it is promoted once caught up'}`);
  printMembers(ctx, reply.members);
}

export async function removeMember(ctx: CommandContext, id: string): Promise<void> {
  const reply = await ctx.client.removeMember({ id }, callOptions(ctx));
  if (!ctx.config.json) ctx.out.stderr(`removed ${id}`);
  printMembers(ctx, reply.members);
}

export async function transferLeader(ctx: CommandContext, to: string | undefined): Promise<void> {
  const reply = await ctx.client.transferLeadership({ toId: to ?? '' }, callOptions(ctx));
  if (ctx.config.json) printJson(ctx.out, { leaderId: reply.leaderId });
  else ctx.out.stdout(`leader is now ${reply.leaderId}`);
}

export const registerMemberCommands: CommandRegistrar = (program, run) => {
  const members = program.command('members').description('show or change the cluster membership');
  members
    .command('list', { isDefault: true })
    .description('every member as the leader sees it')
    .action(() => run(listMembers));
  members
    .command('add <id> <peer-addr> <client-addr>')
    .description('add a member as a learner; promoted to voter once caught up')
    .option('--learner', 'keep it a non-voting learner')
    .action((id: string, peer: string, client: string, flags: { learner?: boolean }) =>
      run((ctx) => addMember(ctx, id, peer, client, flags)),
    );
  members
    .command('remove <id>')
    .description('remove a member')
    .action((id: string) => run((ctx) => removeMember(ctx, id)));
  program
    .command('transfer-leader [to]')
    .description('hand leadership to a member (default: the most caught-up voter)')
    .action((to: string | undefined) => run((ctx) => transferLeader(ctx, to)));
};
