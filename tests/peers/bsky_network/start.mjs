// Start the full local Bluesky network of @atproto/dev-env (PLC, PDS, AppView, bsync, Ozone) on
// 127.0.0.1 for tests.
//
//   node -r ./loopback.cjs start.mjs
//
// Environment: BSKY_NETWORK_INSTALL_DIR (the npm install made by
// scripts/peers/install-bsky-network.sh), DB_POSTGRES_URL (a fresh database made by the caller),
// DB_POSTGRES_SCHEMA, REDIS_HOST (host:port). Prints one line `BSKY_NETWORK_READY <json>` with
// the service URLs once everything answers, and exits 0 on SIGTERM/SIGINT.
import path from 'node:path'
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'

const installDir = process.env.BSKY_NETWORK_INSTALL_DIR
if (!installDir) {
  console.error('BSKY_NETWORK_INSTALL_DIR is not set (run scripts/peers/install-bsky-network.sh)')
  process.exit(2)
}
// Resolve the packages from the cache install, not from the repo checkout.
const requireFromInstall = createRequire(path.join(installDir, 'package.json'))
const { TestNetwork } = await import(
  pathToFileURL(requireFromInstall.resolve('@atproto/dev-env')).href
)

// dev-env names its services http://localhost:<port>; the preload binds them to 127.0.0.1, so
// give clients that address (localhost may resolve to ::1 first).
const loopback = (url) => url.replace('://localhost:', '://127.0.0.1:')

async function main() {
  const started = Date.now()
  const network = await TestNetwork.create({
    dbPostgresSchema: process.env.DB_POSTGRES_SCHEMA || 'digipersona',
  })
  let stopping = false
  const stop = async (signal) => {
    if (stopping) return
    stopping = true
    try {
      await network.close()
    } catch (err) {
      console.error(`error while stopping on ${signal}:`, err)
      process.exit(1)
    }
    process.exit(0)
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))

  const urls = {
    pds: loopback(network.pds.url),
    appview: loopback(network.bsky.url),
    plc: loopback(network.plc.url),
    ozone: loopback(network.ozone.url),
    appview_did: network.bsky.ctx.cfg.serverDid,
    pds_did: network.pds.ctx.cfg.service.did,
    started_ms: Date.now() - started,
  }
  console.log(`BSKY_NETWORK_READY ${JSON.stringify(urls)}`)
}

main().catch((err) => {
  console.error('failed to start the Bluesky network:', err)
  process.exit(1)
})
