// A minimal Kubernetes API server for the chaos engine's tests: plain HTTP on loopback, speaking the
// real REST wire format of list and delete pods (what @kubernetes/client-node sends and expects).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig, type V1Pod } from '@kubernetes/client-node';

export interface FakeRequest {
  method: string;
  path: string;
  labelSelector: string | null;
}

/** Equality-based selectors (`a=b,c!=d`, `a==b`) and existence (`a`, `!a`): what the chart uses. */
export function matchesSelector(labels: Record<string, string>, selector: string): boolean {
  return selector
    .split(',')
    .map((term) => term.trim())
    .filter((term) => term !== '')
    .every((term) => {
      const notEqual = /^([^!=]+)!=(.*)$/.exec(term);
      if (notEqual !== null) return labels[notEqual[1]!.trim()] !== notEqual[2]!.trim();
      const equal = /^([^!=]+)==?(.*)$/.exec(term);
      if (equal !== null) return labels[equal[1]!.trim()] === equal[2]!.trim();
      if (term.startsWith('!')) return !(term.slice(1) in labels);
      return term in labels;
    });
}

export function pod(name: string, options: { labels?: Record<string, string>; ready?: boolean; namespace?: string } = {}): V1Pod {
  const ready = options.ready ?? true;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: options.namespace ?? 'chat', uid: `uid-${name}-1`, labels: options.labels ?? { 'app.kubernetes.io/name': 'raftchat' } },
    spec: { containers: [{ name: 'chatd', image: 'raftchat', ports: [{ name: 'grpc', containerPort: 50051 }] }] },
    status: {
      phase: 'Running',
      podIP: '127.0.0.1',
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
    },
  };
}

export class FakeApiServer {
  readonly requests: FakeRequest[] = [];
  readonly deleted: string[] = [];
  private readonly server: Server;
  private pods: V1Pod[];

  private constructor(pods: V1Pod[]) {
    this.pods = pods;
    this.server = createServer((req, res) => this.handle(req, res));
  }

  static async start(pods: V1Pod[]): Promise<FakeApiServer> {
    const fake = new FakeApiServer(pods);
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  kubeConfig(): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'fake', server: this.url, skipTLSVerify: true }],
      users: [{ name: 'chaos' }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'chaos', namespace: 'chat' }],
      currentContext: 'fake',
    });
    return kc;
  }

  /** A kubeconfig file's YAML-compatible JSON, for the CLI's loadFromDefault via $KUBECONFIG. */
  kubeConfigFile(): string {
    return JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      // client-node refuses plain http unless TLS verification is explicitly off.
      clusters: [{ name: 'fake', cluster: { server: this.url, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'chaos', user: {} }],
      contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'chaos', namespace: 'chat' } }],
      'current-context': 'fake',
    });
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://fake');
    this.requests.push({ method: req.method ?? '', path: url.pathname, labelSelector: url.searchParams.get('labelSelector') });
    const list = /^\/api\/v1\/namespaces\/([^/]+)\/pods$/.exec(url.pathname);
    const one = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)$/.exec(url.pathname);
    if (req.method === 'GET' && list !== null) {
      const selector = url.searchParams.get('labelSelector') ?? '';
      const items = this.pods.filter((p) => p.metadata?.namespace === list[1] && matchesSelector(p.metadata?.labels ?? {}, selector));
      return this.json(res, 200, { apiVersion: 'v1', kind: 'PodList', metadata: { resourceVersion: '1' }, items });
    }
    if (req.method === 'DELETE' && one !== null) {
      const [, namespace, name] = one;
      const found = this.pods.find((p) => p.metadata?.namespace === namespace && p.metadata?.name === name);
      if (found === undefined) {
        return this.json(res, 404, { apiVersion: 'v1', kind: 'Status', status: 'Failure', reason: 'NotFound', code: 404, message: `pods "${name}" not found` });
      }
      req.resume();
      // Deleted at once, as a pod with no grace period; the StatefulSet would recreate it later.
      this.pods = this.pods.filter((p) => p !== found);
      this.deleted.push(name!);
      return this.json(res, 200, { ...found, metadata: { ...found.metadata, deletionTimestamp: new Date().toISOString() } });
    }
    this.json(res, 404, { apiVersion: 'v1', kind: 'Status', status: 'Failure', reason: 'NotFound', code: 404, message: `no route ${req.method} ${url.pathname}` });
  }

  private json(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }
}
