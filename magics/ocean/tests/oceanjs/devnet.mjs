// A kelp devnet for the ocean.js cross-check, and ocean.js pointed at it.
//
// `startDevnet()` runs `kelp devnet up` under a temporary KELP_HOME on a free loopback port
// (anvil + the Ocean v4 contracts from npm + kelp's own Ocean node) and returns what it printed
// plus helpers; `stop()` always runs `kelp devnet down` and then kills whatever devnet.json still
// records, so a failed test leaves no anvil or node behind. `oceanConfig()` is ocean.js's
// ConfigHelper config for chain 8996 with the addresses `kelp devnet up` deployed (its
// address.json, as ADDRESS_FILE) and kelp's node as the Ocean node.
//
// Configuration (environment; defaults suit a clone set up by ./install/setup --test): KELP_BIN (else
// $CARGO_TARGET_DIR/debug/kelp, else ~/.cache/kelp/target/debug/kelp), KELP_ANVIL and
// KELP_OCEAN_ARTIFACTS (else install/.tools/chain/node_modules/…), OCEANJS_MODULES (the folder
// setup.d/47-oceanjs.sh installs into), OCEANJS_VERBOSE=1 (keep ocean.js's console logging).
// Nothing skips: a missing tool fails the test.
import { execFile } from 'node:child_process'
import { createRequire } from 'node:module'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
export const ROOT = path.resolve(here, '../../../..')
const TOOLS = path.join(ROOT, 'install', '.tools')
const OCEANJS = process.env.OCEANJS_MODULES || path.join(TOOLS, 'oceanjs')
if (!existsSync(path.join(OCEANJS, 'node_modules', '@oceanprotocol', 'lib'))) {
  throw new Error(`@oceanprotocol/lib not found under ${OCEANJS}: run ./install/setup --test (setup.d/47-oceanjs.sh)`)
}
const require = createRequire(path.join(OCEANJS, 'package.json'))
/** ocean.js (@oceanprotocol/lib) and the ethers it is built on, from install/.tools/oceanjs. */
export const lib = require('@oceanprotocol/lib')
export const { ethers } = require('ethers')
// ocean.js logs its requests and payloads with console.log (not through its Logger); keep the
// test output to the runner's report unless OCEANJS_VERBOSE=1. Its errors still go to stderr.
lib.LoggerInstance.setLevel(lib.LogLevel.Error)
if (process.env.OCEANJS_VERBOSE !== '1') console.log = () => {}

// anvil's public development keys (well known; `kelp devnet up` funds them with OCEAN).
export const KEYS = {
  2: '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a',
  3: '0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6',
  4: '0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a',
  5: '0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba',
  6: '0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e'
}

export function kelpBin() {
  if (process.env.KELP_BIN) return process.env.KELP_BIN
  const target = process.env.CARGO_TARGET_DIR || path.join(os.homedir(), '.cache', 'kelp', 'target')
  return path.join(target, 'debug', 'kelp')
}

/** A free loopback port (the OS picks one; anvil binds it right after). */
async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
}

/** Run the kelp binary; resolves with stdout (a Buffer), rejects with kelp's stderr. */
export function runKelpRaw(env, args) {
  return new Promise((resolve, reject) => {
    execFile(kelpBin(), args, { env, encoding: 'buffer', timeout: 300_000, maxBuffer: 64 << 20 }, (err, out, errOut) => {
      if (err) reject(new Error(`kelp ${args.join(' ')} failed (${err.code}): ${errOut.toString()}`))
      else resolve(out)
    })
  })
}

export async function startDevnet() {
  const bin = kelpBin()
  if (!existsSync(bin)) throw new Error(`kelp binary not found at ${bin}: run ./install/build or set KELP_BIN`)
  const home = mkdtempSync(path.join(os.tmpdir(), 'kelp-oceanjs-'))
  const chain = path.join(TOOLS, 'chain', 'node_modules')
  const env = { ...process.env, KELP_HOME: home }
  env.KELP_ANVIL ||= path.join(chain, '@foundry-rs', 'anvil-linux-amd64', 'bin', 'anvil')
  env.KELP_OCEAN_ARTIFACTS ||= path.join(chain, '@oceanprotocol', 'contracts')
  for (const v of ['KELP_PRIVATE_KEY', 'KELP_NETWORK', 'KELP_KEYSTORE', 'KELP_RPC_URL', 'KELP_OCEAN_NODE_URL']) delete env[v]
  env.KELP_DEVNET_PORT = String(await freePort())
  const kelp = async (...args) => JSON.parse((await runKelpRaw(env, [...args, '--json'])).toString())
  const stop = async () => {
    try {
      await runKelpRaw(env, ['devnet', 'down']).catch(() => {})
    } finally {
      const state = path.join(home, 'ocean', 'devnet', 'devnet.json')
      if (existsSync(state)) {
        const s = JSON.parse(readFileSync(state, 'utf8'))
        for (const pid of [s.anvil_pid, s.node_pid]) {
          try {
            if (pid) process.kill(pid, 'SIGKILL')
          } catch {}
        }
      }
      rmSync(home, { recursive: true, force: true })
    }
  }
  let up
  try {
    up = await kelp('devnet', 'up')
  } catch (e) {
    await stop()
    throw e
  }
  const provider = new ethers.JsonRpcProvider(up.rpc_url, up.chain_id, { staticNetwork: true, polling: true, pollingInterval: 100, cacheTimeout: -1 })
  const wallet = (n) => new ethers.Wallet(KEYS[n], provider)
  return { home, env, up, kelp, raw: (...a) => runKelpRaw(env, a), stop, provider, wallet, node: up.node_url }
}

/** ocean.js's config for the devnet: ConfigHelper's "development" (chain 8996) network with the
 * addresses kelp deployed and kelp's node as the Ocean node. */
export function oceanConfig(devnet) {
  process.env.ADDRESS_FILE = devnet.up.address_file
  const config = new lib.ConfigHelper().getConfig(devnet.up.chain_id)
  config.nodeUri = devnet.up.rpc_url
  config.oceanNodeUri = devnet.node
  return config
}
