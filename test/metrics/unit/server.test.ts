// The /metrics HTTP endpoint, over a real loopback socket.
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { createMetrics, parseListenAddress, startMetricsServer, MetricsAddressError, type MetricsServer } from '../../../src/metrics/index.js';
import { parseExposition, sampleValue } from '../support/exposition.js';

function get(port: number, path: string, method = 'GET', agent?: Agent): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('startMetricsServer', () => {
  let server: MetricsServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('serves the metrics in the Prometheus text format on GET /metrics', async () => {
    const metrics = createMetrics({ nodeId: 'n7' });
    metrics.messageSent();
    server = await startMetricsServer('127.0.0.1:0', metrics);
    assert.ok(server.port > 0);
    const res = await get(server.port, '/metrics');
    assert.equal(res.status, 200);
    assert.match(res.type, /^text\/plain; version=0\.0\.4/);
    const families = parseExposition(res.body);
    assert.equal(families.get('raftchat_chat_messages_sent_total')?.type, 'counter');
    assert.equal(sampleValue(families, 'raftchat_chat_messages_sent_total'), 1);
    assert.equal(sampleValue(families, 'raftchat_replica_info', { node_id: 'n7' }), 1);
    assert.ok(families.has('nodejs_eventloop_lag_p99_seconds'));
  });

  it('answers /healthz, refuses other paths with 404 and other methods with 405', async () => {
    server = await startMetricsServer('127.0.0.1:0', createMetrics({ nodeId: 'n0', defaultMetrics: false }));
    assert.deepEqual(await get(server.port, '/healthz').then((r) => [r.status, r.body]), [200, 'ok\n']);
    assert.equal((await get(server.port, '/')).status, 404);
    assert.equal((await get(server.port, '/metrics', 'POST')).status, 405);
    assert.equal((await get(server.port, '/metrics', 'HEAD')).status, 200);
  });

  it('answers 500 with the reason when collecting fails', async () => {
    server = await startMetricsServer('127.0.0.1:0', { contentType: 'text/plain', text: () => Promise.reject(new Error('status unavailable')) });
    const res = await get(server.port, '/metrics');
    assert.equal(res.status, 500);
    assert.match(res.body, /status unavailable/);
  });

  it('closes promptly even while a scraper holds a keep-alive connection, idle or waiting on a scrape', async () => {
    let asked!: () => void;
    const scrapeStarted = new Promise<void>((resolve) => (asked = resolve));
    let scrapes = 0;
    server = await startMetricsServer('127.0.0.1:0', {
      contentType: 'text/plain',
      // The first scrape answers; the second never does (a collection stuck behind a busy replica).
      text: () => {
        scrapes++;
        if (scrapes === 1) return Promise.resolve('up 1\n');
        asked();
        return new Promise<string>(() => undefined);
      },
    });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    assert.equal((await get(server.port, '/metrics', 'GET', agent)).status, 200);
    const stuck = get(server.port, '/metrics', 'GET', agent).then(
      () => assert.fail('the stuck scrape was answered'),
      (err: NodeJS.ErrnoException) => err,
    );
    await scrapeStarted;
    const started = Date.now();
    await server.close();
    server = undefined;
    agent.destroy();
    // Node keeps an idle keep-alive connection for 5 s, and server.close() waits for a request in
    // progress to end: here, never.
    assert.ok(Date.now() - started < 3_000, `close() took ${Date.now() - started} ms`);
    assert.equal((await stuck).code, 'ECONNRESET', 'the scrape in progress is cut off');
  });

  it('fails to start on an address that is taken, instead of serving nothing', async () => {
    server = await startMetricsServer('127.0.0.1:0', createMetrics({ nodeId: 'n0', defaultMetrics: false }));
    await assert.rejects(startMetricsServer(`127.0.0.1:${server.port}`, createMetrics({ nodeId: 'n1', defaultMetrics: false })), /EADDRINUSE/);
  });
});

describe('parseListenAddress', () => {
  it('accepts host:port, [v6]:port and :port (every interface)', () => {
    assert.deepEqual(parseListenAddress('127.0.0.1:9100'), { host: '127.0.0.1', port: 9100 });
    assert.deepEqual(parseListenAddress('[::1]:9100'), { host: '::1', port: 9100 });
    assert.deepEqual(parseListenAddress(':9100'), { host: '0.0.0.0', port: 9100 });
    assert.deepEqual(parseListenAddress('metrics.local:0'), { host: 'metrics.local', port: 0 });
  });

  it('rejects anything else with a stable code', () => {
    for (const bad of ['9100', 'host:', 'host:99999', '::1:9100', 'a:b']) {
      assert.throws(() => parseListenAddress(bad), (err: unknown) => err instanceof MetricsAddressError && err.code === 'METRICS_ADDRESS_INVALID', bad);
    }
  });
});
