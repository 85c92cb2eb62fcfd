// The public gRPC API of a replica: start it with startApiServer().
export { startApiServer, type ApiServer } from './server.js';
export type { ApiAuthOptions, ApiLimits, ApiServerOptions } from './options.js';
export { TokenSigner, type TokenClaims } from './tokens.js';
export { ApiError } from './errors.js';
export type { ApiObserver, HandledCall } from './calls.js';
