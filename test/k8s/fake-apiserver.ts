// A small Kubernetes API server over plain HTTP speaking the real REST and watch wire format that
// @kubernetes/client-node uses: statefulsets (+ /scale), pods and configmaps in namespaces, with
// resourceVersions, a bounded event history (410 Expired beyond it) and Status objects for errors.

import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { KubeConfig } from '@kubernetes/client-node';

export type Resource = 'statefulsets' | 'pods' | 'configmaps';

/** The fields of a Kubernetes object this server reads; the rest is stored as sent. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; uid?: string; labels?: Record<string, string>; [key: string]: unknown };
  spec?: { replicas?: number; [key: string]: unknown };
  [key: string]: unknown;
}

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: KubeObject;
}

interface Recorded extends WatchEvent {
  resource: Resource;
  resourceVersion: number;
}

const kinds: Record<Resource, { kind: string; apiVersion: string; group: string }> = {
  statefulsets: { kind: 'StatefulSet', apiVersion: 'apps/v1', group: 'apps' },
  pods: { kind: 'Pod', apiVersion: 'v1', group: '' },
  configmaps: { kind: 'ConfigMap', apiVersion: 'v1', group: '' },
};

export interface FakeApiServerEvents {
  /** Every stored change, as watchers see it. */
  change: [Resource, WatchEvent];
  /** Every HTTP request (method and path with query), for tests that check what the client did. */
  request: [string, string];
}

export class FakeApiServer {
  readonly events = new EventEmitter<FakeApiServerEvents>();
  /** Each request as `METHOD /path?query`, in order. */
  readonly requests: string[] = [];
  private readonly store = new Map<string, KubeObject>();
  private history: Recorded[] = [];
  private revision = 1;
  /** Watches may resume from any resourceVersion above this one; older gets 410 Expired. */
  private compactedThrough = 0;
  private readonly watches = new Set<ServerResponse>();
  private failuresLeft = 0;

  private constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly historyLimit: number,
  ) {}

  static async start(options: { historyLimit?: number } = {}): Promise<FakeApiServer> {
    let fake: FakeApiServer | undefined;
    const server = createServer((req, res) => void fake!.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    fake = new FakeApiServer(server, `http://127.0.0.1:${port}`, options.historyLimit ?? 10_000);
    return fake;
  }

  /** A client configuration pointing at this server, as a test or a replica would load it. */
  kubeConfig(): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'fake', server: this.url, skipTLSVerify: true }],
      users: [{ name: 'fake' }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'fake' }],
      currentContext: 'fake',
    });
    return kc;
  }

  /** The same configuration as a kubeconfig file's text (JSON is valid YAML), for KUBECONFIG. */
  kubeconfigFile(): string {
    return JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'fake', cluster: { server: this.url, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'fake', user: {} }],
      contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'fake' } }],
      'current-context': 'fake',
    });
  }

  // ---- in-process access (the kubelet harness plays controllers through these) -----------------

  get(resource: Resource, namespace: string, name: string): KubeObject | undefined {
    const obj = this.store.get(key(resource, namespace, name));
    return obj === undefined ? undefined : clone(obj);
  }

  list(resource: Resource, namespace: string): KubeObject[] {
    const prefix = `${resource}/${namespace}/`;
    return [...this.store.entries()].filter(([k]) => k.startsWith(prefix)).map(([, o]) => clone(o));
  }

  create(resource: Resource, namespace: string, obj: KubeObject): KubeObject | ApiStatus {
    const k = key(resource, namespace, obj.metadata.name);
    if (this.store.has(k)) return status(409, 'AlreadyExists', `${resource} "${obj.metadata.name}" already exists`, resource, obj.metadata.name);
    const stored: KubeObject = {
      ...clone(obj),
      apiVersion: kinds[resource].apiVersion,
      kind: kinds[resource].kind,
      metadata: { ...clone(obj.metadata), namespace, uid: randomUUID(), creationTimestamp: new Date().toISOString() },
    };
    return this.record(resource, 'ADDED', k, stored);
  }

  replace(resource: Resource, namespace: string, name: string, obj: KubeObject): KubeObject | ApiStatus {
    const k = key(resource, namespace, name);
    const current = this.store.get(k);
    if (current === undefined) return status(404, 'NotFound', `${resource} "${name}" not found`, resource, name);
    const sent = obj.metadata.resourceVersion;
    if (sent !== undefined && sent !== '' && sent !== current.metadata.resourceVersion) {
      return status(409, 'Conflict', `Operation cannot be fulfilled on ${resource} "${name}": the object has been modified; please apply your changes to the latest version and try again`, resource, name);
    }
    const stored: KubeObject = { ...clone(obj), apiVersion: current.apiVersion, kind: current.kind, metadata: { ...clone(obj.metadata), name, namespace, uid: current.metadata.uid } };
    return this.record(resource, 'MODIFIED', k, stored);
  }

  delete(resource: Resource, namespace: string, name: string): KubeObject | ApiStatus {
    const k = key(resource, namespace, name);
    const current = this.store.get(k);
    if (current === undefined) return status(404, 'NotFound', `${resource} "${name}" not found`, resource, name);
    this.store.delete(k);
    return this.record(resource, 'DELETED', undefined, { ...current, metadata: { ...current.metadata } });
  }

  /** Sets spec.replicas as `kubectl scale` would (without going through HTTP). */
  scale(namespace: string, name: string, replicas: number): void {
    const sts = this.get('statefulsets', namespace, name);
    if (sts === undefined) throw new Error(`no StatefulSet ${name}`);
    this.replace('statefulsets', namespace, name, { ...sts, spec: { ...sts.spec, replicas } });
  }

  /** The next `count` requests fail with 500 InternalError (an API server restarting, say). */
  failNextRequests(count: number): void {
    this.failuresLeft = count;
  }

  /** Ends every open watch, as an API server does at its request timeout; clients re-watch. */
  closeWatches(): void {
    for (const res of this.watches) res.end();
    this.watches.clear();
  }

  /** Forgets the event history: a watch resuming from before now gets 410 Expired and relists. */
  compact(): void {
    this.compactedThrough = this.revision;
    this.history = [];
  }

  async close(): Promise<void> {
    this.closeWatches();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ---- storage and history ----------------------------------------------------------------------

  private record(resource: Resource, type: WatchEvent['type'], k: string | undefined, obj: KubeObject): KubeObject {
    this.revision++;
    obj.metadata.resourceVersion = String(this.revision);
    if (k !== undefined) this.store.set(k, obj);
    const event: Recorded = { resource, type, object: clone(obj), resourceVersion: this.revision };
    this.history.push(event);
    if (this.history.length > this.historyLimit) {
      const dropped = this.history.splice(0, this.history.length - this.historyLimit);
      this.compactedThrough = dropped[dropped.length - 1]!.resourceVersion;
    }
    for (const res of this.watches) (res as WatchingResponse).deliver?.(event);
    this.events.emit('change', resource, { type, object: clone(obj) });
    return clone(obj);
  }

  // ---- HTTP ---------------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    this.requests.push(`${req.method} ${url.pathname}${url.search}`);
    this.events.emit('request', req.method ?? '', `${url.pathname}${url.search}`);
    if (this.failuresLeft > 0) {
      this.failuresLeft--;
      return send(res, status(500, 'InternalError', 'Internal error occurred: the fake API server was told to fail this request'));
    }
    const route = parsePath(url.pathname);
    if (route === undefined) return send(res, status(404, 'NotFound', `the server could not find the requested resource (${url.pathname})`));
    const { resource, namespace, name, subresource } = route;
    const body = await readBody(req);
    try {
      if (subresource === 'scale') return this.handleScale(req.method ?? '', namespace, name!, body, req.headers['content-type'] ?? '', res);
      if (subresource !== undefined) return send(res, status(404, 'NotFound', `subresource ${subresource} is not served here`));
      switch (req.method) {
        case 'GET':
          if (name !== undefined) {
            const obj = this.get(resource, namespace, name);
            return send(res, obj ?? status(404, 'NotFound', `${resource} "${name}" not found`, resource, name));
          }
          if (url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1') return this.watch(resource, namespace, url.searchParams, res);
          return send(res, this.listResponse(resource, namespace, url.searchParams));
        case 'POST': {
          const obj = JSON.parse(body) as KubeObject;
          const created = this.create(resource, namespace, obj);
          return send(res, created, isStatus(created) ? undefined : 201);
        }
        case 'PUT':
          return send(res, this.replace(resource, namespace, name!, JSON.parse(body) as KubeObject));
        case 'PATCH': {
          const current = this.get(resource, namespace, name!);
          if (current === undefined) return send(res, status(404, 'NotFound', `${resource} "${name}" not found`, resource, name));
          const patched = applyPatch(current, body, req.headers['content-type'] ?? '');
          if (isStatus(patched)) return send(res, patched);
          return send(res, this.replace(resource, namespace, name!, { ...patched, metadata: { ...patched.metadata, resourceVersion: '' } }));
        }
        case 'DELETE':
          return send(res, this.delete(resource, namespace, name!));
        default:
          return send(res, status(405, 'MethodNotAllowed', `${req.method} is not supported`));
      }
    } catch (err) {
      return send(res, status(400, 'BadRequest', (err as Error).message));
    }
  }

  private listResponse(resource: Resource, namespace: string, query: URLSearchParams): unknown {
    const matches = selector(query);
    return {
      apiVersion: kinds[resource].apiVersion,
      kind: `${kinds[resource].kind}List`,
      metadata: { resourceVersion: String(this.revision) },
      items: this.list(resource, namespace).filter(matches),
    };
  }

  private watch(resource: Resource, namespace: string, query: URLSearchParams, res: ServerResponse): void {
    const matches = selector(query);
    const from = query.get('resourceVersion') ?? '';
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    const write = (event: WatchEvent | { type: 'ERROR'; object: ApiStatus }) => res.write(`${JSON.stringify(event)}\n`);
    const relevant = (e: Recorded) => e.resource === resource && (e.object.metadata.namespace ?? '') === namespace && matches(e.object);
    if (from === '' || from === '0') {
      // "Most recent": synthetic ADDED events for what exists now, then changes.
      for (const obj of this.list(resource, namespace).filter(matches)) write({ type: 'ADDED', object: obj });
    } else {
      const since = Number(from);
      if (!Number.isInteger(since) || since < this.compactedThrough) {
        write({ type: 'ERROR', object: status(410, 'Expired', `too old resource version: ${from} (${this.compactedThrough})`) });
        res.end();
        return;
      }
      for (const e of this.history) if (e.resourceVersion > since && relevant(e)) write({ type: e.type, object: e.object });
    }
    const watching = res as WatchingResponse;
    watching.deliver = (e) => {
      if (relevant(e)) write({ type: e.type, object: e.object });
    };
    this.watches.add(res);
    const timeoutSeconds = Number(query.get('timeoutSeconds') ?? '0');
    const timer = timeoutSeconds > 0 ? setTimeout(() => res.end(), timeoutSeconds * 1000) : undefined;
    res.on('close', () => {
      clearTimeout(timer);
      this.watches.delete(res);
    });
  }

  private handleScale(method: string, namespace: string, name: string, body: string, contentType: string, res: ServerResponse): void {
    const sts = this.get('statefulsets', namespace, name);
    if (sts === undefined) return send(res, status(404, 'NotFound', `statefulsets.apps "${name}" not found`, 'statefulsets', name));
    const asScale = (s: KubeObject) => ({
      apiVersion: 'autoscaling/v1',
      kind: 'Scale',
      metadata: { name, namespace, resourceVersion: s.metadata.resourceVersion, uid: s.metadata.uid },
      spec: { replicas: s.spec?.replicas ?? 1 },
      status: { replicas: s.spec?.replicas ?? 1 },
    });
    if (method === 'GET') return send(res, asScale(sts));
    let replicas: unknown;
    if (method === 'PUT') replicas = (JSON.parse(body) as { spec?: { replicas?: unknown } }).spec?.replicas;
    else if (method === 'PATCH') {
      const patched = applyPatch(asScale(sts) as unknown as KubeObject, body, contentType);
      if (isStatus(patched)) return send(res, patched);
      replicas = patched.spec?.replicas;
    } else return send(res, status(405, 'MethodNotAllowed', `${method} is not supported on scale`));
    if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
      return send(res, status(422, 'Invalid', `Scale.autoscaling "${name}" is invalid: spec.replicas: must be a non-negative integer`));
    }
    const updated = this.replace('statefulsets', namespace, name, { ...sts, spec: { ...sts.spec, replicas } });
    return send(res, isStatus(updated) ? updated : asScale(updated));
  }
}

interface WatchingResponse extends ServerResponse {
  deliver?: (event: Recorded) => void;
}

export interface ApiStatus {
  apiVersion: 'v1';
  kind: 'Status';
  metadata: Record<string, never>;
  status: 'Failure';
  message: string;
  reason: string;
  code: number;
  details?: { name?: string; kind?: string };
}

function status(code: number, reason: string, message: string, resource?: string, name?: string): ApiStatus {
  return { apiVersion: 'v1', kind: 'Status', metadata: {}, status: 'Failure', message, reason, code, ...(resource !== undefined ? { details: { name, kind: resource } } : {}) };
}

function isStatus(value: unknown): value is ApiStatus {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'Status';
}

function send(res: ServerResponse, body: unknown, code?: number): void {
  const httpCode = code ?? (isStatus(body) ? body.code : 200);
  res.writeHead(httpCode, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

function key(resource: Resource, namespace: string, name: string): string {
  return `${resource}/${namespace}/${name}`;
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

/** /api/v1/namespaces/{ns}/{resource}[/{name}[/{sub}]] and /apis/apps/v1/… */
function parsePath(path: string): { resource: Resource; namespace: string; name?: string; subresource?: string } | undefined {
  const parts = path.split('/').filter((p) => p !== '');
  let rest: string[];
  let group: string;
  if (parts[0] === 'api' && parts[1] === 'v1') {
    group = '';
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts[1] === 'apps' && parts[2] === 'v1') {
    group = 'apps';
    rest = parts.slice(3);
  } else return undefined;
  if (rest[0] !== 'namespaces' || rest.length < 3 || rest.length > 5) return undefined;
  const resource = rest[2] as Resource;
  if (!(resource in kinds) || kinds[resource].group !== group) return undefined;
  return { resource, namespace: rest[1]!, name: rest[3], subresource: rest[4] };
}

/** fieldSelector metadata.name=… and labelSelector k=v,… (the forms this project uses). */
function selector(query: URLSearchParams): (obj: KubeObject) => boolean {
  const fields = parseTerms(query.get('fieldSelector') ?? '');
  const labels = parseTerms(query.get('labelSelector') ?? '');
  return (obj) => {
    for (const [k, v] of fields) {
      if (k === 'metadata.name' && obj.metadata.name !== v) return false;
      if (k === 'metadata.namespace' && obj.metadata.namespace !== v) return false;
    }
    for (const [k, v] of labels) if (obj.metadata.labels?.[k] !== v) return false;
    return true;
  };
}

function parseTerms(text: string): Array<[string, string]> {
  if (text === '') return [];
  return text.split(',').map((term) => {
    const [k, v] = term.split(/==?/);
    return [k!.trim(), (v ?? '').trim()];
  });
}

/** JSON merge patch (RFC 7386); a strategic merge patch of plain fields merges the same way. */
function applyPatch(current: KubeObject, body: string, contentType: string): KubeObject | ApiStatus {
  if (!contentType.includes('merge-patch+json')) {
    return status(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/merge-patch+json, application/strategic-merge-patch+json (got ${contentType})`);
  }
  return mergePatch(current, JSON.parse(body)) as KubeObject;
}

function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const result: Record<string, unknown> = typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete result[k];
    else result[k] = mergePatch(result[k], v);
  }
  return result;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
