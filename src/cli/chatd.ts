#!/usr/bin/env node
// chatd: the replica process. `chatd serve` runs one replica; `chatd local` runs a local cluster of
// them. This file is where a replica's configuration is built from flags and the environment.

import { readFileSync } from 'node:fs';
import { createHmac } from 'node:crypto';
import { Command, Option } from 'commander';
import { pino, type Logger } from 'pino';
import * as grpc from '@grpc/grpc-js';
import { Replica } from '../node/replica.js';
import { loadTls } from '../node/tls.js';
import { collectWhenIdle } from '../node/idle-gc.js';
import { replicaDefaults, type InitialMember, type ReplicaConfig } from '../node/config.js';
import { defaultLimits, startApiServer, type ApiLimits } from '../api/index.js';
import { countAccounts } from '../chat/index.js';
import { createMetrics, grpcServerMetricsInterceptor, startMetricsServer } from '../metrics/index.js';
import { ChatServiceService, ClusterServiceClient, ClusterServiceService, type GetStatusResponse } from '../gen/chat/v1/chat.js';
import { registerLocalCommand } from './local.js';
import { guardAdmission, readAdminTokenFile, registerKubernetesOptions, runKubernetesMode, type KubernetesMode, type KubernetesOptions } from '../k8s/index.js';

interface ServeFlags extends KubernetesOptions {
  id: string;
  dataDir: string;
  clientAddr: string;
  peerAddr: string;
  metricsAddr: string;
  advertiseClientAddr?: string;
  advertisePeerAddr?: string;
  initialCluster?: string;
  initialClusterClients?: string;
  bootstrap?: 'initial' | 'single' | 'join';
  join?: string;
  clusterId?: string;
  secret?: string;
  secretFile?: string;
  adminToken?: string;
  logLevel: string;
  tlsCertFile: string;
  tlsKeyFile: string;
  tlsCaFile: string;
  tlsClient: 'true' | 'false';
  tlsPeer: 'true' | 'false';
  tickMs: string;
  electionTicks: string;
  commitBroadcastDelayMs: string;
  snapshotEntries: string;
  maxInFlightPerConnection: string;
  loginFailuresPerUsernamePerMinute: string;
  loginFailureBurstPerUsername: string;
  loginFailuresPerPeerPerMinute: string;
  loginFailureBurstPerPeer: string;
  loginThrottleMaxKeys: string;
}

const apiDefaults = defaultLimits();

const program = new Command('chatd').description('raftchat replica').showHelpAfterError();

registerKubernetesOptions(program.command('serve'))
  .description('run one replica')
  .addOption(new Option('--id <name>', 'this member\'s name (the pod name on Kubernetes)').env('RAFTCHAT_ID').makeOptionMandatory())
  .addOption(new Option('--data-dir <dir>', 'where this replica keeps its data').env('RAFTCHAT_DATA_DIR').default('./data/replica'))
  .addOption(new Option('--client-addr <host:port>', 'public gRPC API').env('RAFTCHAT_CLIENT_ADDR').default('0.0.0.0:50051'))
  .addOption(new Option('--peer-addr <host:port>', 'replica-to-replica traffic').env('RAFTCHAT_PEER_ADDR').default('0.0.0.0:50151'))
  .addOption(new Option('--metrics-addr <host:port>', 'Prometheus /metrics ("" for none)').env('RAFTCHAT_METRICS_ADDR').default(''))
  .addOption(new Option('--advertise-client-addr <host:port>', 'client address other members and clients use').env('RAFTCHAT_ADVERTISE_CLIENT_ADDR'))
  .addOption(new Option('--advertise-peer-addr <host:port>', 'peer address other members use').env('RAFTCHAT_ADVERTISE_PEER_ADDR'))
  .addOption(new Option('--initial-cluster <id=peer,...>', 'static initial members (all voters)').env('RAFTCHAT_INITIAL_CLUSTER'))
  .addOption(new Option('--initial-cluster-clients <id=client,...>', 'client addresses of the initial members').env('RAFTCHAT_INITIAL_CLUSTER_CLIENTS'))
  .addOption(new Option('--bootstrap <mode>', 'how an empty data dir starts').choices(['initial', 'single', 'join']).env('RAFTCHAT_BOOTSTRAP'))
  .addOption(new Option('--join <host:port>', 'client address of a member to ask for admission').env('RAFTCHAT_JOIN'))
  .addOption(new Option('--cluster-id <id>', 'the cluster to join (learned from --join if omitted)').env('RAFTCHAT_CLUSTER_ID'))
  .addOption(new Option('--secret <text>', 'cluster secret (prefer --secret-file)').env('RAFTCHAT_SECRET'))
  .addOption(new Option('--secret-file <path>', 'file holding the cluster secret').env('RAFTCHAT_SECRET_FILE'))
  .addOption(new Option('--admin-token <text>', 'credential required for membership calls').env('RAFTCHAT_ADMIN_TOKEN'))
  .addOption(new Option('--tls-cert-file <path>', 'PEM certificate of this replica (SAN: its advertised names)').env('RAFTCHAT_TLS_CERT_FILE').default(''))
  .addOption(new Option('--tls-key-file <path>', 'PEM private key of the certificate').env('RAFTCHAT_TLS_KEY_FILE').default(''))
  .addOption(new Option('--tls-ca-file <path>', 'PEM CA that signed every member\'s certificate').env('RAFTCHAT_TLS_CA_FILE').default(''))
  .addOption(new Option('--tls-client <bool>', 'TLS on the client port').choices(['true', 'false']).env('RAFTCHAT_TLS_CLIENT').default('false'))
  .addOption(new Option('--tls-peer <bool>', 'mutual TLS on the peer port').choices(['true', 'false']).env('RAFTCHAT_TLS_PEER').default('false'))
  .addOption(new Option('--log-level <level>', 'pino log level').env('RAFTCHAT_LOG_LEVEL').default('info'))
  .addOption(new Option('--tick-ms <ms>', 'Raft tick interval').env('RAFTCHAT_TICK_MS').default(String(replicaDefaults.tickIntervalMs)))
  .addOption(new Option('--election-ticks <n>', 'ticks before a follower campaigns').env('RAFTCHAT_ELECTION_TICKS').default(String(replicaDefaults.electionTicks)))
  .addOption(new Option('--commit-broadcast-delay-ms <ms>', 'how long a leader lets a new commit index wait to ride on the next write before sending it on its own (0: at once)').env('RAFTCHAT_COMMIT_BROADCAST_DELAY_MS').default(String(replicaDefaults.commitBroadcastDelayMs)))
  .addOption(new Option('--snapshot-entries <n>', 'compact the log every n applied entries').env('RAFTCHAT_SNAPSHOT_ENTRIES').default(String(replicaDefaults.snapshotEveryEntries)))
  .addOption(new Option('--max-in-flight-per-connection <n>', 'calls open at once on one client connection').env('RAFTCHAT_MAX_IN_FLIGHT_PER_CONNECTION').default(String(apiDefaults.maxInFlightPerConnection)))
  .addOption(new Option('--login-failures-per-username-per-minute <n>', 'failed logins a username earns back per minute (per replica)').env('RAFTCHAT_LOGIN_FAILURES_PER_USERNAME_PER_MINUTE').default(String(apiDefaults.loginFailuresPerUsernamePerMinute)))
  .addOption(new Option('--login-failure-burst-per-username <n>', 'failed logins a username may have at once').env('RAFTCHAT_LOGIN_FAILURE_BURST_PER_USERNAME').default(String(apiDefaults.loginFailureBurstPerUsername)))
  .addOption(new Option('--login-failures-per-peer-per-minute <n>', 'failed logins a client address earns back per minute (per replica)').env('RAFTCHAT_LOGIN_FAILURES_PER_PEER_PER_MINUTE').default(String(apiDefaults.loginFailuresPerPeerPerMinute)))
  .addOption(new Option('--login-failure-burst-per-peer <n>', 'failed logins a client address may have at once').env('RAFTCHAT_LOGIN_FAILURE_BURST_PER_PEER').default(String(apiDefaults.loginFailureBurstPerPeer)))
  .addOption(new Option('--login-throttle-max-keys <n>', 'usernames (and addresses) the login throttle remembers').env('RAFTCHAT_LOGIN_THROTTLE_MAX_KEYS').default(String(apiDefaults.loginThrottleMaxKeys)))
  .action(async (flags: ServeFlags) => {
    const log = pino({ level: flags.logLevel, base: { nodeId: flags.id } });
    try {
      const config = await buildConfig(flags, log);
      const apiLimits = apiLimitsFrom(flags);
      const k8s = flags.kubernetes === true ? await runKubernetesMode(flags, config, log) : undefined;
      await serve(k8s?.config ?? config, log, apiLimits, k8s);
    } catch (err) {
      log.fatal({ err }, 'chatd could not start');
      process.exit(1);
    }
  });

registerLocalCommand(program);

async function buildConfig(flags: ServeFlags, log: Logger): Promise<ReplicaConfig> {
  const secret = readSecret(flags);
  const initialMembers = parseInitialCluster(flags.initialCluster ?? '', flags.initialClusterClients ?? '');
  const bootstrap = flags.bootstrap ?? (initialMembers.length > 0 ? 'initial' : flags.join !== undefined ? 'join' : 'single');
  const config: ReplicaConfig = {
    ...replicaDefaults,
    id: flags.id,
    dataDir: flags.dataDir,
    clientAddress: flags.clientAddr,
    peerAddress: flags.peerAddr,
    advertiseClientAddress: flags.advertiseClientAddr ?? flags.clientAddr,
    advertisePeerAddress: flags.advertisePeerAddr ?? flags.peerAddr,
    metricsAddress: flags.metricsAddr,
    bootstrap,
    initialMembers,
    joinAddress: flags.join ?? '',
    clusterId: flags.clusterId ?? '',
    joinMembers: [],
    clusterSecret: secret,
    adminToken: flags.adminToken ?? readAdminTokenFile(flags.adminTokenFile) ?? '',
    tls: {
      certFile: flags.tlsCertFile,
      keyFile: flags.tlsKeyFile,
      caFile: flags.tlsCaFile,
      client: flags.tlsClient === 'true',
      peer: flags.tlsPeer === 'true',
    },
    tickIntervalMs: positiveInt(flags.tickMs, '--tick-ms'),
    electionTicks: positiveInt(flags.electionTicks, '--election-ticks'),
    commitBroadcastDelayMs: nonNegativeInt(flags.commitBroadcastDelayMs, '--commit-broadcast-delay-ms'),
    snapshotEveryEntries: positiveInt(flags.snapshotEntries, '--snapshot-entries'),
  };
  config.compactionKeepEntries = Math.min(config.compactionKeepEntries, Math.floor(config.snapshotEveryEntries / 2));
  if (bootstrap === 'join' && config.joinAddress !== '') {
    const status = await askStatus(config.joinAddress, clientChannel(config), log);
    config.clusterId ||= status.clusterId;
    config.joinMembers = status.members.map((m) => ({ id: m.id, peerAddress: m.peerAddress, clientAddress: m.clientAddress, incarnation: m.incarnation }));
  }
  return config;
}

/** The client API's abuse limits from their flags (the rest of ApiLimits comes from the replica config). */
function apiLimitsFrom(flags: ServeFlags): Partial<ApiLimits> {
  return {
    maxInFlightPerConnection: positiveInt(flags.maxInFlightPerConnection, '--max-in-flight-per-connection'),
    loginFailuresPerUsernamePerMinute: positiveInt(flags.loginFailuresPerUsernamePerMinute, '--login-failures-per-username-per-minute'),
    loginFailureBurstPerUsername: positiveInt(flags.loginFailureBurstPerUsername, '--login-failure-burst-per-username'),
    loginFailuresPerPeerPerMinute: positiveInt(flags.loginFailuresPerPeerPerMinute, '--login-failures-per-peer-per-minute'),
    loginFailureBurstPerPeer: positiveInt(flags.loginFailureBurstPerPeer, '--login-failure-burst-per-peer'),
    loginThrottleMaxKeys: positiveInt(flags.loginThrottleMaxKeys, '--login-throttle-max-keys'),
  };
}

async function serve(config: ReplicaConfig, log: Logger, apiLimits: Partial<ApiLimits>, k8s?: KubernetesMode): Promise<void> {
  const tls = loadTls(config.tls);
  await tls.ready;
  const metrics = createMetrics({ nodeId: config.id });
  const replica = await Replica.start(config, log, metrics);
  const api = await startApiServer({
    // On Kubernetes the leader admits only pods below spec.replicas (AddMember succeeds only on the leader).
    replica: k8s === undefined ? replica : guardAdmission(replica, k8s.admission),
    address: config.clientAddress,
    auth: { tokenKey: deriveKey(config.clusterSecret, 'client-tokens'), tokenTtlMs: config.tokenTtlMs, adminToken: config.adminToken || undefined },
    limits: { ...apiLimits, maxBodyBytes: config.maxBodyBytes },
    logger: log.child({ component: 'api' }),
    interceptors: [grpcServerMetricsInterceptor(metrics)],
    ...(tls.clientServer !== undefined ? { credentials: tls.clientServer } : {}),
    observer: metrics.apiObserver,
  });
  metrics.grpc.initialize(ChatServiceService);
  metrics.grpc.initialize(ClusterServiceService);
  metrics.setStatusSource(() => replica.status());
  metrics.setSubscribersSource(() => api.subscriptions.streams());
  metrics.setAccountsSource(accountCounter(replica));
  const probes = { live: () => replica.fatal === undefined, ready: () => replica.fatal === undefined && replica.isCaughtUp() };
  const metricsServer = config.metricsAddress === '' ? undefined : await startMetricsServer(config.metricsAddress, metrics, probes);
  log.info({ client: config.clientAddress, peer: config.peerAddress, metrics: config.metricsAddress || 'off' }, 'serving');
  const k8sRun = await k8s?.afterStart(replica);
  const stopIdleGc = process.env['RAFTCHAT_IDLE_GC'] === '0' ? undefined : collectWhenIdle({
    progress: () => replica.status().appliedIndex,
    intervalMs: 10_000,
    onCollect: (freed, ms) => log.debug({ freedMiB: Math.round(freed / 2 ** 20), ms: Math.round(ms) }, 'collected garbage at rest'),
  });

  let exiting = false;
  const shutdown = async (signal: string, code: number) => {
    if (exiting) return;
    exiting = true;
    log.info({ signal }, code === 0 ? 'stopping: handing over leadership first if leader' : 'stopping after a fatal error');
    // A clean stop gets time to hand over leadership; after a fatal error (a full or failing disk)
    // closing the database may itself stall, and the cluster is better served by a prompt exit.
    const force = setTimeout(() => process.exit(code || 1), code === 0 ? 15_000 : 2_000);
    force.unref();
    stopIdleGc?.();
    await k8sRun?.stop().catch((err: unknown) => log.error({ err }, 'error while stopping the Kubernetes integration'));
    await replica.stop({ transferLeadership: code === 0 }).catch((err: unknown) => log.error({ err }, 'error while stopping'));
    await api.close().catch(() => undefined);
    await metricsServer?.close().catch(() => undefined);
    process.exit(code);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM', 0));
  process.on('SIGINT', () => void shutdown('SIGINT', 0));
  replica.events.on('fatal', () => void shutdown('fatal', 3));

  if (config.bootstrap === 'join' && config.joinAddress !== '') await requestAdmission(replica, config, log);
}

/**
 * The number of accounts, for the accounts gauge: counted from the keyspace at most every 15 s, so a
 * scrape never pays for a scan.
 */
function accountCounter(replica: Replica): () => Promise<number> {
  let cached = 0;
  let countedAt = 0;
  return async () => {
    if (Date.now() - countedAt < 15_000) return cached;
    countedAt = Date.now();
    cached = await countAccounts(replica.keyspace());
    return cached;
  };
}

/** A joining replica asks the leader (found through any member) to add it as a learner. */
async function requestAdmission(replica: Replica, config: ReplicaConfig, log: Logger): Promise<void> {
  const self = replica.status().members.find((m) => m.id === config.id);
  if (self !== undefined && replica.status().members.length > 1) return;
  let target = config.joinAddress;
  for (let attempt = 1; ; attempt++) {
    try {
      const status = await askStatus(target, clientChannel(config), log);
      if (status.members.some((m) => m.id === config.id && m.incarnation === replica.incarnation)) return;
      const leader = status.members.find((m) => m.id === status.leaderId);
      if (leader !== undefined && leader.clientAddress !== '') target = leader.clientAddress;
      await callAddMember(target, config, replica.incarnation);
      log.info({ via: target }, 'admitted as a learner; catching up before promotion');
      return;
    } catch (err) {
      const delayMs = Math.min(5000, 200 * attempt);
      log.warn({ err: (err as Error).message, via: target, retryInMs: delayMs }, 'asking to join the cluster failed; retrying');
      target = config.joinAddress;
      await new Promise((r) => setTimeout(r, delayMs));
    }
  }
}

/** How this replica dials another member's client port (joining): TLS when the client port uses it. */
function clientChannel(config: ReplicaConfig): grpc.ChannelCredentials {
  return loadTls(config.tls).clientChannel ?? grpc.credentials.createInsecure();
}

function askStatus(address: string, channel: grpc.ChannelCredentials, log: Logger): Promise<GetStatusResponse> {
  const client = new ClusterServiceClient(address, channel);
  return new Promise<GetStatusResponse>((resolve, reject) => {
    client.getStatus({}, new grpc.Metadata(), { deadline: Date.now() + 5000 }, (err, res) => {
      client.close();
      if (err !== null) {
        log.debug({ err: err.message, address }, 'GetStatus failed');
        reject(err);
      } else resolve(res);
    });
  });
}

function callAddMember(address: string, config: ReplicaConfig, incarnation: string): Promise<void> {
  const client = new ClusterServiceClient(address, clientChannel(config));
  const md = new grpc.Metadata();
  if (config.adminToken !== '') md.set('authorization', `Bearer ${config.adminToken}`);
  return new Promise<void>((resolve, reject) => {
    client.addMember(
      { id: config.id, peerAddress: config.advertisePeerAddress, clientAddress: config.advertiseClientAddress, asLearner: false, incarnation },
      md,
      { deadline: Date.now() + 10_000 },
      (err) => {
        client.close();
        if (err !== null) reject(err);
        else resolve();
      },
    );
  });
}

function readSecret(flags: ServeFlags): Uint8Array {
  if (flags.secretFile !== undefined) {
    const text = readFileSync(flags.secretFile, 'utf8').trim();
    if (text.length < 16) throw new Error(`the cluster secret in ${flags.secretFile} is shorter than 16 characters`);
    return new TextEncoder().encode(text);
  }
  if (flags.secret !== undefined) {
    if (flags.secret.length < 16) throw new Error('the cluster secret (--secret / RAFTCHAT_SECRET) is shorter than 16 characters');
    return new TextEncoder().encode(flags.secret);
  }
  throw new Error('no cluster secret: give --secret-file (or RAFTCHAT_SECRET_FILE / RAFTCHAT_SECRET); every member needs the same one');
}

/** Separate keys for separate purposes, all from the one cluster secret. */
function deriveKey(secret: Uint8Array, purpose: string): Uint8Array {
  return createHmac('sha256', secret).update(purpose).digest();
}

function parseInitialCluster(peers: string, clients: string): InitialMember[] {
  if (peers.trim() === '') return [];
  const clientById = new Map(splitPairs(clients, '--initial-cluster-clients'));
  return splitPairs(peers, '--initial-cluster').map(([id, peerAddress]) => ({ id, peerAddress, clientAddress: clientById.get(id) ?? '' }));
}

function splitPairs(text: string, flag: string): Array<[string, string]> {
  if (text.trim() === '') return [];
  return text.split(',').map((part) => {
    const eq = part.indexOf('=');
    if (eq <= 0 || eq === part.length - 1) throw new Error(`${flag}: expected id=host:port, got "${part}"`);
    return [part.slice(0, eq).trim(), part.slice(eq + 1).trim()];
  });
}

function positiveInt(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag} must be a positive integer, got "${text}"`);
  return n;
}

function nonNegativeInt(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${flag} must be a whole number of 0 or more, got "${text}"`);
  return n;
}

await program.parseAsync(process.argv);
