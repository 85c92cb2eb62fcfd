#!/usr/bin/env bash
# Installs what the container-image test (npm run test:image) needs: podman and buildah to build the
# Dockerfile, runc to run containers (crun is not used: see test/image/containers.conf). Idempotent; needs root.
set -euo pipefail

missing=()
command -v podman >/dev/null 2>&1 || missing+=(podman)
command -v buildah >/dev/null 2>&1 || missing+=(buildah)
command -v runc >/dev/null 2>&1 || missing+=(runc)

if [ "${#missing[@]}" -eq 0 ]; then
  echo "image test dependencies present: $(podman --version), $(buildah --version | head -n1), $(runc --version | head -n1)"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-image-deps: need root to install ${missing[*]} (or: sudo apt-get install ${missing[*]})" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "installed: ${missing[*]}"
