// What grpcurl does, with nothing but server reflection: list services, fetch their descriptors,
// and call a method with a JSON request. No .proto file of ours is read.

import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import descriptor from 'protobufjs/ext/descriptor/index.js';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import * as protoLoader from '@grpc/proto-loader';

/** Like grpcurl, one connection per invocation: not shared with (or closed under) other clients. */
const ownChannel = { 'grpc.use_local_subchannel_pool': 1 };

interface ReflectionResponse {
  listServicesResponse?: { service: Array<{ name: string }> };
  fileDescriptorResponse?: { fileDescriptorProto: Buffer[] };
  errorResponse?: { errorCode: number; errorMessage: string };
}

type ReflectionStream = grpc.ClientDuplexStream<Record<string, unknown>, ReflectionResponse>;

/** The reflection protocol's own definition ships inside @grpc/reflection. */
function reflectionClient(address: string): grpc.Client & { ServerReflectionInfo(): ReflectionStream } {
  const require = createRequire(import.meta.url);
  const pkgDir = dirname(require.resolve('@grpc/reflection/package.json'));
  const protoPath = join(pkgDir, 'build/proto/grpc/reflection/v1/reflection.proto');
  const def = protoLoader.loadSync(protoPath, { keepCase: false, longs: String, defaults: true, oneofs: true });
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    grpc: { reflection: { v1: { ServerReflection: grpc.ServiceClientConstructor } } };
  };
  const Ctor = pkg.grpc.reflection.v1.ServerReflection;
  return new Ctor(address, grpc.credentials.createInsecure(), ownChannel) as unknown as grpc.Client & { ServerReflectionInfo(): ReflectionStream };
}

function ask(address: string, request: Record<string, unknown>): Promise<ReflectionResponse> {
  const client = reflectionClient(address);
  return new Promise((resolve, reject) => {
    const stream = client.ServerReflectionInfo();
    stream.once('data', (res: ReflectionResponse) => {
      stream.end();
      client.close();
      if (res.errorResponse) reject(new Error(`reflection: ${res.errorResponse.errorMessage}`));
      else resolve(res);
    });
    stream.once('error', (err) => {
      client.close();
      reject(err);
    });
    stream.write(request);
  });
}

export async function listServices(address: string): Promise<string[]> {
  const res = await ask(address, { listServices: '' });
  return (res.listServicesResponse?.service ?? []).map((s) => s.name).sort();
}

/** Builds a protobufjs Root from the descriptors the server returns for `symbol`. */
export async function describe(address: string, symbol: string): Promise<protobuf.Root> {
  const res = await ask(address, { fileContainingSymbol: symbol });
  const files = (res.fileDescriptorResponse?.fileDescriptorProto ?? []).map((bytes) =>
    descriptor.FileDescriptorProto.decode(bytes),
  );
  const set = descriptor.FileDescriptorSet.fromObject({ file: files.map((f) => descriptor.FileDescriptorProto.toObject(f)) });
  return (protobuf.Root as unknown as { fromDescriptor(set: unknown): protobuf.Root }).fromDescriptor(set);
}

/** `grpcurl -d '<json>' address service/method`, for unary methods. */
export async function invoke(
  address: string,
  fullMethod: string,
  requestJson: Record<string, unknown>,
  metadata: Record<string, string> = {},
): Promise<Record<string, unknown>> {
  const slash = fullMethod.lastIndexOf('/');
  const serviceName = fullMethod.slice(0, slash);
  const methodName = fullMethod.slice(slash + 1);
  const root = await describe(address, serviceName);
  const service = root.lookupService(serviceName);
  const method = service.methods[methodName];
  if (method === undefined) throw new Error(`${serviceName} has no method ${methodName}`);
  const requestType = root.lookupType(method.requestType);
  const responseType = root.lookupType(method.responseType);
  const problem = requestType.verify(requestJson);
  if (problem !== null) throw new Error(`bad request: ${problem}`);
  const client = new grpc.Client(address, grpc.credentials.createInsecure(), ownChannel);
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(metadata)) md.set(k, v);
  try {
    return await new Promise((resolve, reject) => {
      client.makeUnaryRequest(
        `/${serviceName}/${methodName}`,
        (value: Record<string, unknown>) => Buffer.from(requestType.encode(requestType.fromObject(value)).finish()),
        (bytes: Buffer) => responseType.toObject(responseType.decode(bytes), { longs: String, defaults: true }),
        requestJson,
        md,
        { deadline: Date.now() + 10_000 },
        (err, value) => (err ? reject(err) : resolve(value as Record<string, unknown>)),
      );
    });
  } finally {
    client.close();
  }
}
