// Test harness for the browser test: a real anvil, a real JupyterLab (from .venv, loopback, random
// port, token auth) with kelp_labextension, Debian chromium through playwright-core, and an injected
// EIP-1193 test wallet (announced via EIP-6963) whose key lives only in that injected script.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const TOOLS = process.env.KELP_TOOLS || path.join(ROOT, 'install', '.tools');
const VENV = process.env.KELP_VENV || path.join(ROOT, '.venv');
export const ANVIL = path.join(TOOLS, 'chain/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil');
const OCEAN_ARTIFACTS = path.join(TOOLS, 'chain/node_modules/@oceanprotocol/contracts');
// The kelp binary ./install/build makes (its kernelspec in .venv runs this same file).
export const KELP_BIN = process.env.KELP_BIN
  || path.join(process.env.CARGO_TARGET_DIR || path.join(os.homedir(), '.cache', 'kelp', 'target'), 'debug', 'kelp');
export const CHROMIUM = process.env.KELP_CHROMIUM || '/usr/bin/chromium';
const browserTools = createRequire(path.join(TOOLS, 'browser', 'package.json'));
export const { chromium } = browserTools('playwright-core');
export const ethers = browserTools('ethers');
const ETHERS_UMD = path.join(path.dirname(browserTools.resolve('ethers')), '..', 'dist', 'ethers.umd.min.js');

// anvil's well-known dev accounts #0 (the test wallet) and #1 (a recipient).
export const KEY0 = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';
export const ACCOUNT0 = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266';
export const ACCOUNT1 = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';

export function need(file, what) {
  if (!fs.existsSync(file)) {
    throw new Error(`${what} not found at ${file}: run ./install/setup --test (it installs the test bench too)`);
  }
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export async function until(what, ms, probe) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await new Promise(r => setTimeout(r, 200));
  }
  throw new Error(`${what} not ready after ${ms} ms${last ? ': ' + last.message : ''}`);
}

function start(cmd, args, opts, logFile) {
  const log = fs.openSync(logFile, 'w');
  const child = spawn(cmd, args, { ...opts, stdio: ['ignore', log, log], detached: false });
  child.logFile = logFile;
  return child;
}

export async function rpc(url, method, params = []) {
  const resp = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params })
  });
  const body = await resp.json();
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}

/** The receipt of `hash`, polled briefly: anvil mines right after answering the send, not before. */
export async function receiptOf(url, hash, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const receipt = await rpc(url, 'eth_getTransactionReceipt', [hash]);
    if (receipt || Date.now() > deadline) return receipt;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A free loopback port in an unusual range (below the ephemeral ports, away from 8545/8888). */
export async function unusualPort() {
  for (let port = 28_103; port < 28_700; port += 13) {
    const free = await new Promise(resolve => {
      const srv = net.createServer();
      srv.unref();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no free port in 28103..28700');
}

export function runKelp(env, args, timeoutMs = 300000) {
  return new Promise((resolve, reject) => {
    const child = spawn(KELP_BIN, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    child.stdout.on('data', d => { out += d; });
    child.stderr.on('data', d => { err += d; });
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('exit', code => {
      clearTimeout(t);
      if (code === 0) resolve(out);
      else reject(new Error(`kelp ${args.join(' ')} failed (${code}): ${err.trim().split('\n').pop()}`));
    });
  });
}

/**
 * A real kelp devnet (`kelp devnet up`: anvil + the Ocean contracts + the local node) under its own
 * KELP_HOME on an unusual port. `env` is what a kelp kernel needs to use this same devnet.
 */
export async function startDevnet(workDir) {
  need(KELP_BIN, 'the kelp binary (./install/build makes it)');
  need(ANVIL, 'anvil');
  const home = path.join(workDir, 'kelp-home');
  fs.mkdirSync(home, { recursive: true });
  const env = { ...process.env, KELP_HOME: home, KELP_DEVNET_PORT: String(await unusualPort()),
    KELP_ANVIL: ANVIL, KELP_OCEAN_ARTIFACTS: OCEAN_ARTIFACTS };
  for (const v of ['KELP_PRIVATE_KEY', 'KELP_NETWORK', 'KELP_KEYSTORE', 'KELP_RPC_URL', 'KELP_RELAY_URL', 'KELP_RELAY_SECRET']) {
    delete env[v];
  }
  const devnet = { home, env };
  try {
    devnet.up = JSON.parse(await runKelp(env, ['devnet', 'up', '--json']));
  } catch (err) {
    await stopDevnet(devnet);
    throw err;
  }
  devnet.url = devnet.up.rpc_url;
  return devnet;
}

/** `kelp devnet down`, then kill whatever devnet.json still records (a failed `down`). */
export async function stopDevnet(devnet) {
  if (!devnet) return;
  try {
    await runKelp(devnet.env, ['devnet', 'down', '--no-save', '--json'], 60000);
  } catch (err) {
    console.error(String(err));
  }
  const state = path.join(devnet.home, 'ocean', 'devnet', 'devnet.json');
  if (fs.existsSync(state)) {
    const s = JSON.parse(fs.readFileSync(state, 'utf8'));
    for (const pid of [s.anvil_pid, s.node_pid]) {
      try {
        if (pid) process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

/** How many data NFTs the devnet's ERC721Factory has created (getCurrentNFTCount()). */
export async function devnetNftCount(devnet) {
  const file = path.join(devnet.home, 'ocean', 'address.json');
  const factory = JSON.parse(fs.readFileSync(file, 'utf8')).development.ERC721Factory;
  const data = ethers.id('getCurrentNFTCount()').slice(0, 10);
  return BigInt(await rpc(devnet.url, 'eth_call', [{ to: factory, data }, 'latest']));
}

export async function startAnvil(workDir) {
  need(ANVIL, 'anvil');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc = start(ANVIL, ['--host', '127.0.0.1', '--port', String(port)], {}, path.join(workDir, 'anvil.log'));
  await until('anvil', 15000, () => rpc(url, 'eth_chainId'));
  return { proc, url };
}

/**
 * A real JupyterLab from .venv. `opts.env`: extra environment (kernels inherit it, e.g. a devnet's
 * KELP_HOME); `opts.settings`: kelp-labextension user settings.
 */
export async function startLab(workDir, opts = {}) {
  const port = await freePort();
  const token = randomBytes(24).toString('hex');
  const dirs = {};
  for (const d of ['config', 'data', 'runtime', 'root']) {
    dirs[d] = path.join(workDir, d);
    fs.mkdirSync(dirs[d], { recursive: true });
  }
  const env = {
    ...process.env,
    ...(opts.env || {}),
    JUPYTER_CONFIG_DIR: dirs.config,
    JUPYTER_DATA_DIR: dirs.data,
    JUPYTER_RUNTIME_DIR: dirs.runtime,
    JUPYTER_PLATFORM_DIRS: '1'
  };
  // No "get notified about Jupyter news?" toast over the screenshots.
  const notif = path.join(dirs.config, 'lab', 'user-settings', '@jupyterlab', 'apputils-extension');
  fs.mkdirSync(notif, { recursive: true });
  fs.writeFileSync(path.join(notif, 'notification.jupyterlab-settings'), JSON.stringify({ fetchNews: 'false' }));
  if (opts.settings) {
    const kelpSettings = path.join(dirs.config, 'lab', 'user-settings', 'kelp-labextension');
    fs.mkdirSync(kelpSettings, { recursive: true });
    fs.writeFileSync(path.join(kelpSettings, 'plugin.jupyterlab-settings'), JSON.stringify(opts.settings));
  }
  delete env.KELP_RELAY_URL;
  delete env.KELP_RELAY_SECRET;
  const args = [
    'lab', '--no-browser', '--ServerApp.ip=127.0.0.1', `--ServerApp.port=${port}`, '--ServerApp.port_retries=0',
    `--IdentityProvider.token=${token}`, `--ServerApp.root_dir=${dirs.root}`, '--LabApp.news_url=None',
    '--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate', '--ServerApp.log_level=DEBUG'
  ];
  if (process.getuid && process.getuid() === 0) args.push('--allow-root');
  const proc = start(path.join(VENV, 'bin', 'jupyter'), args, { env }, path.join(workDir, 'lab.log'));
  const url = `http://127.0.0.1:${port}`;
  const relayFile = path.join(dirs.runtime, `kelp-relay-${proc.pid}.json`);
  await until('JupyterLab', 120000, async () => {
    if (proc.exitCode !== null) throw new Error(`jupyter lab exited (${proc.exitCode}); see ${proc.logFile}`);
    const r = await fetch(`${url}/api/status`, { headers: { Authorization: `token ${token}` } });
    return r.ok;
  });
  // The relay's kernel face: a test stands in for a kernel, so it reads what a kernel would inherit.
  const relay = await until('kelp relay file', 10000, () => fs.existsSync(relayFile) && JSON.parse(fs.readFileSync(relayFile)));
  return { proc, url, token, relay, relayFile };
}

export function stop(proc) {
  if (proc && proc.exitCode === null) {
    proc.kill('SIGTERM');
    return new Promise(resolve => {
      const t = setTimeout(() => { proc.kill('SIGKILL'); resolve(); }, 8000);
      proc.on('exit', () => { clearTimeout(t); resolve(); });
    });
  }
  return Promise.resolve();
}

/** A kernel-face client (what the Rust BrowserSigner will do), recording every response body. */
export function kernelFace(relay, seen) {
  return async (method, p, body) => {
    const resp = await fetch(relay.url + p, {
      method,
      headers: { 'X-Kelp-Relay-Secret': relay.secret, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body)
    });
    const text = await resp.text();
    seen.push(text);
    return { status: resp.status, body: text ? JSON.parse(text) : null };
  };
}

// Runs in the page: an EIP-1193 wallet backed by ethers.Wallet, announced through EIP-6963. Like
// MetaMask it knows a set of chains (`chains`: chain id → RPC URL), starts on `chainId`, adds a chain
// only after checking that its RPC answers with that chain id, and switches only to a known chain
// (4902 otherwise). What it was asked to add/switch is recorded in window.__kelpTestWallet.
function testWallet({ key, chains, chainId }) {
  const hex = id => '0x' + BigInt(id).toString(16);
  let current = hex(chainId);
  const known = { [current]: null }; // the chain it starts on is known (without an RPC unless given)
  for (const [id, url] of Object.entries(chains)) known[hex(id)] = url;
  const nets = {};
  const handlers = {};
  const record = (window.__kelpTestWallet = { added: [], switched: [] });
  const rpcError = (code, message) => Object.assign(new Error(message), { code });
  // (no response cache: ethers reuses an eth_getTransactionCount answer for 250 ms by default, so two
  // transactions approved in quick succession would get the same nonce)
  const net = () => {
    if (!known[current]) throw rpcError(4901, `the test wallet has no RPC for chain ${current}`);
    return (nets[current] = nets[current] || new ethers.JsonRpcProvider(known[current], undefined, { batchMaxCount: 1, cacheTimeout: -1 }));
  };
  const signer = () => new ethers.Wallet(key, net());
  const address = new ethers.Wallet(key).address;
  const emit = (event, value) => (handlers[event] || []).forEach(fn => fn(value));
  const provider = {
    async request({ method, params = [] }) {
      switch (method) {
        case 'eth_requestAccounts':
        case 'eth_accounts':
          return [address];
        case 'eth_chainId':
          return current;
        case 'wallet_addEthereumChain': {
          const p = params[0];
          const id = hex(p.chainId);
          const resp = await fetch(p.rpcUrls[0], {
            method: 'POST', headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] })
          }).then(r => r.json(), () => null);
          if (!resp || hex(resp.result) !== id) {
            throw rpcError(-32603, `the RPC ${p.rpcUrls[0]} does not serve chain ${id}`);
          }
          record.added.push(p);
          known[id] = p.rpcUrls[0];
          return null;
        }
        case 'wallet_switchEthereumChain': {
          const id = hex(params[0].chainId);
          if (!(id in known)) throw rpcError(4902, 'Unrecognized chain ID');
          record.switched.push(id);
          if (id !== current) {
            current = id;
            emit('chainChanged', current);
          }
          return null;
        }
        case 'eth_sendTransaction': {
          const tx = params[0];
          if (tx.from && tx.from.toLowerCase() !== address.toLowerCase()) {
            throw rpcError(4100, 'from is not this wallet\'s account');
          }
          if (tx.chainId && hex(tx.chainId) !== current) {
            throw rpcError(-32602, `the transaction is for chain ${hex(tx.chainId)}, the wallet is on ${current}`);
          }
          const sent = await signer().sendTransaction({ to: tx.to, data: tx.data, value: tx.value, gasLimit: tx.gas });
          return sent.hash;
        }
        case 'personal_sign':
          // Stands in for the person pressing "Reject" inside the wallet's own window.
          // (the message may be any bytes, e.g. a hash: decode leniently)
          if (ethers.toUtf8String(params[0], ethers.Utf8ErrorFuncs.replace).includes('[refuse in wallet]')) {
            throw rpcError(4001, 'User rejected the request.');
          }
          return new ethers.Wallet(key).signMessage(ethers.getBytes(params[0]));
        case 'eth_signTypedData_v4': {
          const d = typeof params[1] === 'string' ? JSON.parse(params[1]) : params[1];
          const types = { ...d.types };
          delete types.EIP712Domain;
          return new ethers.Wallet(key).signTypedData(d.domain, types, d.message);
        }
        default:
          return net().send(method, params);
      }
    },
    on(event, fn) {
      (handlers[event] = handlers[event] || []).push(fn);
    },
    removeListener() {}
  };
  const info = Object.freeze({
    uuid: '6f0c5a3e-7d2b-4c51-9a1e-0c0ffee0b0a7',
    name: 'kelp test wallet',
    icon: 'data:image/svg+xml,%3Csvg xmlns="http://www.w3.org/2000/svg"/%3E',
    rdns: 'org.kelp.testwallet'
  });
  const announce = () =>
    window.dispatchEvent(new CustomEvent('eip6963:announceProvider', { detail: Object.freeze({ info, provider }) }));
  window.addEventListener('eip6963:requestProvider', announce);
  announce();
}

export async function launchBrowser() {
  need(CHROMIUM, 'Debian chromium');
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync']
  });
}

/**
 * A fresh browser context (own profile) with the test wallet injected into every page: by default on
 * plain anvil's chain 31337 at `anvilUrl`; `wallet` = `{chains, chainId}` sets its chains instead.
 */
export async function walletContext(browser, anvilUrl, seen, wallet) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.addInitScript({ content: fs.readFileSync(ETHERS_UMD, 'utf8') });
  const chains = wallet ? wallet.chains : { '0x7a69': anvilUrl };
  await context.addInitScript(testWallet, { key: KEY0, chains, chainId: wallet ? wallet.chainId : '0x7a69' });
  context.on('response', async resp => {
    if (resp.url().includes('/kelp/')) { // the relay's and the kelp panel's routes
      try {
        seen.push(await resp.text());
      } catch {
        // long-polls cut by page close have no body
      }
    }
  });
  return context;
}

export function tmpDir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'kelp-labext-'));
}

/** An empty notebook `name` on the kelp kernel, its session started first (Lab attaches to it instead
 * of asking which kernel to use); returns the kernel id. */
export async function createKelpNotebook(lab, name) {
  const headers = { Authorization: `token ${lab.token}`, 'Content-Type': 'application/json' };
  const nb = {
    nbformat: 4, nbformat_minor: 5,
    cells: [{ id: 'first', cell_type: 'code', source: '', metadata: {}, outputs: [], execution_count: null }],
    metadata: { kernelspec: { name: 'kelp', display_name: 'Rust (kelp)', language: 'rust' } }
  };
  const put = await fetch(`${lab.url}/api/contents/${name}`, {
    method: 'PUT', headers, body: JSON.stringify({ type: 'notebook', format: 'json', content: nb })
  });
  if (put.status !== 201) throw new Error(`creating ${name}: ${put.status} ${await put.text()}`);
  const sess = await fetch(`${lab.url}/api/sessions`, {
    method: 'POST', headers, body: JSON.stringify({ path: name, name, type: 'notebook', kernel: { name: 'kelp' } })
  });
  const body = await sess.text();
  if (sess.status !== 201) throw new Error(`starting the kelp kernel for ${name}: ${sess.status} ${body}`);
  return JSON.parse(body).kernel.id;
}

/** The open notebook's cells in `page`: `runCell(i, source)` types and runs one, `output(i)` its output area. */
export function notebookCells(page) {
  const cells = page.locator('.jp-Notebook .jp-Cell');
  const runCell = async (i, source) => {
    await until(`cell ${i}`, 15000, async () => (await cells.count()) > i);
    await cells.nth(i).locator('.cm-content').click();
    await page.keyboard.type(source);
    const typed = await cells.nth(i).locator('.cm-content').innerText();
    if (typed !== source) throw new Error(`cell ${i} reads ${JSON.stringify(typed)}, typed ${JSON.stringify(source)}`);
    await page.keyboard.press('Shift+Enter');
  };
  return { cells, runCell, output: i => cells.nth(i).locator('.jp-OutputArea') };
}
