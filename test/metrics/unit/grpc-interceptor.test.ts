// The gRPC server interceptor against a real grpc-js server and client over loopback, serving the
// generated ChatService (a few methods of it) so labels are the ones production traffic gets.
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { setTimeout as delay } from 'node:timers/promises';
import { connect, type IncomingHttpHeaders } from 'node:http2';
import { ChatServiceClient, ChatServiceService, RegisterRequest, type ChatServiceServer, type Message } from '../../../src/gen/chat/v1/chat.js';
import { createMetrics, grpcServerMetricsInterceptor, type ReplicaMetrics } from '../../../src/metrics/index.js';
import { parseExposition, sampleValue } from '../support/exposition.js';
import { waitFor } from '../support/wait.js';

const chat = { grpc_service: 'chat.v1.ChatService' };
const unary = (method: string) => ({ ...chat, grpc_type: 'unary', grpc_method: method });
const stream = { ...chat, grpc_type: 'server_stream', grpc_method: 'Subscribe' };

const message = (id: number): Message => ({ id, sender: 'a', recipient: 'b', body: 'hi', sentAtUnixMs: 0, read: false });

/** A promise and its resolve function (Node 20 has no Promise.withResolvers). */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Settles when the 'slow' Register handler has (too late) answered. */
let slowAnswered = deferred();

const handlers: Pick<ChatServiceServer, 'register' | 'subscribe'> = {
  register(call, callback) {
    const { username } = call.request;
    if (username === 'taken') return callback({ code: grpc.status.ALREADY_EXISTS, details: 'username taken' });
    if (username === 'slow') {
      return void delay(300).then(() => {
        callback(null, { username });
        slowAnswered.resolve();
      });
    }
    callback(null, { username });
  },
  subscribe(call) {
    if (call.request.afterId === 999) {
      // Live tail: one message, then nothing until the client goes away.
      call.write(message(1));
      return;
    }
    for (let id = 1; id <= 3; id++) call.write(message(id));
    call.end();
  },
};

describe('grpcServerMetricsInterceptor', () => {
  let metrics: ReplicaMetrics;
  let server: grpc.Server;
  let client: ChatServiceClient;
  let port: number;

  const value = async (name: string, labels: Record<string, string>) => sampleValue(parseExposition(await metrics.text()), name, labels);

  beforeEach(async () => {
    metrics = createMetrics({ nodeId: 'n0', defaultMetrics: false });
    server = new grpc.Server({ interceptors: [grpcServerMetricsInterceptor(metrics)] });
    server.addService(ChatServiceService, handlers);
    port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err === null ? resolve(p) : reject(err))),
    );
    client = new ChatServiceClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  });

  afterEach(async () => {
    client.close();
    await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  });

  const register = (username: string, deadlineMs = 5000) =>
    new Promise<grpc.ServiceError | null>((resolve) =>
      client.register({ username, password: 'secret-password' }, new grpc.Metadata(), { deadline: Date.now() + deadlineMs }, (err) => resolve(err)),
    );

  it('counts a successful unary call as started and handled OK, with its latency and messages', async () => {
    assert.equal(await register('alice'), null);
    assert.equal(await register('bob'), null);
    assert.equal(await value('grpc_server_started_total', unary('Register')), 2);
    assert.equal(await value('grpc_server_handled_total', { ...unary('Register'), grpc_code: 'OK' }), 2);
    assert.equal(await value('grpc_server_handling_seconds_count', unary('Register')), 2);
    assert.equal(await value('grpc_server_msg_received_total', unary('Register')), 2);
    assert.equal(await value('grpc_server_msg_sent_total', unary('Register')), 2);
  });

  it('labels a failed call with the Go name of its status code', async () => {
    assert.equal((await register('taken'))?.code, grpc.status.ALREADY_EXISTS);
    assert.equal(await value('grpc_server_handled_total', { ...unary('Register'), grpc_code: 'AlreadyExists' }), 1);
    const sent = parseExposition(await metrics.text()).get('grpc_server_msg_sent_total')?.samples ?? [];
    assert.deepEqual(sent, [], 'a failure sends no message');
  });

  it('counts a call the server has no handler for as Unimplemented', async () => {
    const err = await new Promise<grpc.ServiceError | null>((resolve) =>
      client.login({ username: 'a', password: 'secret-password' }, (e) => resolve(e)),
    );
    assert.equal(err?.code, grpc.status.UNIMPLEMENTED);
    assert.equal(await value('grpc_server_handled_total', { ...unary('Login'), grpc_code: 'Unimplemented' }), 1);
  });

  it('counts a call whose deadline passed in the server as DeadlineExceeded, once', async () => {
    slowAnswered = deferred();
    // A raw HTTP/2 gRPC request: it carries a deadline but, unlike a grpc-js client, never cancels
    // on its own, so the server's deadline timer is what ends the call.
    const session = connect(`http://127.0.0.1:${port}`);
    try {
      const request = session.request({
        ':method': 'POST',
        ':path': ChatServiceService.register.path,
        'content-type': 'application/grpc',
        te: 'trailers',
        'grpc-timeout': '50m',
      });
      const body = RegisterRequest.encode({ username: 'slow', password: 'secret-password' }).finish();
      const frame = Buffer.alloc(5 + body.length);
      frame.writeUInt32BE(body.length, 1);
      frame.set(body, 5);
      request.end(frame);
      const grpcStatus = await new Promise<string>((resolve, reject) => {
        // A status with no message comes as headers only ("trailers-only"), otherwise as trailers.
        const take = (headers: IncomingHttpHeaders) => headers['grpc-status'] !== undefined && resolve(String(headers['grpc-status']));
        request.on('response', take);
        request.on('trailers', take);
        request.on('error', reject);
        request.resume();
      });
      assert.equal(Number(grpcStatus), grpc.status.DEADLINE_EXCEEDED);
    } finally {
      session.close();
    }
    await waitFor('the deadline to be recorded', async () =>
      (await value('grpc_server_handled_total', { ...unary('Register'), grpc_code: 'DeadlineExceeded' })) === 1 ? true : undefined,
    );
    // The handler's late answer must not count the call a second time.
    await slowAnswered.promise;
    assert.equal(await value('grpc_server_started_total', unary('Register')), 1);
    assert.equal(await value('grpc_server_handling_seconds_count', unary('Register')), 1);
    const handled = parseExposition(await metrics.text()).get('grpc_server_handled_total')?.samples ?? [];
    assert.deepEqual(handled.map((h) => h.labels['grpc_code']), ['DeadlineExceeded']);
  });

  it('types a server stream as server_stream and counts every message it sends', async () => {
    const received: number[] = [];
    await new Promise<void>((resolve, reject) => {
      const call = client.subscribe({ afterId: 0 });
      call.on('data', (m: Message) => received.push(m.id));
      call.on('error', reject);
      call.on('end', resolve);
    });
    assert.deepEqual(received, [1, 2, 3]);
    assert.equal(await value('grpc_server_started_total', stream), 1);
    assert.equal(await value('grpc_server_msg_sent_total', stream), 3);
    assert.equal(await value('grpc_server_handled_total', { ...stream, grpc_code: 'OK' }), 1);
  });

  it('counts a stream the client cancels as Canceled', async () => {
    const call = client.subscribe({ afterId: 999 });
    await new Promise<void>((resolve) => call.once('data', () => resolve()));
    call.on('error', () => undefined);
    call.cancel();
    await waitFor('the cancellation to be recorded', async () =>
      (await value('grpc_server_handled_total', { ...stream, grpc_code: 'Canceled' })) === 1 ? true : undefined,
    );
    assert.equal(await value('grpc_server_handling_seconds_count', stream), 1);
  });

  it('initialize() creates every method and code of a service at zero, so rates exist before traffic', async () => {
    metrics.grpc.initialize(ChatServiceService);
    const families = parseExposition(await metrics.text());
    const handled = families.get('grpc_server_handled_total')?.samples ?? [];
    assert.equal(handled.length, Object.keys(ChatServiceService).length * 17);
    assert.equal(sampleValue(families, 'grpc_server_handled_total', { ...unary('SendMessage'), grpc_code: 'Unavailable' }), 0);
    assert.equal(sampleValue(families, 'grpc_server_started_total', stream), 0);
    assert.equal(sampleValue(families, 'grpc_server_handling_seconds_count', unary('MarkRead')), 0);
  });
});
