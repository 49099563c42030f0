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
  until, walletContext
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
  assert.equal(await dialog.locator('.kelp-Summary-amount').innerText(), '1.5 ETH');
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

test('every dialog kind says in words who asks, what happens, where, from which account, at which step', { timeout: 180000 }, async () => {
  const { context, page } = await openLab();
  await page.locator('.kelp-WalletStatus').click();
  await page.waitForFunction(() => /chain 31337/.test(document.querySelector('.kelp-WalletStatus')?.textContent ?? ''));
  const dialogOf = async id => {
    const d = page.locator(`.kelp-RequestDialog[data-request-id="${id}"]`);
    await d.waitFor({ timeout: 15000 });
    return d;
  };
  const approve = async (id, file) => {
    await page.screenshot({ path: path.join(OUT, file) });
    const pending = answerOf(id);
    await page.locator('.jp-Dialog button.kelp-approve').click();
    const done = await pending;
    assert.equal(done.state, 'answered', JSON.stringify(done));
    return done;
  };
  const requester = 'kelp kernel for notebook publish.ipynb';
  const network = 'kelp devnet (chain 31337)';

  // A plain transfer, as kelp's BrowserSigner describes it: From / To / Amount, the amount once.
  const idT = await make({
    kind: 'eth_sendTransaction',
    params: [{ from: ACCOUNT0, to: ACCOUNT1, value: ethers.toQuantity(ethers.parseEther('0.5')) }],
    summary: { title: `Send 0.5 ETH to ${ACCOUNT1}`, requester, network, from: ACCOUNT0, method: 'transfer ETH', value: '0.5 ETH' },
    chain_id: 31337, expires_in: 120
  });
  const dT = await dialogOf(idT);
  assert.equal(await dT.locator('.kelp-Headline').innerText(), `Send 0.5 ETH to ${ACCOUNT1}`);
  assert.equal(await dT.locator('.kelp-Requester').innerText(),
    `Asked by ${requester}. Approve opens your wallet, which signs; your key never leaves it.`);
  assert.equal(await dT.locator('.kelp-Summary-from').innerText(), ACCOUNT0);
  assert.equal(await dT.locator('.kelp-Summary-to').innerText(), ACCOUNT1);
  assert.equal(await dT.locator('.kelp-Summary-amount').innerText(), '0.5 ETH');
  const textT = await dT.innerText();
  assert.equal(textT.split('0.5 ETH').length - 1, 2, `the amount shows once besides the headline:\n${textT}`);
  assert.ok(!/Contract|Arguments|USD|\$/.test(textT), `a transfer is no contract call:\n${textT}`);
  assert.equal(await dT.locator('.kelp-NetworkChange').count(), 0, 'the wallet already is on chain 31337');
  await approve(idT, 'dialog-transfer.png');

  // A contract call, decoded, at step 1 of 4 of a publish; the wallet is on chain 31337 but the
  // request is for chain 8996: the switch (and the add) is stated before Approve.
  const addChain = { chainId: '0x2324', chainName: 'kelp devnet', rpcUrls: ['http://127.0.0.1:18545'],
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 } };
  const idC = await make({
    kind: 'eth_sendTransaction',
    params: [{ from: ACCOUNT0, to: ACCOUNT1, value: '0x0', data: '0x4ae8f1a2' + '00'.repeat(32) }],
    summary: {
      title: `Call ERC721Factory.createNftWithErc20 at ${ACCOUNT1}`, requester, step: 'step 1 of 4',
      network: 'devnet (chain 8996)', from: ACCOUNT0, contract: `ERC721Factory (${ACCOUNT1})`,
      method: 'createNftWithErc20', args: { name: 'Wallet table', symbol: 'KELP-1', cap: '1000 DT' }
    },
    chain_id: 8996, add_chain: addChain, expires_in: 120
  });
  const dC = await dialogOf(idC);
  assert.match(await page.locator('.jp-Dialog-header').innerText(), /Send a transaction \(step 1 of 4\)/);
  assert.equal(await dC.locator('.kelp-Step').innerText(), 'This is step 1 of 4 of one operation. 3 more approvals will follow.');
  assert.equal(await dC.locator('.kelp-NetworkChange').innerText(),
    'Approve first asks your wallet to switch from chain 31337 to kelp devnet (chain 8996). If your wallet does not know ' +
    'kelp devnet (chain 8996), it is asked to add it with RPC http://127.0.0.1:18545 first.');
  assert.equal(await dC.locator('.kelp-Summary-contract').innerText(), `ERC721Factory (${ACCOUNT1})`);
  assert.equal(await dC.locator('.kelp-Summary-method').innerText(), 'createNftWithErc20');
  assert.equal(await dC.locator('.kelp-Summary-arguments').innerText(), 'name: Wallet table\nsymbol: KELP-1\ncap: 1000 DT');
  await until('gas row', 15000, async () => (await dC.getAttribute('data-gas')) === 'unknown');
  assert.equal(await dC.locator('.kelp-Summary-gas').innerText(), 'estimated by your wallet after the network switch');
  await page.screenshot({ path: path.join(OUT, 'dialog-contract-call-switch.png') });
  const pendingC = answerOf(idC);
  await page.locator('.jp-Dialog button.kelp-reject').click();
  assert.deepEqual((await pendingC).error, { code: 4001, message: 'rejected in wallet' });

  // An Ocean node request: what it authorises, in words; the hash only under Details.
  const hash = ethers.keccak256(ethers.toUtf8Bytes(`${ACCOUNT0}3encrypt`));
  const idN = await make({
    kind: 'personal_sign', params: [hash, ACCOUNT0],
    summary: { title: 'Authorise Ocean node http://127.0.0.1:8001 to encrypt (nonce 3)', requester, step: 'step 2 of 4',
      network, from: ACCOUNT0, method: 'sign node request `encrypt`',
      detail: `signs keccak256(account + nonce + command) = ${hash}` },
    expires_in: 120
  });
  const dN = await dialogOf(idN);
  assert.equal(await dN.locator('.kelp-Headline').innerText(), 'Authorise Ocean node http://127.0.0.1:8001 to encrypt (nonce 3)');
  assert.match(await page.locator('.jp-Dialog-header').innerText(), /Authorise an Ocean node request \(step 2 of 4\)/);
  assert.equal(await dN.locator('.kelp-Step').innerText(), 'This is step 2 of 4 of one operation. 2 more approvals will follow.');
  const visibleN = await dN.innerText();
  assert.ok(!visibleN.includes(hash), `the hash is hidden under Details until asked for:\n${visibleN}`);
  await dN.locator('.kelp-Detail summary').click();
  assert.ok((await dN.locator('.kelp-Detail').innerText()).includes(hash));
  const doneN = await approve(idN, 'dialog-node-request.png');
  assert.equal(ethers.verifyMessage(ethers.getBytes(hash), doneN.result), ACCOUNT0);

  // Typed data: its domain and fields.
  const typed = {
    types: { EIP712Domain: [{ name: 'name', type: 'string' }, { name: 'chainId', type: 'uint256' }],
      Order: [{ name: 'asset', type: 'string' }, { name: 'amount', type: 'uint256' }] },
    primaryType: 'Order', domain: { name: 'kelp test', chainId: 31337 }, message: { asset: 'did:op:1234', amount: '7' }
  };
  const idY = await make({
    kind: 'eth_signTypedData_v4', params: [ACCOUNT0, JSON.stringify(typed)],
    summary: { title: 'Sign Order for kelp test', requester, network, from: ACCOUNT0, method: 'sign typed data (EIP-712)',
      contract: 'name kelp test, chainId 31337', args: { type: 'Order', asset: 'did:op:1234', amount: '7' } },
    expires_in: 120
  });
  const dY = await dialogOf(idY);
  assert.equal(await dY.locator('.kelp-Headline').innerText(), 'Sign Order for kelp test');
  assert.equal(await dY.locator('.kelp-Summary-domain').innerText(), 'name kelp test, chainId 31337');
  assert.equal(await dY.locator('.kelp-Summary-fields').innerText(), 'type: Order\nasset: did:op:1234\namount: 7');
  await approve(idY, 'dialog-typed-data.png');

  // A network switch on its own: stated in the headline and the switch line.
  const idS = await make({ kind: 'wallet_switchEthereumChain', params: [{ chainId: '0x2324' }], add_chain: addChain, expires_in: 120 });
  const dS = await dialogOf(idS);
  assert.equal(await dS.locator('.kelp-Headline').innerText(), 'Switch your wallet to chain 8996');
  assert.match(await dS.locator('.kelp-NetworkChange').innerText(), /^Approve first asks your wallet to switch from chain 31337 to kelp devnet \(chain 8996\)\./);
  await page.screenshot({ path: path.join(OUT, 'dialog-network-switch.png') });
  const pendingS = answerOf(idS);
  await page.locator('.jp-Dialog button.kelp-reject').click();
  assert.equal((await pendingS).error.code, 4001);

  // The wallet answered every request at once: no "Waiting for your wallet…" is left spinning,
  // and the outcomes were shown.
  await page.locator('.Toastify__toast', { hasText: 'Done: answer sent to the kernel.' }).first().waitFor({ timeout: 10000 });
  await until('no waiting notification', 10000, async () =>
    (await page.locator('.Toastify__toast', { hasText: 'Waiting for your wallet' }).count()) === 0);
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
