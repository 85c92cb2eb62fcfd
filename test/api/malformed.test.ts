// Requests whose bytes are not a valid message for the method get INVALID_ARGUMENT, not grpc-js's
// INTERNAL "Error deserializing request": numbers past 2^53, lengths past the end, wire type 7.
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { startHarness, type Harness } from './helpers/harness.js';

const identity = (bytes: Buffer): Buffer => bytes;

/** Sends `bytes` as the request of unary `path`; resolves with the status it ends with. */
function rawUnary(client: grpc.Client, path: string, bytes: number[]): Promise<grpc.StatusObject | grpc.ServiceError> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(path, identity, identity, Buffer.from(bytes), (err) => resolve(err ?? { code: grpc.status.OK, details: '', metadata: new grpc.Metadata() }));
  });
}

/** uint64 2^64-1 as field 1 (varint): beyond what a JavaScript number holds exactly. */
const hugeVarintField1 = [0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];

describe('API: requests that do not decode', () => {
  let h: Harness;
  let client: grpc.Client;
  before(async () => {
    h = await startHarness();
    client = new grpc.Client(h.address, grpc.credentials.createInsecure());
  });
  after(async () => {
    client.close();
    await h.close();
  });

  const cases: Array<{ what: string; path: string; bytes: number[] }> = [
    { what: 'a length running past the end (Register)', path: '/chat.v1.ChatService/Register', bytes: [0x0a, 0xff] },
    { what: 'wire type 7, which does not exist (GetStatus)', path: '/chat.v1.ClusterService/GetStatus', bytes: [0x0f] },
    // ListMessagesRequest.after_id is field 2 (uint64); MarkReadRequest.ids field 1.
    { what: 'an id beyond 2^53 (ListMessages after_id)', path: '/chat.v1.ChatService/ListMessages', bytes: [0x10, ...hugeVarintField1.slice(1)] },
    { what: 'an id beyond 2^53 (MarkRead ids)', path: '/chat.v1.ChatService/MarkRead', bytes: hugeVarintField1 },
  ];
  for (const c of cases) {
    it(`answers INVALID_ARGUMENT to ${c.what}`, async () => {
      const result = await rawUnary(client, c.path, c.bytes);
      assert.equal(result.code, grpc.status.INVALID_ARGUMENT, `${grpc.status[result.code]}: ${result.details}`);
      assert.match(result.details, /not a valid protobuf message/);
    });
  }

  it('answers INVALID_ARGUMENT on a Subscribe whose request does not decode', async () => {
    const stream = client.makeServerStreamRequest('/chat.v1.ChatService/Subscribe', identity, identity, Buffer.from([0x0a, 0xff]));
    const ended = await new Promise<grpc.ServiceError>((resolve) => stream.on('error', resolve));
    assert.equal(ended.code, grpc.status.INVALID_ARGUMENT, ended.details);
  });
});
