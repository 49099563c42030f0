// @helia/verified-fetch reading from a trustless gateway (kelp's, in tests/helia.rs): every
// block it gets is verified by Helia against its CID. Env: GATEWAY (base URL), PATHS (JSON list
// of ipfs:// URLs). Prints one JSON line: {url: {status, sha256, size}}.
import { createVerifiedFetch } from '@helia/verified-fetch'
import { createHeliaLight } from 'helia'
import { withHTTP } from '@helia/http'
import { fallbackRouter } from '@helia/fallback-router'
import { createHash } from 'node:crypto'

// Node 20 lacks Promise.withResolvers, which Helia's queues use (Node 22 has it).
Promise.withResolvers ??= function () {
  let resolve, reject
  const promise = new Promise((res, rej) => { resolve = res; reject = rej })
  return { promise, resolve, reject }
}

// HTTP only: no libp2p, no delegated routing; the one gateway is the only source of blocks
// (loopback and plain http must be allowed explicitly). Helia's routing never finishes when
// only "fallback" routers exist, so the gateway comes from a router without that capability.
const helia = withHTTP(createHeliaLight(), {
  delegatedRouters: [],
  recursiveGateways: [],
  allowInsecure: true,
  allowLocal: true
})
const gateway = fallbackRouter({ gateways: [process.env.GATEWAY], shuffle: false })
helia.addRouter({ name: 'kelp-gateway', findProviders: (cid, options) => gateway.findProviders(cid, options) })
await helia.start()
const vf = await createVerifiedFetch(helia)
const out = {}
for (const url of JSON.parse(process.env.PATHS)) {
  const resp = await vf(url, { signal: AbortSignal.timeout(60_000) })
  const body = Buffer.from(await resp.arrayBuffer())
  out[url] = { status: resp.status, sha256: createHash('sha256').update(body).digest('hex'), size: body.length }
}
console.log(JSON.stringify(out))
await vf.stop()
process.exit(0)
