// Browser test of the kelp side panel and the file-browser commands (issue #16 items 3–5): a real kelp
// devnet, a real JupyterLab with kelp-labextension whose server runs the real `kelp` binary, Debian
// chromium with the injected test wallet (the devnet's account #0, already on chain 8996), and a
// notebook on the real kelp kernel. The status item opens the panel; right-click → "Add to IPFS" gives
// the CID `%ipfs add` gives; right-click → "Publish to Ocean…" publishes through the wallet's dialogs
// and the panel then lists the asset; right-click → "Compute on…" runs a published algorithm on a
// compute dataset (orders signed in the wallet) and the panel follows the job to its log.
// Screenshots: ui-tests/test-output/panel-*.png.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import {
  ACCOUNT0, KEY0, ROOT, createKelpNotebook, devnetNftCount, launchBrowser, notebookCells, runKelp, startDevnet, startLab, stop,
  stopDevnet, tmpDir, until, walletContext
} from './harness.mjs';

const OUT = path.join(ROOT, 'labextension', 'ui-tests', 'test-output');
const NOTEBOOK = 'kelp-panel.ipynb';
const CSV = 'reef_temperatures.csv';
const seen = []; // every /kelp/ response body the page received
let work, devnet, lab, browser, context, page, rootDir;

before(async () => {
  fs.mkdirSync(OUT, { recursive: true });
  fs.rmSync(path.join(OUT, 'failure-panel.png'), { force: true });
  work = tmpDir();
  devnet = await startDevnet(work);
  lab = await startLab(work, { env: devnet.env, settings: { devnet: { rpcUrl: devnet.url, chainName: 'kelp devnet' } } });
  rootDir = path.join(work, 'root');
  fs.writeFileSync(path.join(rootDir, CSV), 'site,depth_m,temp_c\nA,5,14.2\nB,12,11.8\n');
  fs.writeFileSync(path.join(rootDir, 'plankton.csv'), 'station,count\nA1,120\nB7,301\n');
  // The algorithm counts the data rows (`site,number…`) of every input file.
  fs.writeFileSync(path.join(rootDir, 'mean_temp.py'), [
    'import glob, os, re',
    'files = [f for f in glob.glob("/data/inputs/**/*", recursive=True) if os.path.isfile(f) and not f.endswith(".json")]',
    'print("rows:", sum(1 for f in files for line in open(f) if re.match(r"^\\w+,\\d", line)))',
    ''
  ].join('\n'));
  await createKelpNotebook(lab, NOTEBOOK);
  browser = await launchBrowser();
  context = await walletContext(browser, null, seen, { chains: { '0x2324': devnet.url }, chainId: '0x2324' });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: lab.url });
  page = await context.newPage();
  await page.goto(`${lab.url}/lab/tree/${NOTEBOOK}?token=${lab.token}&reset`);
  await page.getByText('Rust (kelp) | Idle').waitFor({ timeout: 90000 });
});

after(async () => {
  if (browser) await browser.close();
  await stop(lab && lab.proc);
  await stopDevnet(devnet);
  if (work && fs.existsSync(path.join(work, 'lab.log'))) fs.copyFileSync(path.join(work, 'lab.log'), path.join(OUT, 'panel-lab.log'));
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

const shot = name => page.screenshot({ path: path.join(OUT, name) });

/** A test body that leaves failure-panel.png behind when it fails. */
const shooting = body => async () => {
  try {
    await body();
  } catch (err) {
    await shot('failure-panel.png').catch(() => undefined);
    throw err;
  }
};
const panel = () => page.locator('#kelp-panel');

/** Show the file browser (the kelp panel shares the left area) and right-click `name` → `command`. */
async function fileCommand(name, command) {
  const tab = page.locator('.jp-SideBar .lm-TabBar-tab[data-id="filebrowser"]');
  if (!(await tab.getAttribute('class')).includes('lm-mod-current')) await tab.click();
  const item = page.locator('.jp-DirListing-item', { hasText: name });
  await item.waitFor({ timeout: 30000 });
  await item.click({ button: 'right' });
  await page.locator('.lm-Menu-item', { hasText: command }).click();
}

async function showPanel() {
  const tab = page.locator('.jp-SideBar .lm-TabBar-tab[data-id="kelp-panel"]');
  if (!(await tab.getAttribute('class')).includes('lm-mod-current')) await tab.click();
  await panel().waitFor({ state: 'visible', timeout: 15000 });
}

/** Approve every relay dialog until `done()` (or reject those whose text `reject` matches); returns
 * the dialogs' titles in order. */
async function approveUntil(what, done, ms = 300000, reject = null) {
  const titles = [];
  const answered = new Set();
  await until(what, ms, async () => {
    if (await done()) return true;
    const open = page.locator('.jp-Dialog .kelp-RequestDialog');
    if (await open.count()) {
      const id = await open.getAttribute('data-request-id');
      if (!answered.has(id)) {
        answered.add(id);
        titles.push(await page.locator('.jp-Dialog-header').innerText());
        if (titles.length === 1) await shot(`panel-${what.replace(/\W+/g, '-')}-dialog.png`);
        const no = reject && reject.test(await open.innerText());
        await page.locator(`.jp-Dialog button.${no ? 'kelp-reject' : 'kelp-approve'}`).click();
      }
    }
    return false;
  });
  return titles;
}

const toast = re => until(`notification ${re}`, 300000, async () => {
  for (const t of await page.locator('.Toastify__toast').allInnerTexts()) {
    const m = t.match(re);
    if (m) return m;
  }
  return null;
});

test('the status item opens the kelp panel: the wallet connected on the devnet, its account and balances', { timeout: 300000 }, shooting(async () => {
  const status = page.locator('.kelp-WalletStatus');
  await until('wallet found', 30000, async () => (await status.innerText()) === 'Wallet: connect');
  await status.click();
  await panel().waitFor({ state: 'visible', timeout: 15000 });
  await until('wallet connected', 30000, async () => (await status.innerText()) === 'Wallet: 0xf39F…2266 · chain 8996');
  // The panel re-reads on the wallet's change: `kelp wallet show` then signs with the browser wallet.
  const account = panel().locator('.kelp-Panel-account td');
  await until('panel account', 60000, async () => /browser wallet/.test(await account.innerText().catch(() => '')));
  assert.equal(await account.innerText(), `${ACCOUNT0.toLowerCase()} (browser wallet)`);
  // Balances as `kelp wallet show` reads them for the wallet's account, cut to 4 decimals (exact in the tooltip).
  const shown = JSON.parse(await runKelp(devnet.env, ['wallet', 'show', '--json']));
  assert.equal(shown.address, ACCOUNT0.toLowerCase());
  const ocean = shown.tokens.find(t => t.symbol === 'OCEAN').balance;
  assert.equal(await panel().locator('.kelp-Panel-token-OCEAN td').getAttribute('title'), ocean);
  assert.equal(await panel().locator('.kelp-Panel-token-OCEAN td').innerText(), ocean.replace(/(\.\d{0,4})\d*$/, '$1').replace(/\.?0+$/, ''));
  assert.match(await panel().locator('.kelp-Panel-eth td').innerText(), /^\d+(\.\d{1,4})?$/);
  assert.equal(await panel().locator('select.kelp-Panel-network').inputValue(), 'devnet');
  // Reading the panel asks the wallet nothing.
  assert.equal(await page.locator('.jp-Dialog .kelp-RequestDialog').count(), 0);
  await shot('panel-wallet.png');
}));

let addedCid;
test('file browser → Add to IPFS shows and copies the CID that %ipfs add gives; the panel lists the pin', { timeout: 300000 }, shooting(async () => {
  await fileCommand(CSV, 'Add to IPFS');
  const dialog = page.locator('.jp-Dialog', { hasText: 'to IPFS' });
  await dialog.waitFor({ timeout: 60000 });
  addedCid = await dialog.locator('.kelp-Added-cid').innerText();
  assert.match(addedCid, /^Qm[1-9A-HJ-NP-Za-km-z]{44}$/);
  assert.equal(await page.locator('.jp-Dialog-header').innerText(), `Added ${CSV} to IPFS`);
  assert.equal(await dialog.locator('.kelp-Added-size').innerText(), `${fs.statSync(path.join(rootDir, CSV)).size} B`);
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), addedCid, 'the CID is copied');
  await shot('panel-ipfs-add.png');
  await dialog.locator('button', { hasText: 'Close' }).click();

  // The same file through the magic, in the kelp notebook next to it.
  const { runCell, output } = notebookCells(page);
  await runCell(0, `%ipfs add ${CSV}`);
  const magic = await until('%ipfs add output', 120000, async () => (await output(0).innerText()).match(/Qm[1-9A-HJ-NP-Za-km-z]{44}/));
  assert.equal(magic[0], addedCid, 'Add to IPFS and %ipfs add give the same CID');

  await showPanel();
  const pin = panel().locator(`.kelp-Panel-pin[data-cid="${addedCid}"]`);
  await until('pin listed', 60000, async () => (await pin.count()) > 0 || (await panel().locator('button', { hasText: 'Refresh' }).click(), false));
  assert.equal(await pin.locator('a').getAttribute('href'), `https://ipfs.io/ipfs/${addedCid}`);
  assert.equal(await pin.locator('.kelp-Panel-meta').innerText(), `file ${fs.statSync(path.join(rootDir, CSV)).size} B`);
}));

let publishedDid;
test('file browser → Publish to Ocean…: the form, the wallet\'s dialogs (step k of 4); the panel lists the asset; Open, Copy DID, Get', { timeout: 600000 }, shooting(async () => {
  await fileCommand(CSV, 'Publish to Ocean…');
  const form = page.locator('.jp-Dialog .kelp-Form');
  await form.waitFor({ timeout: 15000 });
  assert.equal(await form.locator('input[name=name]').inputValue(), 'reef_temperatures');
  assert.equal(await form.locator('select[name=type]').inputValue(), 'dataset');
  await form.locator('input[name=name]').fill('Reef temperatures (panel)');
  await form.locator('input[name=license]').fill('CC-BY-4.0');
  await form.locator('textarea[name=description]').fill('Two sites, published from the file browser.');
  await shot('panel-publish-form.png');
  await page.locator('.jp-Dialog button', { hasText: 'Publish' }).click();
  const titles = await approveUntil('publish', async () =>
    (await page.locator('.Toastify__toast', { hasText: 'Published Reef temperatures (panel)' }).count()) > 0);
  assert.deepEqual(titles.map(t => (t.match(/\(step (\d) of (\d)\)/) || []).slice(1).join('/')), ['1/4', '2/4', '3/4', '4/4'],
    titles.join('\n'));
  publishedDid = (await toast(/Published Reef temperatures \(panel\): (did:op:[0-9a-f]{64})/))[1];

  // The node says the wallet's account owns it.
  const ddo = JSON.parse(await runKelp(devnet.env, ['ocean', 'show', publishedDid, '--json']));
  assert.equal(ddo.indexedMetadata.nft.owner.toLowerCase(), ACCOUNT0.toLowerCase());
  assert.equal(ddo.metadata.license, 'CC-BY-4.0');

  await showPanel();
  const row = panel().locator(`.kelp-Panel-asset[data-did="${publishedDid}"]`);
  await until('asset listed', 60000, async () => (await row.count()) > 0 || (await panel().locator('button', { hasText: 'Refresh' }).click(), false));
  assert.equal(await row.locator('.kelp-Panel-name').innerText(), 'Reef temperatures (panel) (dataset)');
  assert.equal(await row.locator('.kelp-Panel-meta').innerText(), 'price: free · orders: 0');
  assert.equal(await row.locator('.kelp-Panel-did').getAttribute('title'), publishedDid);
  await shot('panel-assets.png');

  // Open: the DDO the node serves, in a dialog.
  await row.locator('button', { hasText: 'Open' }).click();
  const ddoDialog = page.locator('.jp-Dialog .kelp-Panel-ddo');
  await ddoDialog.waitFor({ timeout: 60000 });
  assert.equal(JSON.parse(await ddoDialog.innerText()).id, publishedDid);
  await page.locator('.jp-Dialog button', { hasText: 'Close' }).click();

  // Copy DID puts the DID on the clipboard.
  await row.locator('button', { hasText: 'Copy DID' }).click();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), publishedDid);

  // Get: the wallet dispenses and orders (and authorises the node's download); the file lands in
  // the Lab's root with the published bytes; the panel's orders count is the node's, which counts
  // the order's OrderStarted event as Ocean Node does: 1.
  await row.locator('button', { hasText: 'Get' }).click();
  const got = await approveUntil('get', async () =>
    (await page.locator('.Toastify__toast', { hasText: 'Downloaded Reef temperatures (panel)' }).count()) > 0);
  assert.ok(got.filter(t => /Send a transaction/.test(t)).length >= 2, got.join('\n'));
  const file = (await toast(/Downloaded Reef temperatures \(panel\) to (\S+) \((\d+) bytes, checked against its CID\)/))[1];
  assert.equal(fs.readFileSync(path.join(rootDir, file), 'utf8'), fs.readFileSync(path.join(rootDir, CSV), 'utf8'));
  const orders = async () => JSON.parse(await runKelp(devnet.env, ['ocean', 'show', publishedDid, '--json']))
    .indexedMetadata.stats.reduce((n, st) => n + Number(st.orders || 0), 0);
  await until('the node counts the order', 30000, async () => (await orders()) === 1);
  let refreshed = 0;
  await until('orders: 1', 60000, async () => {
    if ((await row.locator('.kelp-Panel-meta').innerText().catch(() => '')) === 'price: free · orders: 1') return true;
    if (Date.now() - refreshed > 3000) {
      refreshed = Date.now();
      await panel().locator('button', { hasText: 'Refresh' }).click();
    }
    return false;
  });
}));

test('Publish to Ocean… with the metadata step rejected: the notification says the NFT exists and how to finish; publishing again finishes the same asset', { timeout: 600000 }, shooting(async () => {
  const nfts = await devnetNftCount(devnet);
  const publishPlankton = async reject => {
    await fileCommand('plankton.csv', 'Publish to Ocean…');
    const form = page.locator('.jp-Dialog .kelp-Form');
    await form.waitFor({ timeout: 15000 });
    await form.locator('input[name=name]').fill('Plankton (panel)');
    await page.locator('.jp-Dialog button', { hasText: 'Publish' }).click();
    const failure = page.locator('.jp-Dialog', { hasText: 'metadata pending' });
    return approveUntil(reject ? 'publish rejected' : 'publish resumed', async () => reject
      ? (await failure.count()) > 0
      : (await page.locator('.Toastify__toast', { hasText: 'Published Plankton (panel)' }).count()) > 0,
    300000, reject ? /setMetaData/ : null);
  };
  const first = await publishPlankton(true);
  assert.equal(first.length, 4, first.join('\n'));
  // The whole line, in a dialog titled with the action (a notification would cut it).
  const failure = page.locator('.jp-Dialog', { hasText: 'metadata pending' });
  assert.equal(await failure.locator('.jp-Dialog-header').innerText(), 'Publish Plankton (panel)');
  const line = await failure.locator('.jp-Dialog-body').innerText();
  const [, nft] = line.match(/^kelp publish failed: NFT created \((0x[0-9a-fA-F]{40})\), metadata pending: .*rejected in wallet.* Publish to Ocean… this file again to finish/) || [];
  assert.ok(nft, line);
  assert.ok(!line.includes(rootDir), `no server path in the error: ${line}`);
  assert.equal(await devnetNftCount(devnet), nfts + 1n);
  await shot('panel-publish-pending.png');
  await failure.locator('button').last().click();

  const second = await publishPlankton(false);
  assert.deepEqual(second.map(t => (t.match(/\(step (\d) of (\d)\)/) || []).slice(1).join('/')), ['2/4', '3/4', '4/4'], second.join('\n'));
  const did = (await toast(/Published Plankton \(panel\): (did:op:[0-9a-f]{64})/))[1];
  assert.equal(await devnetNftCount(devnet), nfts + 1n, 'the same NFT finished: no second one');
  const ddo = JSON.parse(await runKelp(devnet.env, ['ocean', 'show', did, '--json']));
  assert.equal(ddo.nftAddress.toLowerCase(), nft.toLowerCase());
  await showPanel();
  const rows = panel().locator('.kelp-Panel-asset', { hasText: 'Plankton (panel)' });
  await until('Plankton listed once', 60000, async () => (await rows.count()) === 1 || (await panel().locator('button', { hasText: 'Refresh' }).click(), false));
  assert.equal(await rows.first().getAttribute('data-did'), did);
}));

test('file browser → Compute on…: a published algorithm on a compute dataset, orders approved in the wallet; the panel follows the job to its log', { timeout: 600000 }, shooting(async () => {
  // The README's flow: the script published as an algorithm, a compute-only dataset trusting it
  // (both by the devnet's account #0, from the shell).
  const publish = async args => JSON.parse(await runKelp(devnet.env, ['publish', ...args, '--json'])).did;
  const algo = await publish([path.join(rootDir, 'mean_temp.py'), '--type', 'algorithm', '--name', 'Mean temperature']);
  const data = await publish([path.join(rootDir, CSV), '--name', 'Private reefs', '--compute', '--trust', algo, '--new']);

  await fileCommand('mean_temp.py', 'Compute on…');
  const form = page.locator('.jp-Dialog .kelp-Form');
  await form.waitFor({ timeout: 60000 });
  assert.equal(await form.locator('input[name=algorithm]').inputValue(), 'mean_temp.py');
  await form.locator('input[name=dataset]').fill(data);
  await form.locator('input[name=algorithm]').fill(algo);
  await shot('panel-compute-form.png');
  await page.locator('.jp-Dialog button', { hasText: 'Start job' }).click();
  const ordered = await approveUntil('compute', async () => (await page.locator('.Toastify__toast', { hasText: 'C2D job' }).count()) > 0);
  // The wallet pays for the job: transactions (dispense, order) and the node's signed start request.
  assert.ok(ordered.some(t => /Send a transaction/.test(t)) && ordered.some(t => /Authorise an Ocean node request/.test(t)),
    ordered.join('\n'));
  const jobId = (await toast(/C2D job ([0-9a-f]{32}) started/))[1];

  await showPanel();
  const job = panel().locator(`.kelp-Panel-job[data-job="${jobId}"]`);
  await job.waitFor({ timeout: 60000 });
  // Live status: the panel re-reads the jobs while one runs, until this one has finished.
  await until('job finished in the panel', 180000, async () => /Job finished/.test(await job.locator('.kelp-Panel-name').innerText()));
  const short = did => `${did.slice(0, 14)}…${did.slice(-4)}`;
  assert.equal(await job.locator('.kelp-Panel-meta').innerText(), `${short(algo)} on ${short(data)} · on its Ocean node`);
  // A node's log is read with a request the wallet authorises (Ocean Node's getComputeResult).
  await job.locator('button', { hasText: 'Logs' }).click();
  const asked = await approveUntil('job log', async () => /rows: \d+/.test(await job.locator('.kelp-Panel-log').innerText()), 60000);
  assert.ok(asked.length >= 1 && asked.every(t => /Authorise an Ocean node request/.test(t)), asked.join('\n'));
  assert.equal(await job.locator('.kelp-Panel-log').innerText(), 'rows: 2\n');
  await shot('panel-jobs.png');
}));

test('the panel\'s network menu: saved in the settings, every section follows it, kelp\'s error is one line', { timeout: 300000 }, shooting(async () => {
  await showPanel();
  const select = panel().locator('select.kelp-Panel-network');
  await select.selectOption('sepolia');
  await until('assets of sepolia', 60000, async () => /^My assets on sepolia/.test(await panel().locator('.kelp-Panel-assets h3').innerText()));
  // No network in the test: kelp cannot reach sepolia's RPC, and the panel says so in one line.
  const error = panel().locator('.kelp-Panel-wallet .kelp-Panel-error');
  await until('wallet error line', 60000, async () => (await error.count()) > 0);
  assert.match(await error.innerText(), /^kelp wallet show failed: cannot reach the chain at https:\/\/ethereum-sepolia-rpc\.publicnode\.com/);
  assert.equal(await panel().locator('.kelp-Panel-wallet button', { hasText: 'Switch wallet to sepolia' }).count(), 1);
  const saved = await fetch(`${lab.url}/lab/api/settings/kelp-labextension:plugin`, { headers: { Authorization: `token ${lab.token}` } });
  assert.equal((await saved.json()).settings.network, 'sepolia');
  await shot('panel-network.png');
  await select.selectOption('devnet');
  await until('back on the devnet', 60000, async () => /^My assets on devnet \(\d+\)/.test(await panel().locator('.kelp-Panel-assets h3').innerText()));
  assert.equal(await panel().locator('.kelp-Panel-wallet button', { hasText: 'Switch wallet' }).count(), 0);
}));

test('a wallet on chain 1: the panel connects it and switches it to the devnet (added from the settings)', { timeout: 300000 }, async () => {
  const other = await walletContext(browser, null, seen, { chains: {}, chainId: '0x1' });
  const page2 = await other.newPage();
  try {
    await page2.goto(`${lab.url}/lab?token=${lab.token}&reset`);
    const tab = page2.locator('.jp-SideBar .lm-TabBar-tab[data-id="kelp-panel"]');
    await tab.waitFor({ timeout: 90000 });
    await tab.click();
    const p2 = page2.locator('#kelp-panel');
    await p2.locator('button', { hasText: 'Connect wallet' }).click();
    const status = page2.locator('.kelp-WalletStatus');
    await until('connected on chain 1', 30000, async () => (await status.innerText()) === 'Wallet: 0xf39F…2266 · chain 1');
    await p2.locator('button', { hasText: 'Switch wallet to devnet' }).click();
    await until('switched to the devnet', 30000, async () => (await status.innerText()) === 'Wallet: 0xf39F…2266 · chain 8996');
    const record = await page2.evaluate(() => window.__kelpTestWallet);
    assert.deepEqual(record.added.map(a => [a.chainId, a.rpcUrls]), [['0x2324', [devnet.url]]]);
    await until('switch button gone', 30000, async () => (await p2.locator('button', { hasText: 'Switch wallet' }).count()) === 0);
  } catch (err) {
    await page2.screenshot({ path: path.join(OUT, 'failure-panel.png') }).catch(() => undefined);
    throw err;
  } finally {
    await other.close();
  }
});

test('the palette lists kelp\'s commands', { timeout: 60000 }, async () => {
  await page.keyboard.press('Control+Shift+c');
  const palette = page.locator('#command-palette');
  await palette.locator('input').fill('kelp');
  for (const label of ['Open the kelp panel', 'Refresh the kelp panel', 'Add to IPFS', 'Publish to Ocean…', 'Compute on…']) {
    await palette.locator('.lm-CommandPalette-item', { hasText: label }).first().waitFor({ timeout: 15000 });
  }
  await page.keyboard.press('Escape');
});

test('no wallet key or relay secret in any panel or relay response, or in the server log', () => {
  const key = KEY0.slice(2).toLowerCase();
  const log = fs.readFileSync(lab.proc.logFile, 'utf8');
  const panelReplies = seen.filter(t => t.includes('did:op:') || t.includes('"pins"'));
  assert.ok(panelReplies.length >= 3, `only ${panelReplies.length} panel responses recorded`);
  assert.ok(log.includes('/kelp/panel/publish'), 'the DEBUG log records the panel\'s calls');
  for (const [where, text] of [['server log', log], ...seen.map((t, i) => [`response ${i}`, t])]) {
    assert.ok(!text.toLowerCase().includes(key), `wallet key in ${where}`);
    assert.ok(!text.includes(lab.relay.secret), `relay secret in ${where}`);
  }
});
