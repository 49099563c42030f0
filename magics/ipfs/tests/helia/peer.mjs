// A Helia peer on loopback speaking Bitswap over libp2p TCP + Noise + Yamux (with Identify and
// Ping), for kelp's tests (tests/bitswap.rs) and bench (bench/fetch.sh). No routing, no DHT:
// peers meet only by address.
//
// MODE=serve (default): Helia adds a file of FILE_MB MiB generated from SEED (data.mjs's bytes, as
// gateway.mjs) and a HAMT-sharded directory of DIR_ENTRIES small files (0: none), listens on
// 127.0.0.1, and prints one JSON line {peer_id, addrs, file_cid, file_sha256, file_size,
// dir_cid, entries, big_cid?}; BIG=1 also holds a 3 MiB raw block. Runs until killed.
// MODE=fetch: dials PEER (a multiaddr), reads CID with @helia/unixfs (a file: its bytes; a
// directory: its entries' names) over Bitswap, prints one JSON line {sha256, size, entries?,
// ms} and exits; a failure prints {error} and exits 1. TIMEOUT_MS bounds the whole fetch.
import { createHeliaLight } from 'helia'
import { withLibp2pLight } from '@helia/libp2p'
import { withBitswap } from '@helia/bitswap'
import { unixfs } from '@helia/unixfs'
import { tcp } from '@libp2p/tcp'
import { noise } from '@libp2p/noise'
import { yamux } from '@libp2p/yamux'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { multiaddr } from '@multiformats/multiaddr'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { createHash } from 'node:crypto'
import { chunks } from './data.mjs'

// Node 20 lacks Promise.withResolvers, which Helia's queues use (Node 22 has it).
Promise.withResolvers ??= function () {
  let resolve, reject
  const promise = new Promise((res, rej) => { resolve = res; reject = rej })
  return { promise, resolve, reject }
}
const env = process.env
const mode = env.MODE ?? 'serve'

const helia = withBitswap(withLibp2pLight(createHeliaLight({ blockBrokers: [], routers: [] }), {
  addresses: { listen: mode === 'serve' ? ['/ip4/127.0.0.1/tcp/0'] : [] },
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  services: { identify: identify(), ping: ping() }
}))
await helia.start()
const fs = unixfs(helia)


if (mode === 'serve') {
  const seed = env.SEED ?? 'kelp'
  const fileSize = Number(env.FILE_MB ?? '64') * 1024 * 1024
  const dirEntries = Number(env.DIR_ENTRIES ?? '1200')
  const h = createHash('sha256')
  for (const c of chunks(seed, fileSize)) h.update(c)
  const out = { file_sha256: h.digest('hex'), file_size: fileSize, entries: dirEntries }
  out.file_cid = (await fs.addByteStream((async function * () { yield * chunks(seed, fileSize) })())).toString()
  if (dirEntries > 0) {
    const files = []
    for (let i = 0; i < dirEntries; i++) {
      files.push({ path: `dir/entry-${String(i).padStart(5, '0')}.txt`, content: new TextEncoder().encode(`entry ${i} of ${seed}\n`) })
    }
    for await (const e of fs.addAll(files, { shardSplitThresholdBytes: 1024, wrapWithDirectory: false })) {
      if (e.path === 'dir') out.dir_cid = e.cid.toString()
    }
  }
  if (env.BIG === '1') {
    const big = Buffer.alloc(3 << 20, 7)
    const bigCid = CID.createV1(raw.code, await sha256.digest(big))
    await helia.blockstore.put(bigCid, big)
    out.big_cid = bigCid.toString()
  }
  out.peer_id = helia.libp2p.peerId.toString()
  out.addrs = helia.libp2p.getMultiaddrs().map(a => a.toString())
  console.log(JSON.stringify(out))
} else {
  const started = Date.now()
  const signal = AbortSignal.timeout(Number(env.TIMEOUT_MS ?? '120000'))
  try {
    await helia.libp2p.dial(multiaddr(env.PEER), { signal })
    const cid = CID.parse(env.CID)
    const st = await fs.stat(cid, { signal })
    const out = {}
    if (st.type === 'directory') {
      const names = []
      for await (const e of fs.ls(cid, { signal })) names.push(e.name)
      out.entries = names.sort()
    } else {
      const h = createHash('sha256')
      let size = 0
      for await (const buf of fs.cat(cid, { signal })) { h.update(buf); size += buf.length }
      out.sha256 = h.digest('hex')
      out.size = size
    }
    out.ms = Date.now() - started
    console.log(JSON.stringify(out))
    await helia.stop()
    process.exit(0)
  } catch (e) {
    console.log(JSON.stringify({ error: String(e) }))
    process.exit(1)
  }
}
