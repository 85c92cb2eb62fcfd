// Drives `npm run demo` the way a presenter would, through its stdin, and reads what it prints:
// the table, a leader kill followed by a new leader, a send and read as a user, a clean quit.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DemoProcess } from './demo-process.js';

const REPLICAS = 5;

/** A base port whose 5 client, 5 peer and 5 metrics ports (LocalCluster's layout) are all free now. */
async function freeBasePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 20_000);
    const ports = [0, 100, 200].flatMap((offset) => Array.from({ length: REPLICAS }, (_, i) => base + offset + i));
    const servers: Server[] = [];
    const free = await (async () => {
      for (const port of ports) {
        const server = createServer();
        const ok = await new Promise<boolean>((resolve) => {
          server.once('error', () => resolve(false));
          server.listen(port, '127.0.0.1', () => resolve(true));
        });
        if (!ok) return false;
        servers.push(server);
      }
      return true;
    })();
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    if (free) return base;
  }
  throw new Error('no free block of ports for the demo');
}

/** Five tsx replicas compiling at once on two shared cores can take a minute before one leads. */
const STARTUP_BOUND_MS = 120_000;

describe('the interactive demo', function () {
  this.timeout(240_000);
  let dataDir: string;
  let demo: DemoProcess | undefined;

  beforeEach(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'raftchat-demo-test-'));
  });

  afterEach(async () => {
    if (demo !== undefined && demo.child.exitCode === null) {
      demo.child.kill('SIGTERM');
      await demo.exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('shows a new leader after "kill leader", serves a user, and quits cleanly', async () => {
    const basePort = await freeBasePort();
    demo = DemoProcess.spawn(['--base-port', String(basePort), '--data-dir', dataDir]);

    const first = await demo.expect(/new leader: (n\d) \(term (\d+)\)/, STARTUP_BOUND_MS);
    const oldLeader = first[1]!;
    demo.type('status');
    await demo.expect(/ID\s+STATE\s+ROLE\s+TERM/, 10_000);

    const beforeKill = demo.output.length;
    demo.type('kill leader');
    await demo.expect(new RegExp(`killed ${oldLeader} \\(the leader\\)`), 15_000, beforeKill);
    const next = await demo.expect(/new leader: (n\d) \(term (\d+)\)/, 30_000, beforeKill);
    assert.notEqual(next[1], oldLeader, 'the killed replica is still reported as leader');
    assert.ok(Number(next[2]) > Number(first[2]), 'the new leader was elected in a later term');

    demo.type('register alice alice-password');
    await demo.expect(/registered alice/, 20_000, beforeKill);
    demo.type('login alice alice-password');
    await demo.expect(/logged in as alice/, 20_000, beforeKill);
    demo.type('send alice hello after the failover');
    await demo.expect(/sent as message id \d+/, 20_000, beforeKill);
    demo.type('read');
    await demo.expect(/alice → alice: hello after the failover/, 20_000, beforeKill);

    demo.type('quit');
    assert.equal(await demo.exited, 0, demo.output);
    assert.match(demo.output, /all replicas stopped/);
  });
});
