// Preloaded with `node -r`: the PDS and the PLC server call listen(port) on all interfaces;
// default the host to 127.0.0.1 so the test peers are never reachable from the network.
'use strict'
const net = require('net')

const originalListen = net.Server.prototype.listen

net.Server.prototype.listen = function listenOnLoopback(...args) {
  if (typeof args[0] === 'object' && args[0] !== null && !Array.isArray(args[0])) {
    if (args[0].path === undefined && args[0].host === undefined) {
      args[0] = { ...args[0], host: '127.0.0.1' }
    }
  } else if (typeof args[0] === 'number' || (typeof args[0] === 'string' && /^\d+$/.test(args[0]))) {
    // listen(port[, host][, backlog][, cb]): insert the host when it is missing.
    if (typeof args[1] !== 'string') {
      args.splice(1, 0, '127.0.0.1')
    }
  } else if (args.length === 0 || typeof args[0] === 'function') {
    args.unshift(0, '127.0.0.1')
  }
  return originalListen.apply(this, args)
}
