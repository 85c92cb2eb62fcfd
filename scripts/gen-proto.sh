#!/usr/bin/env bash
# Generates src/gen/ from proto/ with ts-proto (run by `npm run build` and before tests).
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf src/gen && mkdir -p src/gen
npx --no-install protoc \
  --plugin=protoc-gen-ts_proto=node_modules/.bin/protoc-gen-ts_proto \
  --ts_proto_out=src/gen \
  --ts_proto_opt=outputServices=grpc-js,esModuleInterop=true,env=both,importSuffix=.js,useOptionals=none,oneof=unions-value \
  -I proto $(find proto -name '*.proto' | sort)
