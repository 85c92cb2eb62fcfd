#!/usr/bin/env node
// `npm run demo`: an interactive fault-tolerance demo. Runs five replicas (local processes, or one per
// network namespace with --hosts), shows a live status table, and takes commands at a prompt.
// docs/demo.md maps each step of the manual fault-tolerance test guide to these commands.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Command, Option } from 'commander';
import { DemoShell } from './demo-shell.js';
import { StatusBoard } from './demo-status.js';
import type { DemoCluster } from './demo-cluster.js';
import { HostCluster } from './demo-hosts.js';
import { LocalCluster, DEFAULT_BASE_PORT } from './local.js';

interface DemoFlags {
  dataDir?: string;
  basePort: string;
  hosts?: boolean;
  live: boolean;
}

/** Names and subnet of --hosts mode; the host tests use others, so both can run at once. */
const DEMO_NETNS_PREFIX = 'rcdemo';
const DEMO_SUBNET = '10.231.78';
const MAX_EVENT_LINES = 12;
const PROGRESS_LINE_EVERY_MS = 3_000;

const program = new Command('demo')
  .description('interactive raftchat fault-tolerance demo: 5 replicas, a live status table, faults at a prompt')
  .option('--data-dir <dir>', 'keep replica data and logs here (default: a temp dir removed on quit)')
  .option('--base-port <port>', 'local mode: replica i serves clients on port+i, peers on port+100+i', String(DEFAULT_BASE_PORT))
  .option('--hosts', 'run each replica in its own network namespace (needs root and iptables) so partitions cut real links')
  .addOption(new Option('--no-live', 'print events as lines instead of redrawing the table (automatic when stdin is not a terminal)'))
  .action(async (flags: DemoFlags) => {
    try {
      process.exitCode = await runDemo(flags);
    } catch (error) {
      // Setup failures (ports taken, no root for --hosts, …) are the user's to fix: say what, no stack.
      process.stderr.write(`demo: ${(error as Error).message}\n`);
      process.exitCode = 1;
      process.exit();
    }
  });

async function runDemo(flags: DemoFlags): Promise<number> {
  if (flags.hosts === true && process.getuid?.() !== 0) {
    throw new Error('--hosts creates network namespaces and iptables rules, which needs root: sudo npm run demo -- --hosts');
  }
  const tempDir = flags.dataDir === undefined ? mkdtempSync(path.join(tmpdir(), 'raftchat-demo-')) : undefined;
  const dataDir = path.resolve(flags.dataDir ?? tempDir!);
  const live = flags.live && process.stdin.isTTY === true && process.stdout.isTTY === true;
  const events: string[] = [];
  let workloadLine: string | undefined;
  let redraw = (): void => undefined;
  const print = (line: string): void => {
    if (!live) {
      process.stdout.write(`${line}\n`);
      return;
    }
    events.push(...line.split('\n'));
    events.splice(0, Math.max(0, events.length - MAX_EVENT_LINES));
    redraw();
  };
  const stamp = (line: string): void => print(`[${new Date().toISOString().slice(11, 19)}] ${line}`);

  let started: DemoCluster | undefined;
  // Replicas must not outlive the demo, whatever ends it; nor a temp dir it made.
  process.once('exit', () => {
    for (const pid of started?.pids() ?? []) if (pid !== undefined) tryKill(pid);
    if (tempDir !== undefined) rmSync(tempDir, { recursive: true, force: true });
  });
  const cluster: DemoCluster = flags.hosts === true
    ? HostCluster.create({ prefix: DEMO_NETNS_PREFIX, subnet24: DEMO_SUBNET, hosts: 5, dataDir })
    : new LocalCluster({
        replicas: 5,
        dataDir,
        basePort: Number(flags.basePort),
        graceMs: 5_000,
        onEvent: (e) => {
          if (e.kind === 'exited' && !e.requested) stamp(`${e.spec.id} exited (${e.signal ?? `code ${e.code ?? '?'}`})`);
        },
      });
  started = cluster;

  const mode = cluster.lab === undefined ? 'local processes on 127.0.0.1' : `network namespaces ${cluster.lab.hosts.map((h) => h.ip).join(', ')}`;
  print(`starting 5 replicas (${mode}); data and logs in ${dataDir}`);
  await cluster.start();
  const board = new StatusBoard(cluster, stamp, () => redraw());
  let lastProgressPrintMs = 0;
  const setWorkloadLine = (line: string | undefined): void => {
    workloadLine = line;
    // Without the live table, progress goes to the log, less often.
    if (!live && line !== undefined && Date.now() - lastProgressPrintMs >= PROGRESS_LINE_EVERY_MS) {
      lastProgressPrintMs = Date.now();
      stamp(line);
    }
  };
  const shell = new DemoShell(cluster, board, { print, setWorkloadLine });

  const rl = createInterface({ input: process.stdin, output: live ? process.stdout : undefined, terminal: live, prompt: 'raftchat> ' });
  if (live) {
    redraw = () => {
      const header = `raftchat demo — ${mode} — ${new Date().toISOString().slice(11, 19)} UTC   (type help)`;
      const screen = [header, '', ...board.table(), '', workloadLine ?? '', '', ...events];
      process.stdout.write(`\x1b[H\x1b[J${screen.join('\n')}\n\n`);
      rl.prompt(true);
    };
  } else {
    print('type "help" for the commands');
  }
  board.start();
  await board.refresh();
  if (!live) for (const line of board.table()) print(line);

  let chain = Promise.resolve(true);
  let closing: Promise<void> | undefined;
  const quit = (): Promise<void> => {
    closing ??= (async () => {
      print('stopping the workload and every replica…');
      rl.close();
      await shell.close();
      board.stop();
      await cluster.stop();
      if (tempDir !== undefined) rmSync(tempDir, { recursive: true, force: true });
      print('all replicas stopped; bye');
    })();
    return closing;
  };
  rl.on('line', (line) => {
    chain = chain.then(async (going) => {
      if (!going || closing !== undefined) return false;
      if (!live && line.trim() !== '') print(`raftchat> ${line.trim()}`);
      const more = await shell.run(line);
      if (!more) await quit();
      else if (live) rl.prompt();
      return more;
    });
  });
  // Ctrl+C: readline reports it in a terminal; otherwise it arrives as a signal.
  rl.on('SIGINT', () => void quit());
  process.once('SIGINT', () => void quit());
  process.once('SIGTERM', () => void quit());
  if (live) rl.prompt();
  await new Promise<void>((resolve) => rl.once('close', () => resolve()));
  // stdin ended (a script ran out of commands) or quit: finish the command in progress, then stop.
  await chain;
  await quit();
  return 0;
}

function tryKill(pid: number): void {
  try {
    process.kill(pid, 'SIGCONT');
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

await program.parseAsync(process.argv);
