// The scenario language: one step per line, replayed against a test Network. A step that should fail
// ends in `=> CODE` (a RaftError code); `expect ...` lines check the cluster. See scenarios/README.md.
import assert from 'node:assert/strict';
import { ConfChangeType, MessageType, RaftError, type NodeId } from '../../../src/raft/index.js';
import { bytes, Network, text, type ClusterOptions } from './network.js';

const CONF_CHANGES: Record<string, ConfChangeType> = {
  'add-node': ConfChangeType.AddNode,
  'add-learner': ConfChangeType.AddLearner,
  'remove-node': ConfChangeType.RemoveNode,
};

export class ScriptRunner {
  private net: Network | undefined;

  get network(): Network {
    if (this.net === undefined) throw new Error('the first step must be `cluster ...`');
    return this.net;
  }

  /** Run a whole script; errors name the line. */
  run(script: string, name = 'script'): void {
    const lines = script.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = (lines[i] as string).replace(/#.*$/, '').trim();
      if (line === '') continue;
      try {
        this.step(line);
      } catch (err) {
        const msg = err instanceof Error ? err.message : String(err);
        throw new Error(`${name}:${i + 1}: \`${line}\`: ${msg}`, { cause: err });
      }
    }
  }

  step(line: string): void {
    const [body, expectedCode] = line.split('=>').map((s) => s.trim()) as [string, string | undefined];
    // `leader` stands for the current leader (the highest-term one), so scripts need not guess.
    const raw = body.split(/\s+/);
    const isNodeSlot = (i: number): boolean => (raw[0] === 'expect' ? i === 2 : i >= 1);
    const words = raw.map((w, i) => (isNodeSlot(i) && w === 'leader' ? this.currentLeader() : w));
    const cmd = words[0] as string;
    const args = words.slice(1);
    if (cmd === 'expect') {
      this.expect(args);
      return;
    }
    let error: unknown;
    try {
      this.act(cmd, args);
    } catch (err) {
      error = err;
    }
    if (expectedCode === undefined) {
      if (error !== undefined) throw error;
      return;
    }
    assert.ok(error instanceof RaftError, `expected RaftError ${expectedCode}, got ${error === undefined ? 'success' : String(error)}`);
    assert.equal(error.code, expectedCode);
  }

  private currentLeader(): NodeId {
    const id = this.network.leader();
    if (id === undefined) throw new Error('no leader');
    return id;
  }

  private act(cmd: string, args: string[]): void {
    if (cmd === 'cluster') {
      this.net = parseCluster(args);
      return;
    }
    const net = this.network;
    const a0 = args[0] as NodeId;
    switch (cmd) {
      case 'campaign': net.raw(a0).campaign(); net.processReady(a0); return;
      case 'deliver': net.deliver(); return;
      case 'tick': net.tick(a0, Number(args[1] ?? 1)); return;
      case 'run': net.run(Number(args[0] ?? 1)); return;
      case 'propose': net.propose(a0, args[1] ?? ''); return;
      case 'add-node': case 'add-learner': case 'remove-node':
        net.proposeConfChange(a0, CONF_CHANGES[cmd] as ConfChangeType, args[1] as NodeId); return;
      case 'transfer': net.raw(a0).transferLeadership(args[1] as NodeId); net.processReady(a0); return;
      case 'read': net.raw(a0).readIndex(bytes(args[1] ?? '')); net.processReady(a0); return;
      case 'partition': net.partition(splitGroups(args)); return;
      case 'isolate': net.isolate(a0); return;
      case 'cut': net.cutOneWay(a0, args[1] as NodeId); return;
      case 'heal': net.heal(); return;
      case 'crash': net.crash(a0); return;
      case 'restart': net.restart(a0); net.processReady(a0); return;
      case 'new-node': net.addEmptyNode(a0); return;
      case 'compact': net.compact(a0, Number(args[1])); return;
      case 'block': {
        const types = new Set(args.map((t) => {
          const v = MessageType[t as keyof typeof MessageType];
          if (v === undefined) throw new Error(`unknown message type ${t}`);
          return v;
        }));
        net.dropFilter = (m) => types.has(m.type);
        return;
      }
      case 'unblock': net.dropFilter = undefined; return;
      case 'drop-inflight': net.dropAll(); return;
      case 'report-snapshot': net.raw(a0).reportSnapshot(args[1] as NodeId, args[2] === 'ok'); net.processReady(a0); return;
      case 'report-unreachable': net.raw(a0).reportUnreachable(args[1] as NodeId); return;
      default: throw new Error(`unknown step ${cmd}`);
    }
  }

  private expect(args: string[]): void {
    const net = this.network;
    const what = args[0] as string;
    const id = args[1] as NodeId;
    const rest = args.slice(2);
    switch (what) {
      case 'leader-of': {
        const leaders = net.leaders().filter((l) => args.slice(1).includes(l));
        assert.equal(leaders.length, 1, `leaders among ${args.slice(1).join(' ')}: [${leaders.join(' ')}]`);
        return;
      }
      case 'term-gt': assert.ok(net.raw(id).status().hardState.term > Number(rest[0]), `term is ${net.raw(id).status().hardState.term}`); return;
      case 'leader': assert.deepEqual(net.leaders(), [id], `leaders are [${net.leaders().join(' ')}]`); return;
      case 'not-leader': assert.notEqual(net.raw(id).status().softState.role, 'leader'); return;
      case 'no-leader': assert.deepEqual(net.leaders(), []); return;
      case 'role': assert.equal(net.raw(id).status().softState.role, rest[0]); return;
      case 'lead': assert.equal(net.raw(id).status().softState.leaderId, rest[0] === 'none' ? '' : rest[0]); return;
      case 'term': assert.equal(net.raw(id).status().hardState.term, Number(rest[0])); return;
      case 'vote': assert.equal(net.raw(id).status().hardState.vote, rest[0] === 'none' ? '' : rest[0]); return;
      case 'committed': assert.equal(net.raw(id).status().hardState.commit, Number(rest[0])); return;
      case 'applied': assert.equal(net.node(id).appliedIndex, Number(rest[0])); return;
      case 'last-index': assert.equal(net.raw(id).status().lastIndex, Number(rest[0])); return;
      case 'first-index': assert.equal(net.raw(id).status().firstIndex, Number(rest[0])); return;
      case 'values': assert.deepEqual(net.node(id).values, rest); return;
      case 'voters': assert.deepEqual(net.raw(id).status().confState.voters, [...rest].sort()); return;
      case 'learners': assert.deepEqual(net.raw(id).status().confState.learners, [...rest].sort()); return;
      case 'progress': {
        const pr = net.raw(id).status().progress.get(rest[0] as NodeId);
        assert.ok(pr !== undefined, `${id} has no progress for ${rest[0]}`);
        assert.equal(pr.state, rest[1]);
        return;
      }
      case 'no-progress': assert.equal(net.raw(id).status().progress.has(rest[0] as NodeId), false); return;
      case 'match': assert.equal(net.raw(id).status().progress.get(rest[0] as NodeId)?.match, Number(rest[1])); return;
      case 'transferee': assert.equal(net.raw(id).status().leadTransferee, rest[0] === 'none' ? '' : rest[0]); return;
      case 'read': {
        const rs = net.node(id).readStates.find((r) => text(r.requestCtx) === rest[0]);
        assert.ok(rs !== undefined, `${id} has no read state for ${rest[0]}`);
        assert.equal(rs.index, Number(rest[1]));
        return;
      }
      case 'no-read': assert.equal(net.node(id).readStates.some((r) => text(r.requestCtx) === rest[0]), false); return;
      default: throw new Error(`unknown expectation ${what}`);
    }
  }
}

function splitGroups(args: string[]): NodeId[][] {
  const groups: NodeId[][] = [[]];
  for (const a of args) {
    if (a === '|') groups.push([]);
    else (groups[groups.length - 1] as NodeId[]).push(a);
  }
  return groups;
}

/** `cluster n1 n2 n3 [learners n4 ...] [prevote] [checkquorum] [election=N] [heartbeat=N] [inflight=N] [maxbytes=N]` */
function parseCluster(args: string[]): Network {
  const voters: NodeId[] = [];
  const learners: NodeId[] = [];
  const options: ClusterOptions = {};
  let intoLearners = false;
  for (const a of args) {
    if (a === 'learners') intoLearners = true;
    else if (a === 'prevote') options.preVote = true;
    else if (a === 'checkquorum') options.checkQuorum = true;
    else if (a.includes('=')) {
      const [k, v] = a.split('=') as [string, string];
      const n = Number(v);
      if (k === 'election') options.electionTicks = n;
      else if (k === 'heartbeat') options.heartbeatTicks = n;
      else if (k === 'inflight') options.maxInflightMessages = n;
      else if (k === 'maxbytes') options.maxBytesPerMessage = n;
      else if (k === 'seed') options.seed = n;
      else throw new Error(`unknown cluster option ${k}`);
    } else if (intoLearners) learners.push(a);
    else voters.push(a);
  }
  return new Network(voters, options, learners);
}
