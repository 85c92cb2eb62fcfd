// `npm run demo -- --hosts`: the demo on five network-namespace hosts, where `partition` cuts real
// links. A presenter's run: workload, cut the leader off, see a new leader, heal, verify, quit —
// and nothing of the lab is left behind.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DemoProcess } from '../demo/demo-process.js';
import { assertHostTestsCanRun } from './hosts.js';

/** Five tsx replicas compiling at once on two shared cores can take a minute before one leads. */
const STARTUP_BOUND_MS = 120_000;

describe('the demo in --hosts mode', function () {
  this.timeout(240_000);
  let dataDir: string;
  let demo: DemoProcess | undefined;

  before(() => assertHostTestsCanRun());
  beforeEach(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'raftchat-demo-hosts-'));
  });
  afterEach(async () => {
    if (demo !== undefined && demo.child.exitCode === null) {
      demo.child.kill('SIGTERM');
      await demo.exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('cuts the leader off with iptables, shows the majority elect a new one, heals, and verifies nothing was lost', async () => {
    demo = DemoProcess.spawn(['--hosts', '--data-dir', dataDir]);
    const first = await demo.expect(/new leader: (n\d) \(term (\d+)\)/, STARTUP_BOUND_MS);

    const mark = demo.output.length;
    demo.type('workload 60');
    await demo.expect(/workload running for 60 s/, 40_000, mark);
    demo.type('partition leader');
    await demo.expect(new RegExp(`cut every link between ${first[1]} and the rest \\(iptables DROP\\)`), 10_000, mark);
    const next = await demo.expect(/new leader: (n\d) \(term (\d+)\)/, 30_000, mark);
    assert.notEqual(next[1], first[1], 'the cut-off leader is still reported as the leader');

    demo.type('heal');
    await demo.expect(new RegExp(`healed ${first[1]}`), 10_000, mark);
    demo.type('verify');
    const verdict = await demo.expect(/^(PASS|FAIL): .*$/m, 60_000, mark);
    assert.equal(verdict[1], 'PASS', demo.output.slice(mark));

    demo.type('quit');
    assert.equal(await demo.exited, 0, demo.output);
    const left = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').filter((l) => l.startsWith('rcdemo-'));
    assert.deepEqual(left, [], 'the demo left network namespaces behind');
  });
});
