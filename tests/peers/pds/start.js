// Start an in-memory PLC directory and the official Bluesky PDS on 127.0.0.1 for tests.
//
//   node -r ./loopback.js start.js
//
// Environment: PDS_INSTALL_DIR (the npm install made by scripts/peers/install-pds.sh),
// PLC_PORT and PDS_PORT (free ports chosen by the caller), PDS_DATA_DIRECTORY, and every other
// PDS_* variable the PDS reads (see tests/peers/pds_harness.py for the set that works).
// Prints one line `PDS_READY plc=<url> pds=<url>` when both answer, and exits 0 on SIGTERM/SIGINT.
'use strict'
const path = require('path')
const { createRequire } = require('module')

const installDir = process.env.PDS_INSTALL_DIR
if (!installDir) {
  console.error('PDS_INSTALL_DIR is not set (run scripts/peers/install-pds.sh)')
  process.exit(2)
}
// Resolve the packages from the cache install, not from the repo checkout.
const requireFromInstall = createRequire(path.join(installDir, 'package.json'))
const { PlcServer, Database } = requireFromInstall('@did-plc/server')
const { PDS, envToCfg, envToSecrets, readEnv } = requireFromInstall('@atproto/pds')

const plcPort = Number(process.env.PLC_PORT)
const pdsPort = Number(process.env.PDS_PORT)

async function main() {
  const plc = PlcServer.create({ db: Database.mock(), port: plcPort })
  await plc.start()
  process.env.PDS_DID_PLC_URL = `http://127.0.0.1:${plcPort}`

  const env = readEnv()
  const pds = await PDS.create(envToCfg(env), envToSecrets(env))
  await pds.start()

  let stopping = false
  const stop = async (signal) => {
    if (stopping) return
    stopping = true
    try {
      await pds.destroy()
      await plc.destroy()
    } catch (err) {
      console.error(`error while stopping on ${signal}:`, err)
      process.exit(1)
    }
    process.exit(0)
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))

  console.log(`PDS_READY plc=http://127.0.0.1:${plcPort} pds=http://127.0.0.1:${pdsPort}`)
}

main().catch((err) => {
  console.error('failed to start the PLC/PDS peers:', err)
  process.exit(1)
})
