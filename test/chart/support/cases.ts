// The value sets the chart is rendered with in the tests, each with the check that it did what it says.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { at, only, type K8sObject, type Values } from './render.js';

/** Everything optional on at once (TLS from the chart's own CA). */
export const ALL_ON: Values = {
  tls: { client: true, peer: true },
  chaos: { enabled: true, leader: true, dryRun: true },
  monitoring: {
    serviceMonitor: { enabled: true, labels: { release: 'kube-prometheus-stack' } },
    prometheusRule: { enabled: true },
    grafanaDashboard: { enabled: true, annotations: { grafana_folder: 'raftchat' } },
  },
  networkPolicy: {
    client: { from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'apps' } } }] },
    metrics: { from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }] },
  },
  persistence: { storageClass: 'fast-ssd' },
  scheduling: {
    extraTopologySpreadConstraints: [
      { maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway' },
    ],
  },
};

export interface RenderCase {
  name: string;
  values?: Values;
  check: (objects: readonly K8sObject[]) => void;
}

function statefulSet(objects: readonly K8sObject[]): K8sObject {
  return only(objects, 'StatefulSet', 'raftchat');
}

function chatdEnv(objects: readonly K8sObject[]): Map<string, unknown> {
  const env = at(statefulSet(objects), 'spec', 'template', 'spec', 'containers', 0, 'env') as { name: string; value?: unknown }[];
  return new Map(env.map((e) => [e.name, e.value]));
}

/** The attributes of the csi.cert-manager.io volume `name` among `volumes`. */
function csiVolume(volumes: unknown, name: string): Record<string, string> {
  const volume = (volumes as { name: string; csi?: { driver: string; volumeAttributes: Record<string, string> } }[]).find((v) => v.name === name);
  assert.equal(volume?.csi?.driver, 'csi.cert-manager.io', `volume ${name} is not a cert-manager csi volume`);
  return volume.csi.volumeAttributes;
}

function replicasCase(replicas: number): RenderCase {
  return {
    name: `${replicas} replicas`,
    values: { replicas },
    check: (objects) => {
      assert.equal(at(statefulSet(objects), 'spec', 'replicas'), replicas);
      assert.equal(at(only(objects, 'PodDisruptionBudget'), 'spec', 'maxUnavailable'), 1);
    },
  };
}

function tlsSecretNames(objects: readonly K8sObject[]): string[] {
  const secret = only(objects, 'Secret', 'raftchat-tls');
  assert.equal(secret.type, 'kubernetes.io/tls');
  const data = secret['data'] as Record<string, string>;
  const cert = new X509Certificate(Buffer.from(data['tls.crt']!, 'base64'));
  const ca = new X509Certificate(Buffer.from(data['ca.crt']!, 'base64'));
  assert.ok(cert.verify(ca.publicKey), 'the certificate is signed by the CA in ca.crt');
  assert.ok(ca.ca, 'ca.crt is a CA certificate');
  return (cert.subjectAltName ?? '').split(', ').map((san) => san.replace(/^DNS:/, ''));
}

export const RENDER_CASES: readonly RenderCase[] = [
  {
    name: 'the default values',
    check: (objects) => {
      assert.deepEqual(
        objects.map((o) => o.kind).sort(),
        ['NetworkPolicy', 'Pod', 'PodDisruptionBudget', 'Role', 'RoleBinding', 'Secret']
          .concat(['Service', 'Service', 'ServiceAccount', 'StatefulSet']),
      );
      assert.equal(at(statefulSet(objects), 'spec', 'replicas'), 5);
    },
  },
  replicasCase(3),
  replicasCase(5),
  replicasCase(7),
  {
    name: 'TLS on both ports from the chart’s own CA',
    values: { tls: { client: true, peer: true } },
    check: (objects) => {
      const sans = tlsSecretNames(objects);
      // replicas + ordinalHeadroom pod names, then the wildcard and the client Service's names.
      for (let i = 0; i < 5 + 4; i++) {
        assert.ok(sans.includes(`raftchat-${i}.raftchat-headless.raftchat.svc.cluster.local`), `SAN for ordinal ${i}`);
      }
      const others = ['*.raftchat-headless.raftchat.svc.cluster.local', 'raftchat', 'raftchat.raftchat.svc'];
      for (const name of [...others, 'raftchat.raftchat.svc.cluster.local']) {
        assert.ok(sans.includes(name), `SAN ${name} in ${sans.join(' ')}`);
      }
      const env = chatdEnv(objects);
      assert.equal(env.get('RAFTCHAT_TLS_CLIENT'), 'true');
      assert.equal(env.get('RAFTCHAT_TLS_PEER'), 'true');
      assert.equal(env.get('RAFTCHAT_TLS_CA_FILE'), '/etc/raftchat/tls/ca.crt');
      assert.equal(only(objects, 'Secret', 'raftchat-tls').metadata.annotations?.['helm.sh/resource-policy'], 'keep');
    },
  },
  {
    name: 'mutual TLS on the peer port only',
    values: { tls: { peer: true } },
    check: (objects) => {
      tlsSecretNames(objects);
      const env = chatdEnv(objects);
      assert.equal(env.get('RAFTCHAT_TLS_CLIENT'), 'false');
      assert.equal(env.get('RAFTCHAT_TLS_PEER'), 'true');
      // Plaintext client port: kubelet gRPC probes still work, and chatctl pods need no CA.
      assert.ok(at(statefulSet(objects), 'spec', 'template', 'spec', 'containers', 0, 'readinessProbe', 'grpc'));
    },
  },
  {
    name: 'TLS from cert-manager with the chart’s own CA issuer',
    values: { tls: { client: true, peer: true, certManager: { enabled: true } } },
    check: (objects) => {
      assert.equal(objects.filter((o) => o.kind === 'Secret' && o.metadata.name === 'raftchat-tls').length, 0);
      const cert = only(objects, 'Certificate', 'raftchat');
      assert.equal(at(cert, 'spec', 'secretName'), 'raftchat-tls');
      assert.deepEqual(at(cert, 'spec', 'issuerRef'), { name: 'raftchat-ca', kind: 'Issuer', group: 'cert-manager.io' });
      assert.ok((at(cert, 'spec', 'dnsNames') as string[]).includes('raftchat-4.raftchat-headless.raftchat.svc.cluster.local'));
      assert.deepEqual(at(cert, 'spec', 'usages'), ['digital signature', 'server auth', 'client auth']);
      assert.equal(at(only(objects, 'Certificate', 'raftchat-ca'), 'spec', 'isCA'), true);
      assert.equal(at(only(objects, 'Issuer', 'raftchat-ca'), 'spec', 'ca', 'secretName'), 'raftchat-ca');
      assert.deepEqual(at(only(objects, 'Issuer', 'raftchat-selfsigned'), 'spec', 'selfSigned'), {});
    },
  },
  {
    name: 'TLS from cert-manager with the user’s ClusterIssuer',
    values: { tls: { client: true, certManager: { enabled: true, issuerRef: { name: 'corp-ca', kind: 'ClusterIssuer' } } } },
    check: (objects) => {
      assert.deepEqual(objects.filter((o) => o.kind === 'Issuer'), []);
      assert.deepEqual(at(only(objects, 'Certificate', 'raftchat'), 'spec', 'issuerRef'), { name: 'corp-ca', kind: 'ClusterIssuer' });
    },
  },
  {
    name: 'per-pod certificates from cert-manager’s csi-driver',
    values: { tls: { client: true, peer: true, certManager: { enabled: true, csiDriver: true } }, chaos: { enabled: true } },
    check: (objects) => {
      // Only the CA is a Certificate object: the replicas' certificates come from their volumes.
      assert.deepEqual(objects.filter((o) => o.kind === 'Certificate').map((o) => o.metadata.name), ['raftchat-ca']);
      const tls = csiVolume(at(statefulSet(objects), 'spec', 'template', 'spec', 'volumes'), 'tls');
      const names = tls['csi.cert-manager.io/dns-names']!.split(',');
      // The name a replica advertises as its peer address (src/k8s/identity.ts), which the peer port's
      // identity check compares with the caller's certificate; no wildcard, so it names one replica.
      assert.equal(names[0], '${POD_NAME}.raftchat-headless.${POD_NAMESPACE}.svc.cluster.local');
      assert.deepEqual(names.filter((n) => n.includes('*')), []);
      assert.equal(tls['csi.cert-manager.io/issuer-name'], 'raftchat-ca');
      assert.equal(tls['csi.cert-manager.io/key-usages'], 'digital signature,server auth,client auth');
      assert.deepEqual(
        [tls['csi.cert-manager.io/certificate-file'], tls['csi.cert-manager.io/privatekey-file'], tls['csi.cert-manager.io/ca-file']],
        ['tls.crt', 'tls.key', 'ca.crt'],
      );
      assert.equal(chatdEnv(objects).get('RAFTCHAT_TLS_CERT_FILE'), '/etc/raftchat/tls/tls.crt');
      // Client pods find the CA beside a client certificate of their own.
      const chaosPod = at(only(objects, 'CronJob', 'raftchat-chaos'), 'spec', 'jobTemplate', 'spec', 'template', 'spec');
      const testPod = at(only(objects, 'Pod'), 'spec');
      for (const pod of [chaosPod, testPod]) {
        assert.equal(csiVolume(at(pod, 'volumes'), 'tls-ca')['csi.cert-manager.io/key-usages'], 'digital signature,client auth');
      }
    },
  },
  {
    name: 'the chaos CronJob on',
    values: { chaos: { enabled: true, leader: true, dryRun: true, maxKills: 2, interval: '45s', faultBudget: 2 } },
    check: (objects) => {
      const cron = only(objects, 'CronJob', 'raftchat-chaos');
      const pod = at(cron, 'spec', 'jobTemplate', 'spec', 'template', 'spec');
      assert.equal(at(pod, 'serviceAccountName'), 'raftchat-chaos');
      assert.deepEqual(at(pod, 'containers', 0, 'args'), [
        'chaos', '--target', 'kubernetes', '--namespace', 'raftchat',
        '--selector', 'app.kubernetes.io/component=server,app.kubernetes.io/instance=raftchat,app.kubernetes.io/name=raftchat',
        '--interval', '45s', '--max-kills', '2', '--fault-budget', '2', '--leader', '--dry-run',
      ]);
      assert.equal(at(cron, 'spec', 'concurrencyPolicy'), 'Forbid');
      type Rule = { verbs: string[]; resources: string[]; resourceNames?: string[] };
      const rules = at(only(objects, 'Role', 'raftchat-chaos'), 'rules') as Rule[];
      assert.deepEqual(rules.flatMap((r) => r.resources), ['pods', 'pods']);
      assert.deepEqual(rules.map((r) => r.verbs), [['list', 'watch'], ['delete']]);
      assert.deepEqual(rules[1]!.resourceNames, Array.from({ length: 9 }, (_, i) => `raftchat-${i}`));
    },
  },
  {
    name: 'monitoring on (ServiceMonitor, PrometheusRule, dashboard)',
    values: { monitoring: { serviceMonitor: { enabled: true }, prometheusRule: { enabled: true }, grafanaDashboard: { enabled: true } } },
    check: (objects) => {
      const monitor = only(objects, 'ServiceMonitor', 'raftchat');
      assert.deepEqual(at(monitor, 'spec', 'endpoints', 0, 'port'), 'metrics');
      assert.deepEqual(at(monitor, 'spec', 'targetLabels'), ['release']);
      // The selector picks the client Service (it has the metrics port), not the headless one.
      const selector = at(monitor, 'spec', 'selector', 'matchLabels') as Record<string, string>;
      const matching = objects.filter((o) => o.kind === 'Service' && Object.entries(selector).every(([k, v]) => o.metadata.labels?.[k] === v));
      assert.deepEqual(matching.map((o) => o.metadata.name), ['raftchat']);
      assert.ok((at(only(objects, 'PrometheusRule'), 'spec', 'groups') as unknown[]).length > 0);
      assert.equal(only(objects, 'ConfigMap', 'raftchat-dashboard').metadata.labels?.['grafana_dashboard'], '1');
    },
  },
  {
    name: 'a custom storage class',
    values: { persistence: { storageClass: 'fast-ssd', size: '50Gi' } },
    check: (objects) => {
      const claim = at(statefulSet(objects), 'spec', 'volumeClaimTemplates', 0);
      assert.equal(at(claim, 'metadata', 'name'), 'data');
      assert.equal(at(claim, 'spec', 'storageClassName'), 'fast-ssd');
      assert.equal(at(claim, 'spec', 'resources', 'requests', 'storage'), '50Gi');
    },
  },
  {
    name: 'the NetworkPolicy off',
    values: { networkPolicy: { enabled: false } },
    check: (objects) => assert.deepEqual(objects.filter((o) => o.kind === 'NetworkPolicy'), []),
  },
  {
    name: 'an existing Secret for the cluster secret and TLS',
    values: { auth: { existingSecret: 'my-auth' }, tls: { client: true, peer: true, existingSecret: 'my-tls' } },
    check: (objects) => {
      assert.deepEqual(objects.filter((o) => o.kind === 'Secret'), []);
      type Volume = { name: string; secret?: { secretName: string } };
      const volumes = at(statefulSet(objects), 'spec', 'template', 'spec', 'volumes') as Volume[];
      assert.equal(volumes.find((v) => v.name === 'secret')?.secret?.secretName, 'my-auth');
      assert.equal(volumes.find((v) => v.name === 'tls')?.secret?.secretName, 'my-tls');
    },
  },
  {
    name: 'everything optional on at once',
    values: ALL_ON,
    check: (objects) => {
      for (const kind of ['CronJob', 'ServiceMonitor', 'PrometheusRule', 'ConfigMap', 'NetworkPolicy']) only(objects, kind);
      type Constraint = { topologyKey: string; labelSelector?: unknown };
      const spread = at(statefulSet(objects), 'spec', 'template', 'spec', 'topologySpreadConstraints') as Constraint[];
      assert.deepEqual(spread.map((c) => c.topologyKey), ['kubernetes.io/hostname', 'topology.kubernetes.io/zone']);
      assert.ok(spread[1]!.labelSelector, 'the extra constraint got the replicas’ selector');
    },
  },
];
