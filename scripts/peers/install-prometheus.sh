#!/usr/bin/env bash
# Install Prometheus and promtool from Debian's `prometheus` package, for the alert-rule unit
# tests (promtool) and the dashboard test (a real Prometheus scraping a real serve). Idempotent:
# does nothing when both are already on PATH. Debian's package also ships a service unit; on a
# machine without systemd nothing starts, and the tests run their own Prometheus on loopback.
set -euo pipefail

if command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1; then
    echo "install-prometheus: $(prometheus --version 2>&1 | head -n 1)"
    exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "install-prometheus: prometheus is missing and cannot be installed here (needs root + apt-get): its tests will skip" >&2
    exit 1
fi
echo "install-prometheus: installing Debian's prometheus package..."
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
echo "install-prometheus: $(prometheus --version 2>&1 | head -n 1)"
