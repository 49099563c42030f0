// A Helia peer on loopback with the Kademlia DHT (@libp2p/kad-dht, /ipfs/kad/1.0.0, client and
// server mode, loopback addresses kept) beside Bitswap over libp2p TCP + Noise + Yamux, for
// kelp's DHT tests (tests/support/dht_tests.rs). Peers meet through HUB only; content is found
// through the DHT.
//
// MODE=hub: holds nothing, prints {peer_id, addrs} and runs until killed.
// MODE=provide: dials HUB, adds FILE_KB KiB of data.mjs's bytes for SEED, announces the root on
// the DHT, prints {peer_id, addrs, file_cid, file_sha256, file_size} and runs until killed.
// MODE=find: dials HUB, looks up the providers of CID on the DHT, dials the first one that is
// not itself (with WANT, the one of that peer id), reads CID over Bitswap and prints
// {providers, sha256, size} (a failure: {error}, exit 1). TIMEOUT_MS bounds the whole run.
import { createHeliaLight } from 'helia'
import { withLibp2pLight } from '@helia/libp2p'
import { withBitswap } from '@helia/bitswap'
import { unixfs } from '@helia/unixfs'
import { tcp } from '@libp2p/tcp'
import { noise } from '@libp2p/noise'
import { yamux } from '@libp2p/yamux'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { kadDHT, passthroughMapper } from '@libp2p/kad-dht'
import { multiaddr } from '@multiformats/multiaddr'
import { CID } from 'multiformats/cid'
import { createHash } from 'node:crypto'
import { chunks } from './data.mjs'

Promise.withResolvers ??= function () {
  let resolve, reject
  const promise = new Promise((res, rej) => { resolve = res; reject = rej })
  return { promise, resolve, reject }
}
const env = process.env
const mode = env.MODE ?? 'hub'
const signal = AbortSignal.timeout(Number(env.TIMEOUT_MS ?? '60000'))

const helia = withBitswap(withLibp2pLight(createHeliaLight({ blockBrokers: [], routers: [] }), {
  addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  services: {
    identify: identify(),
    ping: ping(),
    dht: kadDHT({ protocol: '/ipfs/kad/1.0.0', clientMode: false, peerInfoMapper: passthroughMapper })
  }
}))
await helia.start()
const fs = unixfs(helia)
const me = helia.libp2p.peerId.toString()
const addrs = () => helia.libp2p.getMultiaddrs().map(a => a.toString())

// Dial the hub and wait until it is in the DHT's routing table.
async function joinHub () {
  await helia.libp2p.dial(multiaddr(env.HUB), { signal })
  while (helia.libp2p.services.dht.routingTable.size === 0) {
    signal.throwIfAborted()
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

try {
  if (mode === 'hub') {
    console.log(JSON.stringify({ peer_id: me, addrs: addrs() }))
  } else if (mode === 'provide') {
    await joinHub()
    const seed = env.SEED ?? 'kelp-dht'
    const size = Number(env.FILE_KB ?? '1024') * 1024
    const h = createHash('sha256')
    for (const c of chunks(seed, size)) h.update(c)
    const cid = await fs.addByteStream((async function * () { yield * chunks(seed, size) })())
    await helia.libp2p.contentRouting.provide(cid, { signal })
    console.log(JSON.stringify({ peer_id: me, addrs: addrs(), file_cid: cid.toString(), file_sha256: h.digest('hex'), file_size: size }))
  } else {
    await joinHub()
    const cid = CID.parse(env.CID)
    const providers = []
    for await (const p of helia.libp2p.contentRouting.findProviders(cid, { signal })) {
      if (p.id.toString() === me || (env.WANT && p.id.toString() !== env.WANT)) continue
      providers.push(p.id.toString())
      await helia.libp2p.dial(p.multiaddrs.length > 0 ? p.multiaddrs : p.id, { signal })
      break
    }
    if (providers.length === 0) throw new Error(`the DHT found no provider of ${cid}`)
    const h = createHash('sha256')
    let size = 0
    for await (const buf of fs.cat(cid, { signal })) { h.update(buf); size += buf.length }
    console.log(JSON.stringify({ providers, sha256: h.digest('hex'), size }))
    await helia.stop()
    process.exit(0)
  }
} catch (e) {
  console.log(JSON.stringify({ error: String(e) }))
  process.exit(1)
}
