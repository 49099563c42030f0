// The deterministic test data of gateway.mjs and peer.mjs (and tests/helia.rs, tests/bitswap.rs,
// bench/fetch.sh, which regenerate or check it): sha256(`${seed}:${n}`) for n = 0, 1, …,
// concatenated, in chunks of 64 KiB.
import { createHash } from 'node:crypto'

export function * chunks (seed, size) {
  let n = 0
  let left = size
  while (left > 0) {
    const buf = Buffer.alloc(Math.min(left, 1 << 16))
    for (let off = 0; off < buf.length; off += 32) {
      createHash('sha256').update(`${seed}:${n++}`).digest().copy(buf, off)
    }
    left -= buf.length
    yield buf
  }
}
