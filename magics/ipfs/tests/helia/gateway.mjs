// A trustless gateway made of Helia's own data, for kelp's tests (tests/helia.rs).
// Helia (in-memory, no networking) adds a file of FILE_MB MiB generated from SEED and a
// HAMT-sharded directory of DIR_ENTRIES small files, then serves its blockstore over HTTP on
// 127.0.0.1: GET /ipfs/<cid>?format=raw (or Accept raw) -> the block, format=car -> @helia/car's
// export. Env: SEED, FILE_MB, DIR_ENTRIES, LIE=1 (alter one leaf block of the file), BIG=1 (also
// hold a 3 MiB raw block), MANGLE_CAR=1 (CAR bodies cut short and garbled).
// GET /_stats -> {"raw": n, "car": n} (requests served); the lie is in raw answers and CARs.
// Prints one JSON line: {port, file_cid, file_sha256, file_size, dir_cid, entries, big_cid?}.
import { createHeliaLight } from 'helia'
import { unixfs } from '@helia/unixfs'
import { car } from '@helia/car'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import * as dagPb from '@ipld/dag-pb'
import { createHash } from 'node:crypto'
import http from 'node:http'
import { chunks as seeded } from './data.mjs'

// Node 20 lacks Promise.withResolvers, which Helia's queues use (Node 22 has it).
Promise.withResolvers ??= function () {
  let resolve, reject
  const promise = new Promise((res, rej) => { resolve = res; reject = rej })
  return { promise, resolve, reject }
}
const env = process.env
const seed = env.SEED ?? 'kelp'
const fileMb = Number(env.FILE_MB ?? '64')
const dirEntries = Number(env.DIR_ENTRIES ?? '1200')

const helia = await createHeliaLight({ blockBrokers: [], routers: [] })
const fs = unixfs(helia)

const fileSize = fileMb * 1024 * 1024
const h = createHash('sha256')
for (const c of seeded(seed, fileSize)) h.update(c)
const fileSha = h.digest('hex')
const fileCid = await fs.addByteStream((async function * () { yield * seeded(seed, fileSize) })())

const files = []
for (let i = 0; i < dirEntries; i++) {
  files.push({ path: `dir/entry-${String(i).padStart(5, '0')}.txt`, content: new TextEncoder().encode(`entry ${i} of ${seed}\n`) })
}
let dirCid
for await (const e of fs.addAll(files, { shardSplitThresholdBytes: 1024, wrapWithDirectory: false })) {
  if (e.path === 'dir') dirCid = e.cid
}

async function getBlock (cid) {
  const out = helia.blockstore.get(cid, { offline: true })
  if (out != null && typeof out[Symbol.asyncIterator] === 'function') {
    const parts = []
    for await (const p of out) parts.push(p)
    return Buffer.concat(parts)
  }
  return Buffer.from(await out)
}

// The lie: one leaf of the file, altered.
let lieCid = null
if (env.LIE === '1') {
  let node = dagPb.decode(await getBlock(fileCid))
  while (true) {
    const first = node.Links[0].Hash
    if (first.code === raw.code) { lieCid = first; break }
    const b = dagPb.decode(await getBlock(first))
    if (b.Links.length === 0) { lieCid = first; break }
    node = b
  }
}
let bigCid = null
if (env.BIG === '1') {
  const big = Buffer.alloc(3 << 20, 7)
  bigCid = CID.createV1(raw.code, await sha256.digest(big))
  await helia.blockstore.put(bigCid, big)
}

const stats = { raw: 0, car: 0, raw_paths: [] }
const server = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url, 'http://x')
    if (url.pathname === '/_stats') {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify(stats))
      return
    }
    const m = url.pathname.match(/^\/ipfs\/([^/]+)$/)
    if (m == null) { res.writeHead(404); res.end(); return }
    let cid
    try { cid = CID.parse(m[1]) } catch { res.writeHead(400); res.end('bad cid'); return }
    const accept = req.headers.accept ?? ''
    const format = url.searchParams.get('format') ?? (accept.includes('vnd.ipld.car') ? 'car' : accept.includes('vnd.ipld.raw') ? 'raw' : null)
    if (!(await helia.blockstore.has(cid))) { res.writeHead(404); res.end('not found'); return }
    if (format === 'raw') {
      stats.raw++
      stats.raw_paths.push(m[1])
      let body = await getBlock(cid)
      if (lieCid != null && cid.equals(lieCid)) { body = Buffer.from(body); body[0] ^= 0xff }
      res.writeHead(200, { 'content-type': 'application/vnd.ipld.raw' })
      res.end(body)
    } else if (format === 'car') {
      stats.car++
      res.writeHead(200, { 'content-type': 'application/vnd.ipld.car; version=1' })
      let n = 0
      if (lieCid != null) {
        // The lie inside a CAR: the altered leaf's bytes, found in the whole export.
        const parts = []
        for await (const buf of car(helia).export(cid)) parts.push(buf)
        const all = Buffer.concat(parts)
        const at = all.indexOf(await getBlock(lieCid))
        if (at >= 0) all[at] ^= 0xff
        res.end(all)
        return
      }
      for await (const buf of car(helia).export(cid)) {
        if (env.MANGLE_CAR === '1' && n++ === 2) { res.end(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])); return }
        res.write(buf)
      }
      res.end()
    } else {
      res.writeHead(406); res.end('ask for format=raw or format=car')
    }
  } catch (e) {
    res.writeHead(500); res.end(String(e))
  }
})
server.listen(0, '127.0.0.1', () => {
  const out = { port: server.address().port, file_cid: fileCid.toString(), file_sha256: fileSha, file_size: fileSize, dir_cid: dirCid.toString(), entries: dirEntries }
  if (bigCid != null) out.big_cid = bigCid.toString()
  console.log(JSON.stringify(out))
})
