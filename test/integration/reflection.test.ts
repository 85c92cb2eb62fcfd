// grpcurl's path through a real replica: reflection lists the services, returns their descriptors,
// and a dynamically built request calls SendMessage. No .proto file of ours is read by the client.

import assert from 'node:assert/strict';
import { TestCluster } from '../support/cluster.js';
import { invoke, listServices } from '../support/reflection-client.js';

describe('a replica seen through server reflection only', function () {
  this.timeout(60_000);
  let cluster: TestCluster;
  before(async () => {
    cluster = await TestCluster.start({ replicas: 3 });
  });
  after(async () => {
    await cluster?.stop();
  });

  it('lists the chat, cluster, health and reflection services', async () => {
    const services = await listServices(cluster.node('n1').clientAddress);
    for (const name of ['chat.v1.ChatService', 'chat.v1.ClusterService', 'grpc.health.v1.Health']) {
      assert.ok(services.includes(name), `${name} missing from ${services.join(', ')}`);
    }
  });

  it('registers, logs in and sends a message with requests built from the served descriptors', async () => {
    const address = cluster.node('n2').clientAddress;
    await invoke(address, 'chat.v1.ChatService/Register', { username: 'zoe', password: 'zoe-password' });
    await invoke(address, 'chat.v1.ChatService/Register', { username: 'yann', password: 'yann-password' });
    const login = await invoke(address, 'chat.v1.ChatService/Login', { username: 'zoe', password: 'zoe-password' });
    assert.equal(typeof login['token'], 'string');
    const sent = await invoke(
      address,
      'chat.v1.ChatService/SendMessage',
      { recipient: 'yann', body: 'sent by a client that read no .proto file', requestId: 'grpcurl-1' },
      { authorization: `Bearer ${login['token'] as string}` },
    );
    const message = sent['message'] as Record<string, unknown>;
    assert.equal(message['sender'], 'zoe');
    assert.equal(message['recipient'], 'yann');
    assert.ok(Number(message['id']) > 0);
    const status = await invoke(address, 'chat.v1.ClusterService/GetStatus', {});
    assert.equal((status['members'] as unknown[]).length, 3);
  });
});
