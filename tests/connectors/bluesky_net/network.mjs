// Starts Bluesky's own local AT Protocol network (PLC, PDS, AppView, bsync, ozone) from @atproto/dev-env on the
// ports it is given (blueskynet.py picks free ones), prints one JSON line {"ready": true, ...} when it serves, and closes it on SIGTERM/SIGINT or when stdin ends
// (the pytest fixture that started it went away).
// Environment: DB_POSTGRES_URL, DB_POSTGRES_SCHEMA (letters and underscores), REDIS_HOST (host:port),
// BSKY_NET_PLC_PORT, BSKY_NET_PDS_PORT, BSKY_NET_APPVIEW_PORT, BSKY_NET_OZONE_PORT.
import { TestNetwork } from '@atproto/dev-env'

const port = (name, fallback) => Number(process.env[name] || fallback)

const network = await TestNetwork.create({
  dbPostgresUrl: process.env.DB_POSTGRES_URL,
  dbPostgresSchema: process.env.DB_POSTGRES_SCHEMA,
  plc: { port: port('BSKY_NET_PLC_PORT', 2582) },
  pds: { port: port('BSKY_NET_PDS_PORT', 2583) },
  bsky: { port: port('BSKY_NET_APPVIEW_PORT', 2584) },
  ozone: { port: port('BSKY_NET_OZONE_PORT', 2587) },
})

console.log(JSON.stringify({
  ready: true,
  plc: network.plc.url,
  pds: network.pds.url,
  appview: network.bsky.url,
  appviewDid: network.bsky.ctx.cfg.serverDid,
}))

let closing = false
const close = async () => {
  if (closing) return
  closing = true
  try {
    await network.close()
  } finally {
    process.exit(0)
  }
}
process.on('SIGTERM', close)
process.on('SIGINT', close)
process.stdin.on('end', close)
process.stdin.resume()
