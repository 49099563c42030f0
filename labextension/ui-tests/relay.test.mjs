// Browser test of the relay protocol: real anvil + real JupyterLab + Debian chromium (playwright-core).
// The test plays the kernel on the relay's kernel face (every kind of request, cancel, the standalone
// page); the page holds an injected EIP-6963 test wallet. The real kelp kernel driven from a notebook
// is notebook.test.mjs. Screenshots go to ui-tests/test-output/.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import {
  ACCOUNT0, ACCOUNT1, KEY0, ROOT, ethers, kernelFace, launchBrowser, receiptOf, rpc, startAnvil, startLab, stop, tmpDir,
  walletContext
} from './harness.mjs';

const OUT = path.join(ROOT, 'labextension', 'ui-tests', 'test-output');
const seen = []; // every relay response body (test side and page side)
let work, anvil, lab, browser, kernel;

const txRequest = (value, method) => ({
  kind: 'eth_sendTransaction',
  params: [{ to: ACCOUNT1, value: ethers.toQuantity(value) }],
  summary: {
    network: 'kelp devnet (chain 31337)',
    contract: 'account #1 (plain transfer)',
    method,
    args: { to: ACCOUNT1 },
    value: `${ethers.formatEther(value)} ETH`,
    gas: '21000'
  },
  chain_id: 31337,
  expires_in: 120
});

before(async () => {
  fs.mkdirSync(OUT, { recursive: true });
  work = tmpDir();
  anvil = await startAnvil(work);
  lab = await startLab(work);
  kernel = kernelFace(lab.relay, seen);
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  await stop(lab && lab.proc);
  await stop(anvil && anvil.proc);
  // Keep the logs next to the screenshots; drop the rest of the scratch dir.
  for (const name of ['lab.log']) { // (not anvil's log: its banner lists anvil's well-known dev keys)
    if (work && fs.existsSync(path.join(work, name))) fs.copyFileSync(path.join(work, name), path.join(OUT, name));
  }
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

async function openLab() {
  const context = await walletContext(browser, anvil.url, seen);
  const page = await context.newPage();
  await page.goto(`${lab.url}/lab?token=${lab.token}`);
  await page.locator('.kelp-WalletStatus').waitFor({ timeout: 60000 });
  return { context, page };
}

async function make(body) {
  const r = await kernel('POST', '/kernel/requests', body);
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.id;
}

const answerOf = async id => {
  const r = await kernel('GET', `/kernel/requests/${id}?wait=30`);
  assert.equal(r.status, 200);
  return r.body;
};

test('status bar connects the EIP-6963 wallet; Approve mines the tx, Reject answers "rejected in wallet"', { timeout: 180000 }, async () => {
  assert.equal(fs.statSync(lab.relayFile).mode & 0o777, 0o600, 'relay file must be private to its owner');
  assert.match(lab.relay.url, /^http:\/\/127\.0\.0\.1:\d+\/kelp\/relay$/);
  const { context, page } = await openLab();
  const status = page.locator('.kelp-WalletStatus');
  await assert.doesNotReject(() => page.waitForFunction(() => document.querySelector('.kelp-WalletStatus')?.textContent === 'Wallet: connect'));
  await status.click();
  await page.waitForFunction(() => /0xf39F…2266 · chain 31337/.test(document.querySelector('.kelp-WalletStatus')?.textContent ?? ''));
  // Cookie-authenticated page calls need the XSRF header: without it 403, with it accepted.
  const [noXsrf, withXsrf] = await page.evaluate(async () => {
    const body = JSON.stringify({ account: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266', chain_id: '0x7a69', name: 'kelp test wallet' });
    const put = headers => fetch('/kelp/relay/wallet', { method: 'PUT', credentials: 'same-origin', headers, body });
    const xsrf = decodeURIComponent((document.cookie.match(/(?:^|; )_xsrf=([^;]*)/) || [])[1] || '');
    return [(await put({})).status, (await put({ 'X-XSRFToken': xsrf })).status];
  });
  assert.deepEqual([noXsrf, withXsrf], [403, 200]);
  const reported = await kernel('GET', '/kernel/status');
  assert.equal(reported.body.wallet.account, ACCOUNT0);
  assert.equal(reported.body.wallet.chain_id, '0x7a69');
  assert.ok(reported.body.browser.watching >= 1, 'the open Lab page long-polls the relay');

  // 1. Approve: the dialog shows the decoded summary; the wallet signs; the tx is mined on anvil.
  const before1 = BigInt(await rpc(anvil.url, 'eth_getBalance', [ACCOUNT1, 'latest']));
  const value = ethers.parseEther('1.5');
  const id1 = await make(txRequest(value, 'transfer (approve me)'));
  const dialog = page.locator('.jp-Dialog .kelp-RequestDialog');
  await dialog.waitFor({ timeout: 15000 });
  assert.equal(await dialog.getAttribute('data-request-id'), id1);
  const text = await dialog.innerText();
  for (const want of ['kelp devnet (chain 31337)', 'account #1 (plain transfer)', 'transfer (approve me)', '1.5 ETH', '21000', ACCOUNT1]) {
    assert.ok(text.includes(want), `dialog lacks ${want}:\n${text}`);
  }
  assert.match(await page.locator('.jp-Dialog-header').innerText(), /Send a transaction/);
  // What the wallet will really be asked to send, decoded from the tx itself (not the kernel's summary).
  assert.equal(await dialog.locator('.kelp-Summary-sends').innerText(), '1.5 ETH');
  await page.screenshot({ path: path.join(OUT, 'request-dialog.png') });
  const pending = answerOf(id1);
  await page.locator('.jp-Dialog button.kelp-approve').click();
  const done1 = await pending;
  assert.equal(done1.state, 'answered', JSON.stringify(done1));
  assert.match(done1.result, /^0x[0-9a-f]{64}$/);
  const receipt = await receiptOf(anvil.url, done1.result);
  assert.equal(receipt.status, '0x1');
  assert.equal(receipt.from.toLowerCase(), ACCOUNT0.toLowerCase());
  assert.equal(receipt.to.toLowerCase(), ACCOUNT1.toLowerCase());
  const after1 = BigInt(await rpc(anvil.url, 'eth_getBalance', [ACCOUNT1, 'latest']));
  assert.equal(after1 - before1, value);
  assert.equal((await kernel('GET', `/kernel/requests/${id1}`)).status, 404, 'ids are one-shot');

  // 2. Reject: nothing is sent; the kernel reads "rejected in wallet".
  const blockBefore = await rpc(anvil.url, 'eth_blockNumber');
  const id2 = await make(txRequest(ethers.parseEther('2'), 'transfer (reject me)'));
  await page.locator(`.kelp-RequestDialog[data-request-id="${id2}"]`).waitFor({ timeout: 15000 });
  const pending2 = answerOf(id2);
  await page.locator('.jp-Dialog button.kelp-reject').click();
  const done2 = await pending2;
  assert.deepEqual(done2.error, { code: 4001, message: 'rejected in wallet' });
  assert.equal(done2.result, undefined);
  assert.equal(await rpc(anvil.url, 'eth_blockNumber'), blockBefore, 'a rejected request must not mine anything');

  // 3. personal_sign: the dialog decodes the message; the signature recovers to the wallet's account.
  const message = 'kelp: prove you own this account';
  const id3 = await make({ kind: 'personal_sign', params: [ethers.hexlify(ethers.toUtf8Bytes(message)), ACCOUNT0], expires_in: 120 });
  const d3 = page.locator(`.kelp-RequestDialog[data-request-id="${id3}"]`);
  await d3.waitFor({ timeout: 15000 });
  assert.ok((await d3.innerText()).includes(message));
  const pending3 = answerOf(id3);
  await page.locator('.jp-Dialog button.kelp-approve').click();
  const done3 = await pending3;
  assert.equal(ethers.verifyMessage(message, done3.result), ACCOUNT0);

  // 4. The wallet itself refuses (EIP-1193 4001): the kernel reads "rejected in wallet" too.
  const id5 = await make({ kind: 'personal_sign', params: [ethers.hexlify(ethers.toUtf8Bytes('[refuse in wallet]')), ACCOUNT0] });
  await page.locator(`.kelp-RequestDialog[data-request-id="${id5}"]`).waitFor({ timeout: 15000 });
  const pending5 = answerOf(id5);
  await page.locator('.jp-Dialog button.kelp-approve').click();
  assert.deepEqual((await pending5).error, { code: 4001, message: 'rejected in wallet' });

  // 5. wallet_switchEthereumChain: to the wallet's chain → null; to an unknown chain → the wallet's 4902 error.
  const id6 = await make({ kind: 'wallet_switchEthereumChain', params: [{ chainId: '0x7a69' }] });
  await page.locator(`.kelp-RequestDialog[data-request-id="${id6}"]`).waitFor({ timeout: 15000 });
  assert.match(await page.locator('.jp-Dialog-header').innerText(), /Switch network/);
  const pending6 = answerOf(id6);
  await page.locator('.jp-Dialog button.kelp-approve').click();
  const done6 = await pending6;
  assert.equal(done6.state, 'answered');
  assert.equal(done6.result, null);
  // (chain 420: neither the wallet's nor the devnet of the settings, so nothing can add it)
  const id7 = await make({ kind: 'wallet_switchEthereumChain', params: [{ chainId: '0x1a4' }] });
  await page.locator(`.kelp-RequestDialog[data-request-id="${id7}"]`).waitFor({ timeout: 15000 });
  const pending7 = answerOf(id7);
  await page.locator('.jp-Dialog button.kelp-approve').click();
  assert.equal((await pending7).error.code, 4902);

  // 6. A request cancelled by the kernel (interrupt) closes its dialog unanswered.
  const id4 = await make(txRequest(ethers.parseEther('3'), 'transfer (cancel me)'));
  await page.locator(`.kelp-RequestDialog[data-request-id="${id4}"]`).waitFor({ timeout: 15000 });
  assert.equal((await kernel('DELETE', `/kernel/requests/${id4}`)).status, 200);
  await page.locator('.kelp-RequestDialog').waitFor({ state: 'detached', timeout: 35000 });
  await context.close();
});

test('standalone signing page (no Lab extension needed) signs typed data and sends a tx', { timeout: 120000 }, async () => {
  const context = await walletContext(browser, anvil.url, seen);
  const page = await context.newPage();
  await page.goto(`${lab.url}/kelp/relay/sign?token=${lab.token}`);
  await page.locator('#requests', { hasText: 'No pending requests' }).waitFor({ timeout: 15000 });
  const typed = {
    types: {
      EIP712Domain: [{ name: 'name', type: 'string' }, { name: 'chainId', type: 'uint256' }],
      Order: [{ name: 'asset', type: 'string' }, { name: 'amount', type: 'uint256' }]
    },
    primaryType: 'Order',
    domain: { name: 'kelp test', chainId: 31337 },
    message: { asset: 'did:op:1234', amount: '7' }
  };
  const id = await make({
    kind: 'eth_signTypedData_v4', params: [ACCOUNT0, JSON.stringify(typed)],
    summary: { network: 'kelp devnet', method: 'Order', args: typed.message }, expires_in: 120
  });
  const box = page.locator('.kelp-request');
  await box.waitFor({ timeout: 35000 });
  assert.ok((await box.innerText()).includes('did:op:1234'));
  await page.screenshot({ path: path.join(OUT, 'signing-page.png') });
  const pending = answerOf(id);
  await box.locator('.kelp-approve').click();
  const done = await pending;
  assert.equal(done.state, 'answered', JSON.stringify(done));
  const types = { Order: typed.types.Order };
  assert.equal(ethers.verifyTypedData(typed.domain, types, typed.message, done.result), ACCOUNT0);
  await page.locator('.kelp-outcome', { hasText: 'Done' }).waitFor();

  // A transaction through the page: it shows what is really sent, and Approve mines it.
  const idTx = await make(txRequest(ethers.parseEther('0.25'), 'transfer (standalone page)'));
  const txBox = page.locator('.kelp-request', { hasText: 'transfer (standalone page)' });
  await txBox.waitFor({ timeout: 35000 });
  assert.ok((await txBox.innerText()).includes('0.25 ETH'));
  const pendingTx = answerOf(idTx);
  await txBox.locator('.kelp-approve').click();
  const doneTx = await pendingTx;
  assert.equal((await receiptOf(anvil.url, doneTx.result)).status, '0x1');
  await context.close();
});

test('no relay secret or wallet key in the server log or any relay response', async () => {
  const log = fs.readFileSync(lab.proc.logFile, 'utf8');
  assert.ok(log.includes('/kelp/relay/kernel/requests'), 'the DEBUG log should record relay calls');
  assert.ok(seen.length > 10, `only ${seen.length} relay responses recorded`);
  const key = KEY0.slice(2);
  for (const [where, text] of [['server log', log], ...seen.map((t, i) => [`relay response ${i}`, t])]) {
    assert.ok(!text.includes(lab.relay.secret), `relay secret in ${where}`);
    assert.ok(!text.toLowerCase().includes(key), `wallet key in ${where}`);
  }
});
