// The metrics HTTP endpoint: GET /metrics (Prometheus text format), GET /healthz, and the HTTP
// probes GET /livez and /readyz (for kubelets that cannot speak gRPC health over TLS), on a port of
// its own so scraping never competes with the gRPC API and can be exposed separately.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the endpoint serves: ReplicaMetrics fits. */
export interface MetricsText {
  text(): Promise<string>;
  readonly contentType: string;
}

/** The probes' answers; without them /livez and /readyz always say ok. */
export interface ProbeChecks {
  /** The process is healthy (the gRPC `liveness` service). */
  live(): boolean;
  /** Caught up with the leader and serving (the gRPC "" service). */
  ready(): boolean;
}

export interface MetricsServer {
  /** The port listened on (useful with port 0). */
  readonly port: number;
  close(): Promise<void>;
}

export class MetricsAddressError extends Error {
  readonly code = 'METRICS_ADDRESS_INVALID';
  constructor(address: string) {
    super(`metrics address "${address}" is not host:port (e.g. 0.0.0.0:9090, [::1]:9090, :9090)`);
    this.name = 'MetricsAddressError';
  }
}

/** Parses `host:port`, `[v6]:port` or `:port` (all interfaces). */
export function parseListenAddress(address: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(address.trim());
  const port = match === null ? NaN : Number(match[3]);
  if (match === null || port > 65535) throw new MetricsAddressError(address);
  return { host: match[1] ?? (match[2] === '' ? '0.0.0.0' : (match[2] ?? '0.0.0.0')), port };
}

/** Listens on `address` (`host:port`; port 0 picks a free one) and resolves once listening. */
export async function startMetricsServer(address: string, metrics: MetricsText, probes?: ProbeChecks): Promise<MetricsServer> {
  const { host, port } = parseListenAddress(address);
  const server = createServer((req, res) => void handle(req, res, metrics, probes));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        // Prometheus keeps its scrape connection alive; without this close() would wait for it.
        server.closeAllConnections();
        server.close((err) => (err === undefined ? resolve() : reject(err)));
      }),
  };
}

const probePaths = new Set(['/healthz', '/livez', '/readyz']);

async function handle(req: IncomingMessage, res: ServerResponse, metrics: MetricsText, probes: ProbeChecks | undefined): Promise<void> {
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  if (path !== '/metrics' && !probePaths.has(path)) return reply(res, 404, 'text/plain; charset=utf-8', 'not found: try /metrics\n');
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    return reply(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
  }
  if (probePaths.has(path)) {
    const ok = path === '/readyz' ? (probes?.ready() ?? true) : path === '/livez' ? (probes?.live() ?? true) : true;
    return reply(res, ok ? 200 : 503, 'text/plain; charset=utf-8', ok ? 'ok\n' : 'not ok\n', req.method === 'HEAD');
  }
  try {
    const body = await metrics.text();
    reply(res, 200, metrics.contentType, body, req.method === 'HEAD');
  } catch (err) {
    reply(res, 500, 'text/plain; charset=utf-8', `collecting metrics failed: ${(err as Error).message}\n`);
  }
}

function reply(res: ServerResponse, statusCode: number, contentType: string, body: string, headOnly = false): void {
  res.writeHead(statusCode, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
  res.end(headOnly ? undefined : body);
}
