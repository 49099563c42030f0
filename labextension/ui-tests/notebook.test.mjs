// Browser test of the whole signing path with the real kelp kernel: a real kelp devnet (`kelp devnet
// up`: anvil + the Ocean contracts + the local node, own KELP_HOME, unusual port), a real JupyterLab
// from .venv with kelp-labextension, Debian chromium (playwright-core) holding an injected EIP-1193
// wallet with the devnet's account #0, and a notebook on the "Rust (kelp)" kernel whose cells are typed
// and run in the page: `%wallet send … --signer browser` approved (mined), rejected, interrupted, and
// `%publish … --signer browser` (every transaction and signature approved in the dialog).
// Screenshots and logs go to ui-tests/test-output/.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, test } from 'node:test';
import {
  ACCOUNT0, ACCOUNT1, KEY0, ROOT, createKelpNotebook, devnetNftCount, ethers, launchBrowser, notebookCells, receiptOf, rpc, startDevnet,
  startLab, stop, stopDevnet, tmpDir, walletContext
} from './harness.mjs';

const OUT = path.join(ROOT, 'labextension', 'ui-tests', 'test-output');
const NOTEBOOK = 'kelp-wallet.ipynb';
const seen = []; // every relay response body the page received, plus the kernel-face status reads
let work, devnet, lab, browser, csvServer, csvUrl;

before(async () => {
  fs.mkdirSync(OUT, { recursive: true });
  fs.rmSync(path.join(OUT, 'failure-notebook.png'), { force: true });
  work = tmpDir();
  devnet = await startDevnet(work);
  assert.equal(devnet.up.chain_id, 8996);
  // The devnet runs on an unusual port: the settings tell the status item where (chain id: the default).
  lab = await startLab(work, { env: devnet.env, settings: { devnet: { rpcUrl: devnet.url, chainName: 'kelp devnet' } } });
  browser = await launchBrowser();
  // The file %publish points at (a URL, like a dataset on the web).
  csvServer = http.createServer((req, res) => {
    res.writeHead(req.url === '/plankton.csv' ? 200 : 404, { 'Content-Type': 'text/csv' });
    res.end(req.url === '/plankton.csv' ? 'station,count\nA1,120\nB7,301\n' : '');
  });
  await new Promise(resolve => csvServer.listen(0, '127.0.0.1', resolve));
  csvUrl = `http://127.0.0.1:${csvServer.address().port}/plankton.csv`;
});

after(async () => {
  if (browser) await browser.close();
  await stop(lab && lab.proc);
  await stopDevnet(devnet);
  if (csvServer) csvServer.close();
  // (not anvil's log: its banner lists anvil's well-known dev keys)
  for (const [from, to] of [['lab.log', 'notebook-lab.log'], ['saved.ipynb', 'notebook-saved.ipynb']]) {
    if (work && fs.existsSync(path.join(work, from))) fs.copyFileSync(path.join(work, from), path.join(OUT, to));
  }
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

const auth = () => ({ Authorization: `token ${lab.token}`, 'Content-Type': 'application/json' });

async function kernelStatus() {
  const r = await fetch(`${lab.relay.url}/kernel/status`, { headers: { 'X-Kelp-Relay-Secret': lab.relay.secret } });
  const text = await r.text();
  seen.push(text);
  return JSON.parse(text);
}

const nftCount = () => devnetNftCount(devnet);

async function balance(who) {
  return BigInt(await rpc(devnet.url, 'eth_getBalance', [who, 'latest']));
}

/** Poll `probe` until it returns a truthy value (no fixed sleeps: the machine may be loaded). */
async function until(what, ms, probe) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise(r => setTimeout(r, 250));
  }
}

/** Open `name` in a fresh page whose wallet starts on chain 1 and knows no devnet. */
async function openNotebook(name) {
  const context = await walletContext(browser, null, seen, { chains: {}, chainId: '0x1' });
  const page = await context.newPage();
  // (reset: a fresh workspace, so only this notebook is open)
  await page.goto(`${lab.url}/lab/tree/${name}?token=${lab.token}&reset`);
  await page.locator('.jp-Notebook .jp-Cell').first().waitFor({ timeout: 90000 });
  await page.getByText('Rust (kelp) | Idle').waitFor({ timeout: 90000 });
  return { context, page, ...notebookCells(page) };
}

const kelpNotebook = name => createKelpNotebook(lab, name);

test('a kelp notebook cell: %wallet send --signer browser approved (mined), rejected, interrupted; %publish approved', { timeout: 600000 }, async () => {
  const kernelId = await kelpNotebook(NOTEBOOK);

  // The wallet starts on chain 1 and knows no devnet: connecting and switching happen in the page.
  const { context, page, cells, runCell, output } = await openNotebook(NOTEBOOK);
  const shot = name => page.screenshot({ path: path.join(OUT, name) });
  try {
    // 1. Status bar: connect, then switch the wallet to the devnet (the wallet adds it first: 4902).
    const status = page.locator('.kelp-WalletStatus');
    await until('wallet found', 30000, async () => (await status.innerText()) === 'Wallet: connect');
    await status.click();
    await until('wallet connected', 30000, async () => (await status.innerText()) === 'Wallet: 0xf39F…2266 · chain 1');
    await status.click();
    const switchButton = page.locator('.jp-Dialog button', { hasText: 'Switch to kelp devnet (8996)' });
    await switchButton.waitFor({ timeout: 15000 });
    await switchButton.click();
    await until('wallet on the devnet', 30000, async () => (await status.innerText()) === 'Wallet: 0xf39F…2266 · chain 8996');
    const added = await page.evaluate(() => window.__kelpTestWallet.added);
    assert.deepEqual(added, [{
      chainId: '0x2324', chainName: 'kelp devnet', rpcUrls: [devnet.url],
      nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 }
    }]);
    await until('relay told of the wallet', 15000, async () => (await kernelStatus()).wallet?.chain_id === '0x2324');
    assert.equal((await kernelStatus()).wallet.account, ACCOUNT0);

    // What the page shows in a cell's output area (the HTML of kelp's outputs); the exact text/plain
    // of every output is checked in the saved notebook at the end.
    const shows = (i, what, re, ms = 60000) => until(`cell ${i} shows ${what}`, ms, async () => {
      const m = (await output(i).innerText()).match(re);
      return m;
    });
    const dialog = page.locator('.jp-Dialog .kelp-RequestDialog');

    // 2. Approve: the dialog shows the decoded summary; the cell ends with the hash of a mined tx.
    const before1 = await balance(ACCOUNT1);
    await runCell(0, `%wallet send ${ACCOUNT1} 0.01 --signer browser`);
    await dialog.waitFor({ timeout: 120000 });
    await shows(0, 'the live waiting display', /waiting for wallet approval: Send 0\.01 ETH to 0x[0-9a-fA-F]{40}/, 30000);
    await until('gas estimate', 30000, async () => (await dialog.getAttribute('data-gas')) !== null);
    assert.equal(await dialog.getAttribute('data-gas'), '21000');
    const text = await dialog.innerText();
    for (const want of ['devnet (chain 8996)', `Send 0.01 ETH to ${ACCOUNT1}`, 'Asked by kelp kernel', '≈ 21000 (estimated']) {
      assert.ok(text.includes(want), `dialog lacks ${want}:\n${text}`);
    }
    assert.equal(await dialog.locator('.kelp-Summary-amount').innerText(), '0.01 ETH');
    assert.equal(await dialog.locator('.kelp-Summary-from').innerText().then(t => t.toLowerCase()), ACCOUNT0.toLowerCase());
    assert.ok(!text.includes('0.010000000000000000'), `the amount shows in one format:\n${text}`);
    assert.equal(await dialog.locator('.kelp-Summary-to').innerText(), ACCOUNT1);
    assert.match(await page.locator('.jp-Dialog-header').innerText(), /Send a transaction/);
    await shot('notebook-dialog.png');
    await page.locator('.jp-Dialog button.kelp-approve').click();
    const hash = (await shows(0, 'the tx hash', /\(tx (0x[0-9a-f]{64}), gas 21000\)/, 120000))[1];
    await shows(0, 'the approval', /approved in wallet: Send 0\.01 ETH to 0x/);
    const receipt = await receiptOf(devnet.url, hash);
    assert.equal(receipt.status, '0x1');
    assert.equal(receipt.from.toLowerCase(), ACCOUNT0.toLowerCase());
    assert.equal(receipt.to.toLowerCase(), ACCOUNT1.toLowerCase());
    assert.equal((await balance(ACCOUNT1)) - before1, ethers.parseEther('0.01'));
    // The result shows as its HTML, not as Lab's JSON tree (the extension ranks application/json
    // below HTML: setting htmlBeforeJson); the JSON is still in the bundle (checked in the saved file).
    await output(0).locator('.jp-RenderedHTMLCommon pre', { hasText: `(tx ${hash}, gas 21000)` }).waitFor({ timeout: 15000 });
    assert.equal(await output(0).locator('.jp-RenderedJSON').count(), 0);
    await page.getByText('Rust (kelp) | Idle').waitFor({ timeout: 30000 });

    // 3. Reject: the cell ends with "rejected in wallet"; nothing is sent.
    const before2 = await balance(ACCOUNT1);
    await runCell(1, `%wallet send ${ACCOUNT1} 0.02 --signer browser`);
    await page.locator('.jp-Dialog .kelp-RequestDialog', { hasText: '0.02 ETH' }).waitFor({ timeout: 60000 });
    await page.locator('.jp-Dialog button.kelp-reject').click();
    await shows(1, 'the rejection', /rejected in wallet/);
    await page.getByText('Rust (kelp) | Idle').waitFor({ timeout: 30000 });
    assert.equal(await balance(ACCOUNT1), before2, 'a rejected request sends nothing');

    // 4. Interrupt while the dialog is open: the request is withdrawn, the dialog closes, the cell
    //    ends with a clear error, nothing is sent and the kernel goes on.
    await runCell(2, `%wallet send ${ACCOUNT1} 0.03 --signer browser`);
    await page.locator('.jp-Dialog .kelp-RequestDialog', { hasText: '0.03 ETH' }).waitFor({ timeout: 60000 });
    assert.equal((await kernelStatus()).pending, 1);
    const intr = await fetch(`${lab.url}/api/kernels/${kernelId}/interrupt`, { method: 'POST', headers: auth() });
    assert.equal(intr.status, 204);
    await page.locator('.kelp-RequestDialog').waitFor({ state: 'detached', timeout: 60000 });
    await shows(2, 'the cancellation', /signing request cancelled; its dialog was closed in the browser/);
    await page.getByText('Rust (kelp) | Idle').waitFor({ timeout: 30000 });
    assert.equal((await kernelStatus()).pending, 0);
    assert.equal(await balance(ACCOUNT1), before2, 'an interrupted request sends nothing');

    // 5. %publish: each transaction and the node's signed request is shown in its own dialog.
    //    First run: the person rejects the metadata transaction (step 4 of 4); the cell says the
    //    NFT exists and the metadata is pending, and how to finish. Second run: approves all; the
    //    journal resumes the same NFT (the factory's NFT count grows by one in all).
    const nfts = await nftCount();
    const asked = [];
    const publishCell = async (rejectMetadata, done) => {
      await runCell(3, `%publish ${csvUrl} --name Plankton --signer browser`);
      await until('publish finished', 300000, async () => {
        if (await done()) return true;
        const errors = await output(3).locator('[data-mime-type="application/vnd.jupyter.stderr"]').count();
        if (errors && !rejectMetadata) throw new Error(`publish failed: ${await output(3).innerText()}`);
        const open = page.locator('.jp-Dialog .kelp-RequestDialog');
        if (await open.count()) {
          const id = await open.getAttribute('data-request-id');
          if (!asked.some(a => a.id === id)) {
            const a = { id, title: await page.locator('.jp-Dialog-header').innerText(), text: await open.innerText() };
            asked.push(a);
            if (asked.length <= 4) await shot(`notebook-publish-dialog-${asked.length}.png`);
            const reject = rejectMetadata && a.text.includes('setMetaData');
            a.approved = !reject;
            await page.locator(`.jp-Dialog button.${reject ? 'kelp-reject' : 'kelp-approve'}`).click();
          }
        }
        return false;
      });
    };
    await publishCell(true, async () => /run the cell again to finish/.test(await output(3).innerText()));
    const pendingText = await output(3).innerText();
    assert.match(pendingText, /NFT created \((0x[0-9a-fA-F]{40})\), metadata pending: .*rejected in wallet.* run the cell again to finish/, pendingText);
    assert.ok(!/published/.test(pendingText), pendingText);
    const pendingNft = pendingText.match(/NFT created \((0x[0-9a-fA-F]{40})\)/)[1];
    assert.equal(await nftCount(), nfts + 1n);
    await shot('notebook-publish-metadata-pending.png');
    await page.getByText('Rust (kelp) | Idle').waitFor({ timeout: 30000 });
    const firstRun = asked.length;
    await cells.nth(3).locator('.cm-content').click();
    await page.keyboard.press('Control+a');
    await page.keyboard.press('Delete');
    await publishCell(false, async () => /did:op:[0-9a-f]{64}/.test(await output(3).innerText()));
    assert.equal(await nftCount(), nfts + 1n, 'the re-run finished the same asset: no second NFT');
    assert.deepEqual(asked.slice(firstRun).map(a => (a.title.match(/\(step (\d) of (\d)\)/) || []).slice(1).join('/')),
      ['2/4', '3/4', '4/4'], 'the re-run resumes at step 2');
    const txDialogs = asked.filter(a => /Send a transaction/.test(a.title) && a.approved);
    assert.ok(txDialogs.length >= 2, `expected at least two transactions to approve, saw ${asked.map(a => a.title)}`);
    const create = txDialogs.find(a => a.text.includes('ERC721Factory ('));
    assert.ok(create, `no dialog for the ERC721Factory call: ${asked.map(a => a.text).join('\n---\n')}`);
    assert.ok(create.text.includes('Plankton') && create.text.includes('devnet (chain 8996)'), create.text);
    // The publish shows its steps up front: four approvals, numbered in order; the two node
    // requests say which node they authorise and for what.
    assert.deepEqual(asked.slice(0, firstRun).map(a => (a.title.match(/\(step (\d) of (\d)\)/) || []).slice(1).join('/')),
      ['1/4', '2/4', '3/4', '4/4'], asked.map(a => a.title).join('\n'));
    for (const a of asked.filter(a => /Authorise an Ocean node request/.test(a.title))) {
      assert.match(a.text, /Authorise Ocean node http:\/\/127\.0\.0\.1:\d+ to encrypt \(nonce \d+\)/, a.text);
    }
    assert.equal(asked.filter(a => /Authorise an Ocean node request/.test(a.title)).length, 4, 'two per run');
    await page.getByText('Rust (kelp) | Idle').waitFor({ timeout: 30000 });

    // The saved notebook: the JSON results of the cells, and (below) the no-secret check.
    await page.keyboard.press('Escape');
    await page.keyboard.press('Control+s');
    const saved = await until('notebook saved with outputs', 30000, async () => {
      const r = await fetch(`${lab.url}/api/contents/${NOTEBOOK}?content=1`, { headers: auth() });
      const body = await r.json();
      return body.content.cells.length >= 4 && body.content.cells[3].outputs.some(o => o.data?.['application/json']?.did)
        ? body : null;
    });
    fs.writeFileSync(path.join(work, 'saved.ipynb'), JSON.stringify(saved.content, null, 1));
    const published = saved.content.cells[3].outputs.find(o => o.data?.['application/json']?.did).data['application/json'];
    assert.equal(published.chain_id, 8996);
    assert.equal(published.nft.toLowerCase(), pendingNft.toLowerCase(), 'the asset of the NFT made by the first run');
    assert.equal(published.txs.length, txDialogs.length, 'one approved dialog per transaction');
    for (const t of published.txs) {
      const r = await receiptOf(devnet.url, t.hash);
      assert.equal(r.status, '0x1', JSON.stringify(t));
      assert.equal(r.from.toLowerCase(), ACCOUNT0.toLowerCase(), 'published from the wallet\'s account');
    }
    const sendJson = saved.content.cells[0].outputs.find(o => o.data?.['application/json']?.tx).data['application/json'];
    assert.equal(sendJson.tx, hash);
    // The exact text of each cell's outputs (what nbclient/papermill users and the text view see).
    const plain = i => saved.content.cells[i].outputs.map(o =>
      o.output_type === 'stream' ? o.text : o.output_type === 'error' ? `${o.ename}: ${o.evalue}` : o.data?.['text/plain'] ?? ''
    ).map(t => (Array.isArray(t) ? t.join('') : t)).join('\n');
    const cell0 = plain(0);
    assert.match(cell0, new RegExp(`approved in wallet: Send 0\\.01 ETH to ${ACCOUNT1}`), cell0);
    assert.ok(cell0.includes(`sent 0.01 ETH to ${ACCOUNT1} (tx ${hash}, gas 21000)`), cell0);
    assert.match(plain(1), /rejected in wallet/);
    assert.ok(!/0x[0-9a-f]{64}/.test(plain(1)), 'no tx hash after a rejection');
    assert.match(plain(2), /signing request cancelled; its dialog was closed in the browser/);
    assert.match(plain(3), /^published Plankton$/m);
  } catch (err) {
    await shot('failure-notebook.png').catch(() => undefined);
    throw err;
  } finally {
    await context.close();
  }
});

test('a request for the devnet chain, to a wallet that does not know it: the wallet adds it from the settings, then sends', { timeout: 300000 }, async () => {
  await kelpNotebook('kelp-chain.ipynb');
  const { context, page, runCell, output } = await openNotebook('kelp-chain.ipynb');
  try {
    const status = page.locator('.kelp-WalletStatus');
    await until('wallet found', 30000, async () => (await status.innerText()) === 'Wallet: connect');
    await status.click();
    await until('wallet connected', 30000, async () => (await status.innerText()) === 'Wallet: 0xf39F…2266 · chain 1');
    await until('relay told of the wallet', 15000, async () => (await kernelStatus()).wallet?.chain_id === '0x1');
    const before = await balance(ACCOUNT1);
    await runCell(0, `%wallet send ${ACCOUNT1} 0.04 --signer browser`);
    const dialog = page.locator('.jp-Dialog .kelp-RequestDialog', { hasText: '0.04 ETH' });
    await dialog.waitFor({ timeout: 120000 });
    // The wallet is on chain 1, so nothing estimates the gas in the page: the wallet will set it.
    await until('gas row', 30000, async () => (await dialog.getAttribute('data-gas')) === 'unknown');
    assert.match(await dialog.locator('.kelp-NetworkChange').innerText(),
      /^Approve first asks your wallet to switch from chain 1 to kelp devnet \(chain 8996\)\. If your wallet does not know kelp devnet \(chain 8996\), it is asked to add it with RPC http:\/\/127\.0\.0\.1:\d+ first\.$/);
    assert.equal(await dialog.locator('.kelp-Summary-gas').innerText(), 'estimated by your wallet after the network switch');
    await page.locator('.jp-Dialog button.kelp-approve').click();
    const hash = (await until('the tx hash', 120000, async () => (await output(0).innerText()).match(/\(tx (0x[0-9a-f]{64}), gas 21000\)/)))[1];
    assert.equal((await receiptOf(devnet.url, hash)).status, '0x1');
    assert.equal((await balance(ACCOUNT1)) - before, ethers.parseEther('0.04'));
    const record = await page.evaluate(() => window.__kelpTestWallet);
    assert.deepEqual(record.added.map(a => [a.chainId, a.rpcUrls]), [['0x2324', [devnet.url]]]);
    assert.deepEqual(record.switched, ['0x2324']);
    assert.equal(await status.innerText(), 'Wallet: 0xf39F…2266 · chain 8996');
  } catch (err) {
    await page.screenshot({ path: path.join(OUT, 'failure-notebook.png') }).catch(() => undefined);
    throw err;
  } finally {
    await context.close();
  }
});

test('no wallet key or relay secret in the saved notebook, the server and kernel log, or any relay response', () => {
  const key = KEY0.slice(2).toLowerCase();
  const notebook = fs.readFileSync(path.join(work, 'saved.ipynb'), 'utf8');
  const log = fs.readFileSync(lab.proc.logFile, 'utf8');
  assert.ok(notebook.includes('rejected in wallet') && notebook.includes('did:op:'), 'the saved notebook has the outputs');
  assert.ok(log.includes('/kelp/relay/kernel/requests'), 'the DEBUG log records the kernel\'s relay calls');
  assert.ok(seen.length > 10, `only ${seen.length} relay responses recorded`);
  const texts = [['saved notebook', notebook], ['server and kernel log', log], ...seen.map((t, i) => [`relay response ${i}`, t])];
  for (const [where, text] of texts) {
    assert.ok(!text.toLowerCase().includes(key), `wallet key in ${where}`);
    assert.ok(!text.includes(lab.relay.secret), `relay secret in ${where}`);
  }
});
