#!/usr/bin/env bash
# Installs Prometheus and promtool from Debian's packages when either is missing: the metrics tests
# (npm run test:metrics) run a real Prometheus against a real cluster and unit-test the alert rules.
set -euo pipefail

if command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-prometheus: prometheus/promtool missing and not root; run: sudo apt-get install prometheus" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# --no-install-recommends keeps node-exporter and friends out; the package does not start a service
# by itself in a container without systemd.
apt-get install -y -q --no-install-recommends prometheus
prometheus --version | head -n 1
promtool --version | head -n 1
