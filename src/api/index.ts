// The public gRPC API of a replica: start it with startApiServer().
export { startApiServer, type ApiServer } from './server.js';
export { defaultLimits, type ApiAuthOptions, type ApiLimits, type ApiServerOptions } from './options.js';
export { TokenSigner, type TokenClaims } from './tokens.js';
export { ApiError } from './errors.js';
export type { ApiObserver, HandledCall } from './calls.js';
export { limitNames, retryAfterKey, LimitExceededError, type LimitName } from './limits.js';
