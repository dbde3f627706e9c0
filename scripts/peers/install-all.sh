#!/usr/bin/env bash
# Install the real test peers this machine can have. Safe to run repeatedly.
set -uo pipefail
cd "$(dirname "$0")/../.."
status=0

# Chromium from Debian for the Playwright browser tests (never `playwright install`).
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian chromium for browser tests..."
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || status=1
  else
    echo "chromium is missing and cannot be installed here (needs root + apt-get): browser tests will skip"
  fi
fi

# wrk (HTTP load generator) from Debian for benchmarks/api_bench.py and its smoke test.
if ! command -v wrk >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian wrk for the API benchmark..."
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null) || status=1
  else
    echo "wrk is missing and cannot be installed here (needs root + apt-get): the API benchmark smoke test will skip"
  fi
fi

# systemd-analyze (Debian's systemd package) to verify the units in deploy/systemd.
if ! command -v systemd-analyze >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian systemd (systemd-analyze) for the unit file tests..."
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends systemd >/dev/null) || status=1
  else
    echo "systemd-analyze is missing and cannot be installed here (needs root + apt-get): unit file tests will skip"
  fi
fi

# Caddy, to validate the reverse-proxy example in deploy/proxy.
if ! command -v caddy >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian caddy for the reverse-proxy example test..."
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends caddy >/dev/null) || status=1
    # Only the binary is wanted: where systemd runs, the package starts a server on :80.
    if [ -d /run/systemd/system ]; then systemctl disable --now caddy >/dev/null 2>&1 || true; fi
  else
    echo "caddy is missing and cannot be installed here (needs root + apt-get): the proxy example test will skip"
  fi
fi

# The official Bluesky PDS (npm), cached outside the checkout.
if [ -f scripts/peers/install-pds.sh ]; then
  bash scripts/peers/install-pds.sh || status=1
fi
# axe-core (npm) for the accessibility browser test, cached outside the checkout.
if [ -f scripts/peers/install-axe.sh ]; then
  bash scripts/peers/install-axe.sh || status=1
fi
# The MCP Inspector (npm, with its own Node 22) for the MCP client tests, cached outside the
# checkout.
if [ -f scripts/peers/install-mcp-inspector.sh ]; then
  bash scripts/peers/install-mcp-inspector.sh || status=1
fi

# The full local Bluesky network with the real AppView (@atproto/dev-env on its own Node 22),
# for the read-back tests (notifications, metrics); cached outside the checkout too.
if [ -f scripts/peers/install-bsky-network.sh ]; then
  bash scripts/peers/install-bsky-network.sh || status=1
fi
# Prometheus and promtool from Debian, for the alert-rule unit tests and the dashboard test.
if [ -f scripts/peers/install-prometheus.sh ]; then
  bash scripts/peers/install-prometheus.sh || status=1
fi
# A real small language model (llama-cpp-python's OpenAI-compatible server + SmolLM2-135M) in
# its own venv, for the local-model tests and the draft-quality benchmark; the built wheel is
# cached, so only the first run compiles.
if [ -f scripts/peers/install-llm.sh ]; then
  bash scripts/peers/install-llm.sh || status=1
fi
exit $status
