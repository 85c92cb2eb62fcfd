// Server reflection, so grpcurl and friends work with no .proto files at hand. @grpc/reflection wants
// a proto-loader package definition, so the same .proto files are loaded once more, here only.
import { fileURLToPath } from 'node:url';
import type * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { protoPath as healthProtoPath } from 'grpc-health-check';

/** proto/ at the repository root: two levels up from both src/api/ and dist/api/. */
const protoRoot = fileURLToPath(new URL('../../proto/', import.meta.url));

export function addReflection(server: grpc.Server): void {
  const definition = loadSync(['chat/v1/chat.proto', healthProtoPath], {
    includeDirs: [protoRoot],
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  new ReflectionService(definition).addToServer(server);
}
