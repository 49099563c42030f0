// kelp standalone signing page: for frontends without the JupyterLab extension (VS Code, headless runs).
// Finds the wallet (EIP-6963, else window.ethereum), long-polls the relay's pending requests, shows each
// decoded summary, and on Approve makes the EIP-1193 call and posts the result (or the error) back.
'use strict';
(function () {
  const api = document.querySelector('meta[name="kelp-relay-api"]').content;
  const xsrf = document.querySelector('meta[name="kelp-xsrf"]').content;
  const providers = [];
  let wallet = null;
  let account = null;
  const shown = new Map();

  window.addEventListener('eip6963:announceProvider', ev => {
    if (ev.detail && ev.detail.provider) providers.push(ev.detail);
  });
  window.dispatchEvent(new Event('eip6963:requestProvider'));

  async function relay(path, init) {
    const headers = { 'X-XSRFToken': xsrf, 'Content-Type': 'application/json' };
    const resp = await fetch(api + '/' + path, { credentials: 'same-origin', ...init, headers });
    const body = await resp.json().catch(() => ({}));
    if (!resp.ok) throw new Error(body.error || resp.status + ' ' + resp.statusText);
    return body;
  }

  function pickWallet() {
    if (providers.length) return { name: providers[0].info.name, provider: providers[0].provider };
    if (window.ethereum) return { name: 'window.ethereum', provider: window.ethereum };
    return null;
  }

  async function connect() {
    wallet = pickWallet();
    if (!wallet) throw new Error('no wallet found in this browser (install MetaMask or another EIP-1193 wallet)');
    const accounts = await wallet.provider.request({ method: 'eth_requestAccounts' });
    account = accounts[0];
    const chainId = await wallet.provider.request({ method: 'eth_chainId' });
    document.getElementById('wallet').textContent = wallet.name + ': ' + account + ' on chain ' + parseInt(chainId, 16);
    await relay('wallet', { method: 'PUT', body: JSON.stringify({ account, chain_id: chainId, name: wallet.name }) });
  }

  async function ensureChain(req) {
    if (!req.chain_id) return;
    const current = await wallet.provider.request({ method: 'eth_chainId' });
    if (parseInt(current, 16) === parseInt(req.chain_id, 16)) return;
    await switchChain(req.chain_id, req.add_chain);
  }

  async function switchChain(chainId, addChain) {
    try {
      await wallet.provider.request({ method: 'wallet_switchEthereumChain', params: [{ chainId }] });
    } catch (err) {
      if (err.code !== 4902 || !addChain) throw err;
      await wallet.provider.request({ method: 'wallet_addEthereumChain', params: [addChain] });
      await wallet.provider.request({ method: 'wallet_switchEthereumChain', params: [{ chainId }] });
    }
  }

  async function callWallet(req) {
    if (!wallet) await connect();
    if (req.kind === 'wallet_switchEthereumChain') {
      await switchChain(req.params[0].chainId, req.add_chain);
      return null;
    }
    await ensureChain(req);
    const params = req.params.slice();
    if (req.kind === 'eth_sendTransaction') params[0] = { from: account, ...params[0] };
    if (req.kind === 'eth_signTypedData_v4' && typeof params[1] !== 'string') params[1] = JSON.stringify(params[1]);
    return wallet.provider.request({ method: req.kind, params });
  }

  function walletError(err) {
    if (err && err.code === 4001) return { code: 4001, message: 'rejected in wallet' };
    return { code: (err && typeof err.code === 'number') ? err.code : -32603, message: String((err && err.message) || err) };
  }

  function render(req) {
    const box = document.createElement('div');
    box.className = 'kelp-request';
    const table = document.createElement('table');
    const rows = [['request', req.kind]];
    for (const key of ['network', 'contract', 'method', 'args', 'value', 'gas']) {
      const v = req.summary[key];
      if (v !== undefined && v !== null) rows.push([key, typeof v === 'string' ? v : JSON.stringify(v)]);
    }
    if (req.kind === 'eth_sendTransaction' && req.params[0]) {
      // What the wallet will really send, decoded from the transaction itself.
      const tx = req.params[0];
      const wei = BigInt(tx.value || '0x0');
      const unit = BigInt('1000000000000000000');
      const frac = (wei % unit).toString().padStart(18, '0').replace(/0+$/, '');
      rows.push(['to', tx.to || '(contract creation)'], ['sends', `${wei / unit}${frac ? '.' + frac : ''} ETH`]);
    }
    rows.push(['expires', new Date(req.expires_at * 1000).toLocaleTimeString()]);
    for (const [k, v] of rows) {
      const tr = table.insertRow();
      const th = document.createElement('th');
      th.textContent = k;
      tr.appendChild(th);
      tr.insertCell().textContent = v;
    }
    const approve = document.createElement('button');
    approve.textContent = 'Approve';
    approve.className = 'kelp-approve';
    const reject = document.createElement('button');
    reject.textContent = 'Reject';
    reject.className = 'kelp-reject';
    const outcome = document.createElement('div');
    outcome.className = 'kelp-outcome';
    const done = async answer => {
      approve.disabled = reject.disabled = true;
      try {
        await relay('requests/' + req.id + '/answer', { method: 'POST', body: JSON.stringify(answer) });
        outcome.textContent = answer.error ? 'Sent: ' + answer.error.message : 'Done: ' + JSON.stringify(answer.result);
      } catch (err) {
        outcome.textContent = 'Could not post the answer: ' + err.message;
      }
    };
    approve.onclick = async () => {
      approve.disabled = reject.disabled = true;
      outcome.textContent = 'Waiting for the wallet…';
      let answer;
      try {
        answer = { result: await callWallet(req) };
      } catch (err) {
        answer = { error: walletError(err) };
      }
      await done(answer);
    };
    reject.onclick = () => done({ error: { code: 4001, message: 'rejected in wallet' } });
    box.append(table, approve, reject, outcome);
    return box;
  }

  async function poll() {
    let revision = -1;
    const list = document.getElementById('requests');
    for (;;) {
      try {
        const body = await relay('requests?wait=25&after=' + revision);
        revision = body.revision;
        if (!shown.size) {
          list.textContent = body.requests.length ? '' : 'No pending requests. New ones appear here.';
        }
        for (const req of body.requests) {
          if (!shown.has(req.id)) {
            const box = render(req);
            shown.set(req.id, box);
            list.appendChild(box);
          }
        }
      } catch (err) {
        list.prepend(Object.assign(document.createElement('p'), { textContent: 'Relay unreachable: ' + err.message }));
        await new Promise(r => setTimeout(r, 3000));
      }
    }
  }

  document.getElementById('connect').onclick = () =>
    connect().catch(err => { document.getElementById('wallet').textContent = err.message; });
  poll();
})();
