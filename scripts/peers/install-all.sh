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

# The official Bluesky PDS (npm), cached outside the checkout.
if [ -f scripts/peers/install-pds.sh ]; then
  bash scripts/peers/install-pds.sh || status=1
fi
# axe-core (npm) for the accessibility browser test, cached outside the checkout.
if [ -f scripts/peers/install-axe.sh ]; then
  bash scripts/peers/install-axe.sh || status=1
fi

# The full local Bluesky network with the real AppView (@atproto/dev-env on its own Node 22),
# for the read-back tests (notifications, metrics); cached outside the checkout too.
if [ -f scripts/peers/install-bsky-network.sh ]; then
  bash scripts/peers/install-bsky-network.sh || status=1
fi
# A real small language model (llama-cpp-python's OpenAI-compatible server + SmolLM2-135M) in
# its own venv, for the local-model tests and the draft-quality benchmark; the built wheel is
# cached, so only the first run compiles.
if [ -f scripts/peers/install-llm.sh ]; then
  bash scripts/peers/install-llm.sh || status=1
fi
exit $status
