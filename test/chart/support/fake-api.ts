// A minimal Kubernetes API on 127.0.0.1 for `helm template --dry-run=server`: just enough discovery for
// Helm to map the chart's kinds to resources, and GET of the Secrets a test puts in it, so the chart's `lookup` sees a
// live cluster. Everything else answers 404.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';

/** The kinds the chart renders, by group/version: Helm 4 maps every rendered object to a resource. */
const RESOURCES: Readonly<Record<string, readonly [kind: string, plural: string][]>> = {
  v1: [['Secret', 'secrets'], ['Service', 'services'], ['ServiceAccount', 'serviceaccounts'], ['ConfigMap', 'configmaps'], ['Pod', 'pods']],
  'apps/v1': [['StatefulSet', 'statefulsets']],
  'batch/v1': [['CronJob', 'cronjobs']],
  'policy/v1': [['PodDisruptionBudget', 'poddisruptionbudgets']],
  'rbac.authorization.k8s.io/v1': [['Role', 'roles'], ['RoleBinding', 'rolebindings']],
  'networking.k8s.io/v1': [['NetworkPolicy', 'networkpolicies']],
};

function resourceList(groupVersion: string): object {
  return {
    kind: 'APIResourceList',
    groupVersion,
    resources: (RESOURCES[groupVersion] ?? []).map(([kind, name]) => ({
      name,
      singularName: kind.toLowerCase(),
      namespaced: true,
      kind,
      verbs: ['get', 'list', 'create', 'update', 'delete'],
    })),
  };
}

const GROUPS = Object.keys(RESOURCES)
  .filter((gv) => gv.includes('/'))
  .map((gv) => {
    const [name, version] = gv.split('/') as [string, string];
    const preferred = { groupVersion: gv, version };
    return { name, versions: [preferred], preferredVersion: preferred };
  });

export interface FakeApi {
  /** Secrets by `namespace/name`, as the API would return them. */
  secrets: Map<string, object>;
  /** Paths Helm asked for, to tell a real lookup from none. */
  requests: string[];
  kubeconfig: string;
  close: () => Promise<void>;
}

export async function startFakeApi(dir: string): Promise<FakeApi> {
  const secrets = new Map<string, object>();
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0]!;
    requests.push(url);
    const send = (code: number, body: object): void => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const secret = /^\/api\/v1\/namespaces\/([^/]+)\/secrets\/([^/]+)$/.exec(url);
    if (url === '/version') send(200, { major: '1', minor: '35', gitVersion: 'v1.35.0', platform: 'linux/amd64' });
    else if (url === '/api') send(200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] });
    else if (url === '/apis') send(200, { kind: 'APIGroupList', apiVersion: 'v1', groups: GROUPS });
    else if (url === '/api/v1') send(200, resourceList('v1'));
    else if (url.startsWith('/apis/') && RESOURCES[url.slice('/apis/'.length)] !== undefined) send(200, resourceList(url.slice('/apis/'.length)));
    // Helm's release storage lists Secrets by label: no releases yet.
    else if (/^\/api\/v1\/namespaces\/[^/]+\/secrets$/.test(url)) send(200, { kind: 'SecretList', apiVersion: 'v1', metadata: {}, items: [] });
    else if (secret !== null && secrets.has(`${secret[1]}/${secret[2]}`)) send(200, secrets.get(`${secret[1]}/${secret[2]}`)!);
    else send(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const kubeconfig = path.join(dir, `kubeconfig-${port}`);
  await writeFile(
    kubeconfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'fake', cluster: { server: `http://127.0.0.1:${port}` } }],
      users: [{ name: 'fake', user: {} }],
      contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'fake', namespace: 'raftchat' } }],
      'current-context': 'fake',
    }),
  );
  return {
    secrets,
    requests,
    kubeconfig,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
