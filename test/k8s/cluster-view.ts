// What a test sees of a cluster run by the kubelet harness: each pod's GetStatus, the leader's view
// of the members, and evidence in the pods' logs.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GetStatusResponse } from '../../src/gen/chat/v1/chat.js';
import { getStatus } from '../../src/k8s/peers.js';
import type { Kubelet } from './kubelet.js';
import { waitUntil } from './wait.js';

export async function statusOf(kubelet: Kubelet, ordinal: number): Promise<GetStatusResponse | undefined> {
  try {
    return await getStatus(kubelet.clientAddress(ordinal), { deadlineMs: Date.now() + 2_000 });
  } catch {
    return undefined;
  }
}

/** The status of the pod that is leader now, or undefined. */
export async function leaderStatus(kubelet: Kubelet): Promise<GetStatusResponse | undefined> {
  for (const ordinal of kubelet.runningOrdinals()) {
    const s = await statusOf(kubelet, ordinal);
    if (s?.role === 'leader') return s;
  }
  return undefined;
}

export interface Membership {
  voters: string[];
  learners: string[];
}

export function membershipOf(status: GetStatusResponse): Membership {
  return {
    voters: status.members.filter((m) => m.voter).map((m) => m.id).sort(),
    learners: status.members.filter((m) => !m.voter).map((m) => m.id).sort(),
  };
}

/** Waits until the leader reports exactly these voters and no learners, every pod agreeing on the leader and the voters. */
export async function waitForVoters(kubelet: Kubelet, voters: string[], timeoutMs: number): Promise<GetStatusResponse> {
  let last: GetStatusResponse | undefined;
  await waitUntil(
    async () => {
      last = await leaderStatus(kubelet);
      if (last === undefined) return false;
      const m = membershipOf(last);
      if (m.learners.length > 0 || m.voters.join() !== [...voters].sort().join()) return false;
      for (const ordinal of kubelet.runningOrdinals()) {
        const s = await statusOf(kubelet, ordinal);
        if (s === undefined || s.leaderId !== last.nodeId || s.clusterId !== last.clusterId) return false;
        // Each pod's own table agrees: a pod stuck without the log would still list what it had.
        if (membershipOf(s).voters.join() !== m.voters.join()) return false;
      }
      return true;
    },
    timeoutMs,
    `the voters are exactly ${voters.join(', ')} (last leader view: ${last === undefined ? 'none' : JSON.stringify(membershipOf(last))})`,
    250,
  );
  return last!;
}

/** Every log line (parsed pino JSON) any generation of any pod wrote that has `msg`. */
export function logLines(rootDir: string, msg: string): Array<Record<string, unknown>> {
  const dir = join(rootDir, 'logs');
  const lines: Array<Record<string, unknown>> = [];
  for (const file of readdirSync(dir)) {
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
      if (!line.includes(msg)) continue;
      try {
        const parsed = JSON.parse(line) as Record<string, unknown>;
        if (parsed['msg'] === msg) lines.push({ ...parsed, file });
      } catch {
        // a partial last line
      }
    }
  }
  return lines;
}
