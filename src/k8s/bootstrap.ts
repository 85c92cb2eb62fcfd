// Runs the bootstrap decision against the real world: reads the volume and the ConfigMap, claims the
// ConfigMap when ordinal 0 starts a cluster (a 409 means someone else did: join instead), and for a
// joining pod waits for the cluster id and learns the members from the first peer that answers.

import { randomUUID } from 'node:crypto';
import type { InitialMember, ReplicaConfig } from '../node/config.js';
import { ReplicaStore } from '../storage/index.js';
import { decideBootstrap, type BootstrapDecision } from './bootstrap-decision.js';
import { pause, type KubernetesContext } from './context.js';
import { askPeers } from './discovery.js';
import { KubernetesError } from './errors.js';

/** How long between progress logs while waiting for the ConfigMap or for a peer to answer. */
const PROGRESS_LOG_INTERVAL_MS = 10_000;
const POLL_INTERVAL_MS = 1_000;
const API_RETRY_DELAY_MS = 2_000;

export interface BootstrapOutcome {
  decision: Exclude<BootstrapDecision, { kind: 'wait-for-cluster-id' }>;
  /** The replica configuration to start with: bootstrap mode, cluster id and members filled in. */
  config: ReplicaConfig;
}

/** The cluster id stored on the volume at `dataDir` ('' when it holds none). */
export async function volumeClusterId(dataDir: string): Promise<string> {
  const store = await ReplicaStore.open(dataDir);
  try {
    return (await store.load()).clusterId;
  } finally {
    await store.close();
  }
}

export async function prepareBootstrap(ctx: KubernetesContext, base: ReplicaConfig, signal?: AbortSignal): Promise<BootstrapOutcome> {
  const log = ctx.logger.child({ step: 'bootstrap' });
  const volume = await volumeClusterId(base.dataDir);
  let lastProgressLogMs = 0;
  // Chosen once: if a create's reply is lost, the ConfigMap read next names this id, and it is ours.
  const candidateClusterId = randomUUID();
  for (;;) {
    if (signal?.aborted === true) throw new KubernetesError('STOPPED', 'stopped during bootstrap');
    let configMapClusterId: string | undefined;
    try {
      configMapClusterId = volume === '' ? await ctx.configMap.read() : undefined;
    } catch (err) {
      // The API server may be briefly away (an upgrade, a restart): keep trying, say why.
      log.warn({ err: (err as Error).message, retryInMs: API_RETRY_DELAY_MS }, 'could not read the cluster-id ConfigMap; retrying');
      await pause(API_RETRY_DELAY_MS, signal);
      continue;
    }
    const decision = decideBootstrap({ ordinal: ctx.ordinal, volumeClusterId: volume, configMapClusterId });
    switch (decision.kind) {
      case 'restart':
        log.info({ clusterId: decision.clusterId }, 'the volume holds a cluster: restarting from it');
        return { decision, config: base };

      case 'create-cluster': {
        // The cluster id is chosen before the volume is initialized and claimed through the
        // ConfigMap: a create that conflicts means another pod got there first, and no cluster
        // was started here.
        const clusterId = candidateClusterId;
        let created: boolean;
        try {
          created = await ctx.configMap.create(clusterId);
        } catch (err) {
          log.warn({ err: (err as Error).message, retryInMs: API_RETRY_DELAY_MS }, 'could not create the cluster-id ConfigMap; retrying');
          await pause(API_RETRY_DELAY_MS, signal);
          continue;
        }
        if (created) {
          log.info(
            { clusterId, configMap: ctx.configMapName },
            'ordinal 0 with an empty volume and no cluster yet: created the cluster-id ConfigMap; starting a one-member cluster',
          );
          return { decision, config: { ...base, bootstrap: 'single', clusterId, joinAddress: '', joinMembers: [] } };
        }
        log.info({ configMap: ctx.configMapName }, 'the cluster-id ConfigMap appeared while creating it: joining that cluster instead');
        continue;
      }

      case 'wait-for-cluster-id':
        if (Date.now() - lastProgressLogMs >= PROGRESS_LOG_INTERVAL_MS) {
          lastProgressLogMs = Date.now();
          log.info(
            { configMap: ctx.configMapName },
            `empty volume, waiting for ordinal 0 to create the cluster (ConfigMap ${ctx.configMapName}); if ${ctx.identity.statefulSet}-0 is not starting, look at its logs`,
          );
        }
        await pause(POLL_INTERVAL_MS, signal);
        continue;

      case 'join': {
        if (decision.clusterId === candidateClusterId) {
          log.info({ clusterId: decision.clusterId }, 'the ConfigMap holds the id this pod created (its reply was lost): starting a one-member cluster');
          return { decision: { kind: 'create-cluster' }, config: { ...base, bootstrap: 'single', clusterId: decision.clusterId, joinAddress: '', joinMembers: [] } };
        }
        const replicas = await ctx.statefulSet.waitForReplicas(signal);
        const answer = await askPeers(ctx, decision.clusterId, { replicas, timeoutMs: 3_000 });
        if (answer === undefined) {
          if (Date.now() - lastProgressLogMs >= PROGRESS_LOG_INTERVAL_MS) {
            lastProgressLogMs = Date.now();
            log.warn(
              { clusterId: decision.clusterId, configMap: ctx.configMapName, replicas },
              `empty volume, joining cluster ${decision.clusterId}, but no peer that knows its leader answers yet; retrying. ` +
                `If every volume was deleted on purpose, delete ConfigMap ${ctx.configMapName} so ${ctx.identity.statefulSet}-0 starts a new cluster`,
            );
          }
          await pause(POLL_INTERVAL_MS, signal);
          continue;
        }
        const joinMembers: InitialMember[] = answer.status.members
          .filter((m) => m.id !== ctx.podName)
          .map((m) => ({ id: m.id, peerAddress: m.peerAddress, clientAddress: m.clientAddress }));
        log.info(
          { clusterId: decision.clusterId, via: answer.pod, members: joinMembers.map((m) => m.id) },
          'empty volume: joining the existing cluster (will ask the leader to add this pod as a learner)',
        );
        return { decision, config: { ...base, bootstrap: 'join', clusterId: decision.clusterId, joinAddress: '', joinMembers } };
      }
    }
  }
}

/**
 * After the replica started: the ConfigMap must name the cluster this replica belongs to. Ordinal 0
 * fixes it if the replica chose its own id; a restarted replica recreates a deleted ConfigMap (so a
 * later empty ordinal 0 joins instead of starting a second cluster).
 */
export async function reconcileClusterId(ctx: KubernetesContext, outcome: BootstrapOutcome, clusterId: string): Promise<void> {
  const log = ctx.logger.child({ step: 'bootstrap' });
  const recorded = await ctx.configMap.read();
  if (recorded === clusterId) return;
  if (recorded === undefined) {
    const created = await ctx.configMap.create(clusterId);
    log.info({ clusterId, configMap: ctx.configMapName, created }, 'the cluster-id ConfigMap was missing: recreated it from this volume');
    return;
  }
  if (outcome.decision.kind === 'create-cluster') {
    // This pod created the ConfigMap moments ago; the replica picked a different id.
    await ctx.configMap.update(clusterId);
    log.info({ clusterId, configMap: ctx.configMapName }, 'recorded the new cluster id in the ConfigMap');
    return;
  }
  log.error(
    { volumeClusterId: clusterId, configMapClusterId: recorded, configMap: ctx.configMapName },
    'this volume belongs to another cluster than the ConfigMap names: peers of the other cluster will refuse this replica; ' +
      'delete this pod\'s PersistentVolumeClaim if its data is not needed, or restore the matching ConfigMap',
  );
}
