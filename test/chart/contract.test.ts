// The default render against K8S-CONTRACT.md: the environment, probes, ports, RBAC, security context,
// Services, disruption budget and scheduling the runtime (src/k8s, chatd) relies on.
import assert from 'node:assert/strict';
import { at, helmHome, only, render, templateRaw, type K8sObject } from './support/render.js';
import { ensureTools, FETCH_TIMEOUT_MS, HELMS } from './support/tools.js';
import { defaultLimits } from '../../src/api/index.js';

const helm4 = HELMS[1];

/** A Service's ports as [name, port] pairs. */
function ports(service: K8sObject): [string, number][] {
  return (at(service, 'spec', 'ports') as { name: string; port: number }[]).map((p) => [p.name, p.port]);
}

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string } };
}

describe('chart: the pod contract (K8S-CONTRACT.md)', function () {
  let home: { dir: string; dispose: () => Promise<void> };
  let objects: K8sObject[];
  let sts: K8sObject;
  let pod: unknown;
  let chatd: unknown;
  before(async function () {
    this.timeout(FETCH_TIMEOUT_MS);
    await ensureTools();
    home = await helmHome();
    objects = await render(helm4, home.dir);
    sts = only(objects, 'StatefulSet', 'raftchat');
    pod = at(sts, 'spec', 'template', 'spec');
    chatd = at(pod, 'containers', 0);
  });
  after(() => home.dispose());

  it('runs `serve --kubernetes` with every environment variable the contract names', () => {
    const defaults = defaultLimits();
    assert.deepEqual(at(chatd, 'args'), ['serve', '--kubernetes']);
    const env = at(chatd, 'env') as EnvVar[];
    const byName = new Map(env.map((e) => [e.name, e.value ?? `fieldRef:${e.valueFrom?.fieldRef?.fieldPath}`]));
    assert.deepEqual(Object.fromEntries(byName), {
      RAFTCHAT_ID: 'fieldRef:metadata.name',
      RAFTCHAT_NAMESPACE: 'fieldRef:metadata.namespace',
      RAFTCHAT_STATEFULSET: 'raftchat',
      RAFTCHAT_HEADLESS_SERVICE: 'raftchat-headless',
      RAFTCHAT_CLUSTER_CONFIGMAP: 'raftchat-cluster',
      RAFTCHAT_CLUSTER_DOMAIN: 'cluster.local',
      RAFTCHAT_DATA_DIR: '/var/lib/raftchat',
      RAFTCHAT_CLIENT_ADDR: '0.0.0.0:50051',
      RAFTCHAT_PEER_ADDR: '0.0.0.0:50052',
      RAFTCHAT_METRICS_ADDR: '0.0.0.0:9102',
      RAFTCHAT_SECRET_FILE: '/etc/raftchat/secret/cluster-secret',
      RAFTCHAT_ADMIN_TOKEN_FILE: '/etc/raftchat/secret/admin-token',
      RAFTCHAT_LOG_LEVEL: 'info',
      // The client API's abuse limits, at chatd's own defaults (src/api/options.ts).
      RAFTCHAT_MAX_IN_FLIGHT_PER_CONNECTION: String(defaults.maxInFlightPerConnection),
      RAFTCHAT_LOGIN_FAILURES_PER_USERNAME_PER_MINUTE: String(defaults.loginFailuresPerUsernamePerMinute),
      RAFTCHAT_LOGIN_FAILURE_BURST_PER_USERNAME: String(defaults.loginFailureBurstPerUsername),
      RAFTCHAT_LOGIN_FAILURES_PER_PEER_PER_MINUTE: String(defaults.loginFailuresPerPeerPerMinute),
      RAFTCHAT_LOGIN_FAILURE_BURST_PER_PEER: String(defaults.loginFailureBurstPerPeer),
      RAFTCHAT_TLS_CLIENT: 'false',
      RAFTCHAT_TLS_PEER: 'false',
    });
  });

  it('mounts the data volume, /tmp and the secret files where the environment points', () => {
    const mounts = new Map((at(chatd, 'volumeMounts') as { name: string; mountPath: string }[]).map((m) => [m.name, m.mountPath]));
    assert.equal(mounts.get('data'), '/var/lib/raftchat');
    assert.equal(mounts.get('tmp'), '/tmp');
    assert.equal(mounts.get('secret'), '/etc/raftchat/secret');
    const volumes = at(pod, 'volumes') as { name: string; secret?: { secretName: string; defaultMode: number; items: { key: string }[] } }[];
    const secretVolume = volumes.find((v) => v.name === 'secret');
    assert.equal(secretVolume?.secret?.secretName, 'raftchat-secret');
    assert.deepEqual(secretVolume?.secret?.items.map((i) => i.key), ['cluster-secret', 'admin-token']);
    assert.equal(secretVolume?.secret?.defaultMode, 0o440, 'readable by the replica’s uid and group only');
    assert.equal(at(sts, 'spec', 'volumeClaimTemplates', 0, 'metadata', 'name'), 'data');
  });

  it('names the ports grpc 50051, peer 50052 and metrics 9102', () => {
    assert.deepEqual(at(chatd, 'ports'), [
      { name: 'grpc', containerPort: 50051, protocol: 'TCP' },
      { name: 'peer', containerPort: 50052, protocol: 'TCP' },
      { name: 'metrics', containerPort: 9102, protocol: 'TCP' },
    ]);
  });

  it('probes readiness on health service "" and liveness and startup on "liveness", over gRPC on 50051', () => {
    assert.deepEqual(at(chatd, 'readinessProbe', 'grpc'), { port: 50051, service: '' });
    assert.deepEqual(at(chatd, 'livenessProbe', 'grpc'), { port: 50051, service: 'liveness' });
    assert.deepEqual(at(chatd, 'startupProbe', 'grpc'), { port: 50051, service: 'liveness' });
    const startupBudgetSeconds = Number(at(chatd, 'startupProbe', 'periodSeconds')) * Number(at(chatd, 'startupProbe', 'failureThreshold'));
    assert.ok(startupBudgetSeconds >= 300, `startup allowed only ${startupBudgetSeconds}s`);
  });

  it('probes over plaintext HTTP on the metrics port when the client port speaks TLS (kubelet gRPC probes cannot)', async () => {
    const tls = only(await render(helm4, home.dir, { values: { tls: { client: true } } }), 'StatefulSet');
    const container = at(tls, 'spec', 'template', 'spec', 'containers', 0);
    assert.deepEqual(at(container, 'readinessProbe', 'httpGet'), { path: '/readyz', port: 'metrics' });
    assert.deepEqual(at(container, 'livenessProbe', 'httpGet'), { path: '/livez', port: 'metrics' });
    assert.equal(at(container, 'readinessProbe', 'grpc'), undefined);
  });

  it('gives a leader 30 seconds after SIGTERM to hand over leadership', () => {
    assert.equal(at(pod, 'terminationGracePeriodSeconds'), 30);
  });

  it('starts replicas in parallel and spreads them across nodes', () => {
    assert.equal(at(sts, 'spec', 'podManagementPolicy'), 'Parallel');
    assert.equal(at(sts, 'spec', 'serviceName'), 'raftchat-headless');
    assert.equal(at(pod, 'topologySpreadConstraints', 0, 'topologyKey'), 'kubernetes.io/hostname');
    assert.equal(at(pod, 'topologySpreadConstraints', 0, 'maxSkew'), 1);
    const anti = at(pod, 'affinity', 'podAntiAffinity', 'preferredDuringSchedulingIgnoredDuringExecution', 0, 'podAffinityTerm');
    assert.equal(at(anti, 'topologyKey'), 'kubernetes.io/hostname');
    assert.deepEqual(at(anti, 'labelSelector', 'matchLabels'), at(sts, 'spec', 'selector', 'matchLabels'));
  });

  it('runs as uid 10001 with a read-only root, no capabilities and the RuntimeDefault seccomp profile', () => {
    const security = at(chatd, 'securityContext');
    assert.equal(at(security, 'runAsNonRoot'), true);
    assert.equal(at(security, 'runAsUser'), 10001);
    assert.equal(at(security, 'readOnlyRootFilesystem'), true);
    assert.equal(at(security, 'allowPrivilegeEscalation'), false);
    assert.deepEqual(at(security, 'capabilities', 'drop'), ['ALL']);
    assert.equal(at(security, 'seccompProfile', 'type'), 'RuntimeDefault');
    assert.equal(at(pod, 'securityContext', 'seccompProfile', 'type'), 'RuntimeDefault');
    assert.equal(at(pod, 'securityContext', 'fsGroup'), 10001);
  });

  it('mounts an API token only into the pods that call the API', () => {
    assert.equal(only(objects, 'ServiceAccount', 'raftchat')['automountServiceAccountToken'], false);
    assert.equal(at(pod, 'automountServiceAccountToken'), true);
    assert.equal(at(only(objects, 'Pod', 'raftchat-smoke-test'), 'spec', 'automountServiceAccountToken'), false);
  });

  it('grants the replicas only what the contract lists, namespaced', () => {
    assert.deepEqual(objects.filter((o) => o.kind.startsWith('Cluster')), []);
    assert.deepEqual(at(only(objects, 'Role', 'raftchat'), 'rules'), [
      { apiGroups: ['apps'], resources: ['statefulsets'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['configmaps'], verbs: ['create'] },
      { apiGroups: [''], resources: ['configmaps'], resourceNames: ['raftchat-cluster'], verbs: ['get', 'update'] },
    ]);
    const binding = only(objects, 'RoleBinding', 'raftchat');
    assert.deepEqual(binding['roleRef'], { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'raftchat' });
    assert.deepEqual(binding['subjects'], [{ kind: 'ServiceAccount', name: 'raftchat', namespace: 'raftchat' }]);
  });

  it('publishes not-ready replicas on the headless Service and only ready ones on the client Service', () => {
    const headless = only(objects, 'Service', 'raftchat-headless');
    assert.equal(at(headless, 'spec', 'clusterIP'), 'None');
    assert.equal(at(headless, 'spec', 'publishNotReadyAddresses'), true);
    assert.deepEqual(ports(headless), [['grpc', 50051], ['peer', 50052]]);
    const client = only(objects, 'Service', 'raftchat');
    assert.equal(at(client, 'spec', 'publishNotReadyAddresses'), undefined);
    assert.deepEqual(ports(client), [['grpc', 50051], ['metrics', 9102]]);
    for (const service of [headless, client]) assert.deepEqual(at(service, 'spec', 'selector'), at(sts, 'spec', 'selector', 'matchLabels'));
  });

  it('keeps the helm test pod out of the replicas’ selector', () => {
    const selector = at(sts, 'spec', 'selector', 'matchLabels') as Record<string, string>;
    const testPod = only(objects, 'Pod', 'raftchat-smoke-test');
    assert.ok(Object.entries(selector).some(([k, v]) => testPod.metadata.labels?.[k] !== v));
    assert.equal(testPod.metadata.annotations?.['helm.sh/hook'], 'test');
  });

  it('lets voluntary disruptions take one replica at a time by default', () => {
    const pdb = only(objects, 'PodDisruptionBudget', 'raftchat');
    assert.equal(at(pdb, 'spec', 'maxUnavailable'), 1);
    assert.deepEqual(at(pdb, 'spec', 'selector', 'matchLabels'), at(sts, 'spec', 'selector', 'matchLabels'));
  });

  it('accepts a disruption budget of ⌊(n−1)/2⌋ and refuses one that would break quorum', async () => {
    const five = await render(helm4, home.dir, { values: { replicas: 5, podDisruptionBudget: { maxUnavailable: 2 } } });
    assert.equal(at(only(five, 'PodDisruptionBudget'), 'spec', 'maxUnavailable'), 2);
    for (const [replicas, maxUnavailable] of [[5, 3], [3, 2]] as const) {
      const result = await templateRaw(helm4, home.dir, { values: { replicas, podDisruptionBudget: { maxUnavailable } } });
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /losing quorum/);
    }
  });

  it('admits the peer port only from the replicas and leaves client and metrics open by default', () => {
    const policy = only(objects, 'NetworkPolicy', 'raftchat');
    assert.deepEqual(at(policy, 'spec', 'podSelector', 'matchLabels'), at(sts, 'spec', 'selector', 'matchLabels'));
    assert.deepEqual(at(policy, 'spec', 'policyTypes'), ['Ingress']);
    const [peer, grpc, metrics] = at(policy, 'spec', 'ingress') as { ports: { port: string }[]; from?: unknown[] }[];
    assert.deepEqual(peer?.ports.map((p) => p.port), ['peer']);
    assert.deepEqual(peer?.from, [{ podSelector: { matchLabels: at(sts, 'spec', 'selector', 'matchLabels') } }]);
    assert.deepEqual(grpc?.ports.map((p) => p.port), ['grpc']);
    assert.equal(grpc?.from, undefined);
    assert.deepEqual(metrics?.ports.map((p) => p.port), ['metrics']);
    assert.equal(metrics?.from, undefined);
  });

  it('keeps the release’s own pods allowed on the client port when sources are restricted', async () => {
    const source = { namespaceSelector: { matchLabels: { team: 'apps' } } };
    const policy = only(await render(helm4, home.dir, { values: { networkPolicy: { client: { from: [source] } } } }), 'NetworkPolicy');
    assert.deepEqual(at(policy, 'spec', 'ingress', 1, 'from'), [
      { podSelector: { matchLabels: { 'app.kubernetes.io/name': 'raftchat', 'app.kubernetes.io/instance': 'raftchat' } } },
      source,
    ]);
  });

  it('runs the smoke test against the client Service: status, then register, login, send, read', () => {
    const testPod = only(objects, 'Pod', 'raftchat-smoke-test');
    const container = at(testPod, 'spec', 'containers', 0);
    const script = (at(container, 'args') as string[]).join('\n');
    const steps = ['chatctl --servers "$RAFTCHAT_SERVERS" status', 'chatctl register', 'chatctl login', 'chatctl send'];
    for (const step of [...steps, 'chatctl read', 'chatctl delete-account']) {
      assert.ok(script.includes(step), `script runs ${step}`);
    }
    const env = new Map((at(container, 'env') as EnvVar[]).map((e) => [e.name, e.value]));
    assert.equal(env.get('RAFTCHAT_SERVERS'), 'raftchat.raftchat.svc.cluster.local:50051');
    assert.match(env.get('RAFTCHAT_PASSWORD') ?? '', /\$\(POD_UID\)/);
  });
});
