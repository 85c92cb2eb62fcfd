# The one raftchat image: chatd (the replica), chatctl (the client) and the chaos job.
# Build: podman build -t raftchat . (or docker build). Where no registry is reachable, pass a local
# glibc base holding node 20 and npm: --build-arg BASE_IMAGE=localhost/... (see test/image/).
#
# The base must be glibc, not musl (alpine): classic-level ships prebuilt LevelDB binaries for
# linux-x64/arm64 glibc only, and on alpine npm ci would need a C++ toolchain to build it.
ARG BASE_IMAGE=node:20-bookworm-slim

# --- build: every dependency, the generated protobuf code, and the TypeScript compiled to dist/ ---
FROM ${BASE_IMAGE} AS build
WORKDIR /src
# Manifests first, so the dependency layer is reused until they change.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY proto ./proto
COPY scripts/gen-proto.sh ./scripts/gen-proto.sh
COPY src ./src
# gen-proto.sh regenerates src/gen/ from proto/ with the protoc devDependency, then tsc emits dist/.
RUN npm run build

# --- prod-deps: production dependencies only (no TypeScript, protoc, mocha, ...) ---
FROM ${BASE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
# Type declarations and source maps are half of node_modules (mostly @kubernetes/client-node's) and
# nothing at run time reads them.
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force \
 && find node_modules -type f \( -name '*.map' -o -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' \) -delete

# --- runtime ---
FROM ${BASE_IMAGE} AS runtime
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="raftchat" \
      org.opencontainers.image.description="A replicated, persistent chat service on Raft: chatd, chatctl and the chaos job" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/raftchat/raftchat"

# MALLOC_ARENA_MAX: LevelDB allocates from libuv's worker threads and glibc would give each its own
# arena, rarely returned; two keep a replica's native memory ~15 MiB smaller at the same throughput
# (docs/benchmarks.md; `npm start` sets the same, src/cli/local.ts).
ENV NODE_ENV=production \
    RAFTCHAT_DATA_DIR=/var/lib/raftchat \
    MALLOC_ARENA_MAX=2

# The user is written straight into /etc/passwd rather than with useradd so the same line works on
# minimal bases without shadow-utils; uid/gid 10001 is what the chart's securityContext runs as.
# chatd and chatctl wrappers go on PATH so `kubectl exec ... chatctl status` works.
RUN echo 'raftchat:x:10001:10001:raftchat:/app:/usr/sbin/nologin' >> /etc/passwd \
 && echo 'raftchat:x:10001:' >> /etc/group \
 && mkdir -p /var/lib/raftchat /usr/local/bin \
 && chown 10001:10001 /var/lib/raftchat \
 && printf '#!/bin/sh\nexec node /app/dist/cli/chatd.js "$@"\n' > /usr/local/bin/chatd \
 && printf '#!/bin/sh\nexec node /app/dist/cli/chatctl.js "$@"\n' > /usr/local/bin/chatctl \
 && chmod 0755 /usr/local/bin/chatd /usr/local/bin/chatctl

WORKDIR /app
# package.json carries "type": "module" (dist/ is ES modules); proto/ is read by server reflection.
COPY package.json ./
COPY proto ./proto
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist

USER 10001:10001
# 50051 client gRPC (port name grpc), 50052 peer gRPC (peer), 9102 Prometheus /metrics (metrics).
EXPOSE 50051 50052 9102
VOLUME ["/var/lib/raftchat"]
ENTRYPOINT ["node", "/app/dist/cli/chatd.js"]
# On Kubernetes the chart passes `serve --kubernetes`; bare, the image prints chatd's usage.
CMD ["--help"]
