// The demo's commands: faults (kill, restart, pause, partition, heal), a verifying workload running
// in the background, the checker, and a chat user's send/read. Each command prints what happened
// and what to look at next, so an audience can follow without reading code.
import { RaftchatClient, RaftchatCallError } from '../client/index.js';
import { Workload } from '../chaos/workload.js';
import type { WorkloadResult } from '../chaos/workload-records.js';
import { formatReport, verifyWorkload } from '../chaos/checker.js';
import type { DemoCluster } from './demo-cluster.js';
import type { StatusBoard } from './demo-status.js';

export const HELP = [
  'commands (n is a replica number 0-4, or "leader"):',
  '  status                     print the status table now',
  '  kill <n|leader>            SIGKILL the replica (a crash); it stays down until restart',
  '  stop <n|all>               SIGTERM: a clean stop (a leader hands over leadership first)',
  '  restart <n|all>            start downed replicas again on their data (a running one: stop, then start)',
  '  pause <n> / resume <n>     SIGSTOP / SIGCONT: the replica freezes, as if its host hung',
  '  partition <n>[,<n>…]       cut those replicas off from the rest (hosts mode: iptables; local mode: pause)',
  '  heal                       undo every partition',
  '  workload [seconds]         run concurrent verifying senders in the background (default 20 s)',
  '  verify                     stop the workload and check every acknowledged message on every replica',
  '  register <user> <password> / login <user> <password>',
  '  send <user> <text…>        send as the logged-in user (fails over between replicas by itself)',
  '  read                       list the logged-in user\'s messages',
  '  help                       this list',
  '  quit                       stop every replica and exit',
];

export interface ShellIo {
  print(line: string): void;
  /** Shown in the live header while a workload runs; undefined clears it. */
  setWorkloadLine(line: string | undefined): void;
}

const USER_DEADLINE_MS = 8_000;
const WORKLOAD_PROGRESS_MS = 1_000;
const REJOIN_TIMEOUT_MS = 20_000;

export class DemoShell {
  private readonly user: RaftchatClient;
  private workload: Workload | undefined;
  private workloadStarting: Promise<void> | undefined;
  private workloadTimer: NodeJS.Timeout | undefined;
  private workloadStop: NodeJS.Timeout | undefined;
  private lastResult: WorkloadResult | undefined;

  constructor(
    private readonly cluster: DemoCluster,
    private readonly board: StatusBoard,
    private readonly io: ShellIo,
  ) {
    this.user = new RaftchatClient({
      servers: cluster.clientAddresses,
      deadlineMs: USER_DEADLINE_MS,
      onRetry: (e) => io.print(`  (${e.error.codeName} from ${e.failedServer ?? '?'}; trying ${e.server} in ${e.delayMs} ms)`),
    });
  }

  /** Runs one command line; resolves false when the demo should end. */
  async run(line: string): Promise<boolean> {
    const [command = '', ...args] = line.trim().split(/\s+/);
    try {
      switch (command.toLowerCase()) {
        case '':
          return true;
        case 'help':
        case '?':
          for (const l of HELP) this.io.print(l);
          return true;
        case 'status':
          await this.board.refresh();
          for (const l of this.board.table()) this.io.print(l);
          return true;
        case 'kill':
          return this.done(await this.kill(args[0]));
        case 'stop':
          return this.done(await this.forEach(args[0], (i) => this.stopReplica(i)));
        case 'restart':
        case 'start':
          return this.done(await this.forEach(args[0], (i) => this.restart(i)));
        case 'pause':
          return this.done(this.pause(args[0], 'paused'));
        case 'resume':
          return this.done(this.resume(args[0]));
        case 'partition':
          return this.done(this.partition(args[0]));
        case 'heal':
          return this.done(this.heal());
        case 'workload':
          return this.done(await this.startWorkload(args[0]));
        case 'verify':
          return this.done(await this.verify());
        case 'register':
          return this.done(await this.register(args[0], args[1]));
        case 'login':
          return this.done(await this.login(args[0], args[1]));
        case 'send':
          return this.done(await this.send(args[0], args.slice(1).join(' ')));
        case 'read':
        case 'messages':
          return this.done(await this.read());
        case 'quit':
        case 'exit':
          return false;
        default:
          this.io.print(`unknown command "${command}"; type help`);
          return true;
      }
    } catch (error) {
      const message = error instanceof RaftchatCallError ? `${error.codeName}: ${error.details}` : (error as Error).message;
      this.io.print(`error: ${message}`);
      return true;
    }
  }

  /** Stops the workload and releases clients (the cluster itself is stopped by the caller). */
  async close(): Promise<void> {
    await this.stopWorkload();
    this.user.close();
  }

  private done(line: string): true {
    this.io.print(line);
    return true;
  }

  private index(arg: string | undefined, allowLeader = false): number {
    if (allowLeader && arg === 'leader') {
      const leader = this.board.currentLeader();
      if (leader === undefined) throw new Error('there is no leader right now (see the table)');
      return leader.index;
    }
    const n = Number(arg?.replace(/^n/, ''));
    if (arg === undefined || !Number.isInteger(n) || n < 0 || n >= this.cluster.specs.length) {
      throw new Error(`expected a replica number 0-${this.cluster.specs.length - 1}${allowLeader ? ' or "leader"' : ''}, got "${arg ?? ''}"`);
    }
    return n;
  }

  private async kill(arg: string | undefined): Promise<string> {
    const index = this.index(arg, true);
    const id = this.cluster.specs[index]!.id;
    const wasLeader = this.board.currentLeader()?.index === index;
    if (this.cluster.pids()[index] === undefined) return `${id} is already down`;
    this.board.faults.delete(index);
    this.cluster.kill(index, 'SIGCONT');
    this.cluster.kill(index, 'SIGKILL');
    await this.cluster.waitForExit(index);
    return wasLeader
      ? `killed ${id} (the leader). Watch the table: the others elect a new leader within about a second.`
      : `killed ${id}. The cluster keeps serving while at most 2 of 5 are down.`;
  }

  /** Runs `action` on replica `arg`, or on every replica one by one for "all". */
  private async forEach(arg: string | undefined, action: (index: number) => Promise<string>): Promise<string> {
    if (arg !== 'all') return action(this.index(arg, true));
    const lines: string[] = [];
    for (const spec of this.cluster.specs) lines.push(await action(spec.index));
    return lines.join('\n');
  }

  private async stopReplica(index: number): Promise<string> {
    const id = this.cluster.specs[index]!.id;
    if (this.cluster.pids()[index] === undefined) return `${id} is already down`;
    this.board.faults.delete(index);
    this.cluster.kill(index, 'SIGCONT');
    this.cluster.kill(index, 'SIGTERM');
    await this.cluster.waitForExit(index);
    return `stopped ${id} cleanly; its data stays on disk for "restart ${index}"`;
  }

  private async restart(index: number): Promise<string> {
    const id = this.cluster.specs[index]!.id;
    this.board.faults.delete(index);
    if (this.cluster.pids()[index] === undefined) {
      await this.cluster.startReplica(index);
      return `started ${id} on its existing data; it catches up from the leader (watch APPLIED)`;
    }
    this.cluster.kill(index, 'SIGCONT');
    await this.cluster.restart(index);
    // One by one means one at a time: wait until it follows a leader again before going on.
    const rejoined = await this.waitForLeaderSeenBy(index, REJOIN_TIMEOUT_MS);
    return `restarted ${id} (clean stop, then start on the same data)${rejoined ? '; it follows the leader again' : `; no leader seen by it within ${REJOIN_TIMEOUT_MS} ms`}`;
  }

  private async waitForLeaderSeenBy(index: number, timeoutMs: number): Promise<boolean> {
    const giveUpAtMs = Date.now() + timeoutMs;
    while (Date.now() < giveUpAtMs) {
      const views = await this.board.refresh();
      if ((views[index]?.status?.leaderId ?? '') !== '') return true;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    return false;
  }

  private pause(arg: string | undefined, fault: 'paused' | 'partitioned'): string {
    const index = this.index(arg, true);
    const id = this.cluster.specs[index]!.id;
    if (!this.cluster.kill(index, 'SIGSTOP')) return `${id} is not running`;
    this.board.faults.set(index, fault);
    return `${id} is frozen (SIGSTOP): it neither sends nor answers. "resume ${index}" thaws it.`;
  }

  private resume(arg: string | undefined): string {
    const index = this.index(arg);
    const id = this.cluster.specs[index]!.id;
    this.board.faults.delete(index);
    if (!this.cluster.kill(index, 'SIGCONT')) return `${id} is not running`;
    return `${id} resumed; if it led before, it learns of the newer term and steps down`;
  }

  private partition(arg: string | undefined): string {
    const side = (arg ?? '').split(',').filter((s) => s !== '').map((s) => this.index(s, true));
    if (side.length === 0 || side.length >= this.cluster.specs.length) throw new Error('partition <n>[,<n>…]: name 1 to 4 replicas to cut off');
    const ids = side.map((i) => this.cluster.specs[i]!.id).join(', ');
    const lab = this.cluster.lab;
    if (lab === undefined) {
      for (const index of side) this.pause(String(index), 'partitioned');
      return `local mode cannot cut loopback links, so ${ids} ${side.length === 1 ? 'is' : 'are'} paused instead: ` +
        'the rest see exactly what a partition shows them. For real cut links run the demo with --hosts.';
    }
    const rest = this.cluster.specs.map((s) => s.index).filter((i) => !side.includes(i));
    lab.partition(side, rest);
    for (const index of side) this.board.faults.set(index, 'partitioned');
    const majority = rest.length > side.length ? 'the other side has the majority and keeps serving' : `${ids} hold the majority`;
    return `cut every link between ${ids} and the rest (iptables DROP); ${majority}. The table still reaches every side.`;
  }

  private heal(): string {
    const healed: string[] = [];
    for (const [index, fault] of [...this.board.faults]) {
      if (fault !== 'partitioned') continue;
      if (this.cluster.lab === undefined) this.cluster.kill(index, 'SIGCONT');
      this.board.faults.delete(index);
      healed.push(this.cluster.specs[index]!.id);
    }
    this.cluster.lab?.heal();
    return healed.length === 0 ? 'nothing was partitioned' : `healed ${healed.join(', ')}: they catch up and the logs converge`;
  }

  private async startWorkload(arg: string | undefined): Promise<string> {
    const seconds = arg === undefined ? 20 : Number(arg);
    if (!Number.isFinite(seconds) || seconds <= 0) throw new Error(`workload [seconds]: expected a positive number, got "${arg}"`);
    if (this.workload !== undefined) return 'a workload is already running; "verify" stops and checks it';
    const workload = new Workload({ servers: this.cluster.clientAddresses, users: 3, senders: 4, pauseBetweenSendsMs: 10 });
    this.workload = workload;
    // Registering the users takes a few commits: do it in the background so the prompt stays free.
    this.workloadStarting = workload.start().then(
      () => {
        this.io.print(`workload running for ${seconds} s: 4 senders over every replica, every send recorded. Try "kill leader" now.`);
        this.workloadTimer = setInterval(() => this.io.setWorkloadLine(workloadLine(workload)), WORKLOAD_PROGRESS_MS);
        this.workloadStop = setTimeout(() => {
          void this.stopWorkload().then((result) => {
            if (result !== undefined) this.io.print(`workload finished: ${summary(result)}. Type "verify" to check it.`);
          });
        }, seconds * 1000);
      },
      (error: unknown) => {
        this.workload = undefined;
        this.io.print(`workload could not start: ${(error as Error).message}`);
      },
    );
    return 'workload: registering 3 users, then sending…';
  }

  private async stopWorkload(): Promise<WorkloadResult | undefined> {
    const workload = this.workload;
    if (workload === undefined) return undefined;
    await this.workloadStarting;
    if (this.workload !== workload) return undefined;
    this.workload = undefined;
    clearInterval(this.workloadTimer);
    clearTimeout(this.workloadStop);
    this.io.setWorkloadLine(undefined);
    this.lastResult = await workload.stop();
    return this.lastResult;
  }

  private async verify(): Promise<string> {
    if (this.workload !== undefined) {
      this.io.print('verify: stopping the workload first…');
      await this.stopWorkload();
    }
    const result = this.lastResult;
    if (result === undefined) return 'nothing to verify yet: run "workload" first';
    const pids = this.cluster.pids();
    const checked = this.cluster.specs.filter((s) => pids[s.index] !== undefined && this.board.faults.get(s.index) === undefined);
    const skipped = this.cluster.specs.filter((s) => !checked.includes(s)).map((s) => s.id);
    if (skipped.length > 0) this.io.print(`verify: skipping ${skipped.join(', ')} (down, paused or partitioned); restart/resume/heal them to check them too`);
    this.io.print(`verify: waiting for ${checked.map((s) => s.id).join(', ')} to apply the same index, then reading every inbox from each…`);
    const report = await verifyWorkload(result, checked.map((s) => ({ id: s.id, address: s.clientAddress })), { convergeTimeoutMs: 20_000 });
    return formatReport(report);
  }

  private async register(username: string | undefined, password: string | undefined): Promise<string> {
    if (username === undefined || password === undefined) throw new Error('register <user> <password>');
    await this.user.register({ username, password });
    return `registered ${username}; now "login ${username} <password>"`;
  }

  private async login(username: string | undefined, password: string | undefined): Promise<string> {
    if (username === undefined || password === undefined) throw new Error('login <user> <password>');
    const reply = await this.user.login({ username, password });
    return `logged in as ${username} (${reply.unreadCount} unread)`;
  }

  private async send(recipient: string | undefined, body: string): Promise<string> {
    if (recipient === undefined || body === '') throw new Error('send <user> <text…>');
    const reply = await this.user.sendMessage({ recipient, body });
    return `sent as message id ${reply.message?.id ?? '?'} (the id is the Raft log index that stored it)`;
  }

  private async read(): Promise<string> {
    const page = await this.user.listMessages({ limit: 50 });
    for (const m of page.messages) this.io.print(`  #${m.id} ${m.sender} → ${m.recipient}: ${m.body}${m.read ? '' : '  (unread)'}`);
    return `${page.messages.length} message(s)${page.more ? ', more not shown' : ''}`;
  }
}

function workloadLine(workload: Workload): string {
  const c = workload.counters();
  return `workload: ${c.acknowledged} acknowledged, ${c.uncertain} uncertain, ${c.rejected} rejected, ${c.inFlight} in flight, ${c.delivered} delivered to subscribers`;
}

function summary(result: WorkloadResult): string {
  const count = (outcome: string): number => result.sends.filter((s) => s.outcome === outcome).length;
  return `${count('acknowledged')} acknowledged, ${count('uncertain')} uncertain, ${count('rejected')} rejected sends`;
}
