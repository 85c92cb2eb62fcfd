// grpc.health.v1 follows the replica's catch-up state, and server reflection lists every service, so
// probes and grpcurl work with no .proto files at hand. The clients here are built from .proto files at
// run time, as a generic tool's would be.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { startHarness, waitFor, type Harness } from './helpers/harness.js';

/** A service constructor from a .proto loaded at run time. */
function serviceConstructor(file: string, includeDirs: string[], name: string): grpc.ServiceClientConstructor {
  const definition = loadSync(file, { includeDirs, keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
  const found = definition[name];
  assert.ok(found !== undefined && 'format' in found === false, `${name} in ${file}`);
  return grpc.makeGenericClientConstructor(found as grpc.ServiceDefinition, name);
}

function unary<Res>(client: grpc.Client, method: grpc.MethodDefinition<object, Res>, request: object): Promise<Res> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(method.path, method.requestSerialize, method.responseDeserialize, request, (err, res) => {
      if (err !== null) reject(err);
      else if (res === undefined) reject(new Error('no response'));
      else resolve(res);
    });
  });
}

describe('grpc.health.v1', function () {
  let h: Harness;
  let client: grpc.Client;
  let check: grpc.MethodDefinition<object, { status: string }>;
  before(async () => {
    h = await startHarness();
    const Health = serviceConstructor(healthProtoPath, [], 'grpc.health.v1.Health');
    check = Health.service['Check'] as grpc.MethodDefinition<object, { status: string }>;
    client = new Health(h.address, grpc.credentials.createInsecure());
  });
  after(async () => {
    client.close();
    await h.close();
  });

  const statusOf = async (service: string) => (await unary(client, check, { service })).status;

  it('reports SERVING for the server and ChatService while the replica is caught up', async () => {
    assert.equal(await statusOf(''), 'SERVING');
    assert.equal(await statusOf('chat.v1.ChatService'), 'SERVING');
  });

  it('reports NOT_SERVING while the replica is behind, and SERVING again once it has caught up', async () => {
    h.replica.caughtUp = false;
    await waitFor(async () => (await statusOf('')) === 'NOT_SERVING', 5_000, 'NOT_SERVING');
    assert.equal(await statusOf('chat.v1.ChatService'), 'NOT_SERVING');
    h.replica.caughtUp = true;
    await waitFor(async () => (await statusOf('chat.v1.ChatService')) === 'SERVING', 5_000, 'SERVING again');
  });

  it('reports NOT_SERVING for good once the replica has failed', async () => {
    h.replica.events.emit('fatal', new Error('disk gone'));
    assert.equal(await statusOf(''), 'NOT_SERVING');
  });
});

describe('server reflection', function () {
  let h: Harness;
  let client: grpc.Client;
  let info: grpc.MethodDefinition<object, ReflectionResponse>;
  before(async () => {
    h = await startHarness();
    const reflectionRoot = join(dirname(createRequire(import.meta.url).resolve('@grpc/reflection')), '..', 'proto');
    const Reflection = serviceConstructor('grpc/reflection/v1alpha/reflection.proto', [reflectionRoot], 'grpc.reflection.v1alpha.ServerReflection');
    info = Reflection.service['ServerReflectionInfo'] as grpc.MethodDefinition<object, ReflectionResponse>;
    client = new Reflection(h.address, grpc.credentials.createInsecure());
  });
  after(async () => {
    client.close();
    await h.close();
  });

  interface ReflectionResponse {
    list_services_response?: { service: Array<{ name: string }> };
    file_descriptor_response?: { file_descriptor_proto: Buffer[] };
    error_response?: { error_message: string };
  }

  function ask(request: object): Promise<ReflectionResponse> {
    return new Promise((resolve, reject) => {
      const stream = client.makeBidiStreamRequest(info.path, info.requestSerialize, info.responseDeserialize);
      stream.on('data', (res: ReflectionResponse) => {
        resolve(res);
        stream.end();
      });
      stream.on('error', reject);
      stream.write(request);
    });
  }

  it('lists ChatService, ClusterService and grpc.health.v1.Health', async () => {
    const res = await ask({ list_services: '' });
    const names = res.list_services_response?.service.map((s) => s.name) ?? [];
    for (const name of ['chat.v1.ChatService', 'chat.v1.ClusterService', 'grpc.health.v1.Health']) assert.ok(names.includes(name), `${name} in ${names.join(', ')}`);
  });

  it('serves the file descriptor that defines ChatService', async () => {
    const res = await ask({ file_containing_symbol: 'chat.v1.ChatService' });
    const files = res.file_descriptor_response?.file_descriptor_proto ?? [];
    // @grpc/reflection names files by package (chat_v1.proto); the package and the methods are what count.
    assert.ok(files.some((f) => Buffer.from(f).includes('chat.v1')), 'a descriptor of package chat.v1');
    assert.ok(files.some((f) => Buffer.from(f).includes('SendMessage')), 'the SendMessage method in the descriptor');
  });
});
