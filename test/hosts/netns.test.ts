// The network-namespace lab itself: it builds hosts reachable only through its own bridge, refuses a
// subnet something else routes, cleans up after itself and after a crashed run, and cuts links.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { NetnsLab, NetnsSetupError, removeLeftovers } from '../../src/cli/demo-netns.js';
import { assertHostTestsCanRun } from './hosts.js';

/** Distinct from the fault suite's `rcht` / 10.231.77 and the demo's `rcdemo` / 10.231.78. */
const PREFIX = 'rchu';
const SUBNET = '10.231.79';

function namespaces(): string[] {
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((name) => name.startsWith(`${PREFIX}`));
}

function links(): string[] {
  return (JSON.parse(execFileSync('ip', ['-j', 'link', 'show'], { encoding: 'utf8' })) as Array<{ ifname: string }>)
    .map((l) => l.ifname)
    .filter((name) => name.startsWith(PREFIX));
}

describe('NetnsLab (network namespaces as hosts)', function () {
  this.timeout(30_000);

  before(() => assertHostTestsCanRun());
  afterEach(() => removeLeftovers(PREFIX));

  it('routes every host address to its own bridge and removes everything it created', async () => {
    const lab = NetnsLab.create({ prefix: PREFIX, subnet24: SUBNET, hosts: 3 });
    try {
      assert.deepEqual(namespaces().sort(), ['rchu-0', 'rchu-1', 'rchu-2']);
      for (const host of lab.hosts) {
        const route = execFileSync('ip', ['route', 'get', host.ip], { encoding: 'utf8' });
        assert.match(route, new RegExp(`dev ${lab.bridge} `));
      }
      // A host has no default route: nothing inside it can reach beyond the bridge's /24.
      const inside = execFileSync('ip', ['-n', lab.host(0).namespace, 'route', 'show'], { encoding: 'utf8' });
      assert.doesNotMatch(inside, /default/);
    } finally {
      await lab.destroy();
    }
    assert.deepEqual(namespaces(), []);
    assert.deepEqual(links(), []);
  });

  it('refuses a subnet that an existing route already covers', () => {
    const first = NetnsLab.create({ prefix: PREFIX, subnet24: SUBNET, hosts: 1 });
    try {
      assert.throws(() => NetnsLab.create({ prefix: 'rchw', subnet24: SUBNET, hosts: 1 }), NetnsSetupError);
      assert.deepEqual(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').filter((l) => l.startsWith('rchw')), []);
    } finally {
      first.destroySync();
    }
  });

  it('removes the leftovers of a crashed run before building', () => {
    execFileSync('ip', ['netns', 'add', `${PREFIX}-7`]);
    execFileSync('ip', ['link', 'add', `${PREFIX}-br`, 'type', 'bridge']);
    const lab = NetnsLab.create({ prefix: PREFIX, subnet24: SUBNET, hosts: 1 });
    try {
      assert.deepEqual(namespaces(), [`${PREFIX}-0`]);
    } finally {
      lab.destroySync();
    }
  });

  it('adds one rule per direction for a cut link and removes them all on heal', () => {
    const lab = NetnsLab.create({ prefix: PREFIX, subnet24: SUBNET, hosts: 3 });
    try {
      lab.cut(0, 1, 'out');
      assert.deepEqual(lab.rules(0), [`-A OUTPUT -d ${lab.host(1).ip}/32 -j DROP`]);
      lab.cut(0, 2, 'in');
      assert.deepEqual(lab.rules(0), [`-A INPUT -s ${lab.host(2).ip}/32 -j DROP`, `-A OUTPUT -d ${lab.host(1).ip}/32 -j DROP`]);
      assert.deepEqual(lab.rules(1), []);
      lab.heal();
      assert.deepEqual(lab.rules(0), []);
    } finally {
      lab.destroySync();
    }
  });
});
