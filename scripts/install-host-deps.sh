#!/usr/bin/env bash
# Installs what the network-namespace host tests (npm run test:hosts) and `npm run demo -- --hosts`
# need: iproute2 (ip netns, veth, bridge) and iptables (link faults). Idempotent; needs root.
set -euo pipefail

missing=()
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
command -v iptables >/dev/null 2>&1 || missing+=(iptables)

if [ "${#missing[@]}" -eq 0 ]; then
  echo "host test dependencies present: $(ip -V), $(iptables --version)"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-host-deps: need root to install ${missing[*]}" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "installed: ${missing[*]}"
