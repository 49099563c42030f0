// The request dialog: shows one pending request's decoded summary (network, contract, method,
// arguments, value, gas) and lets the person approve (→ wallet call) or reject it.
import { Dialog } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';
import { IRelayRequest } from './wallet';

const TITLES: { [kind: string]: string } = {
  eth_sendTransaction: 'Send a transaction',
  personal_sign: 'Sign a message',
  eth_signTypedData_v4: 'Sign typed data (EIP-712)',
  wallet_switchEthereumChain: 'Switch network',
  eth_requestAccounts: 'Share your account'
};

const SUMMARY_ROWS: [string, string][] = [
  ['network', 'Network'],
  ['contract', 'Contract'],
  ['method', 'Method'],
  ['args', 'Arguments'],
  ['value', 'Value'],
  ['gas', 'Gas']
];

function show(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value, null, 1);
}

/** The UTF-8 text of a 0x-hex personal_sign message, or null when it is not printable text. */
export function decodeMessage(hex: unknown): string | null {
  if (typeof hex !== 'string' || !/^0x([0-9a-fA-F]{2})*$/.test(hex)) {
    return null;
  }
  const bytes = new Uint8Array((hex.length - 2) / 2);
  for (let i = 0; i < bytes.length; i++) {
    bytes[i] = parseInt(hex.substr(2 + 2 * i, 2), 16);
  }
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return /^[\P{C}\n\t]*$/u.test(text) ? text : null;
  } catch {
    return null;
  }
}

/** A 0x wei quantity as decimal ether, exactly (no float rounding). */
export function formatEther(hex: unknown): string {
  let wei: bigint;
  try {
    wei = BigInt(typeof hex === 'string' || typeof hex === 'number' ? hex : 0);
  } catch {
    return String(hex);
  }
  const unit = BigInt('1000000000000000000');
  const frac = (wei % unit).toString().padStart(18, '0').replace(/0+$/, '');
  return `${wei / unit}${frac ? '.' + frac : ''} ETH`;
}

/** Rows shown for a request: the kernel's summary, then what the wallet will actually be given. */
export function describe(req: IRelayRequest): [string, string][] {
  const rows: [string, string][] = [];
  for (const [key, label] of SUMMARY_ROWS) {
    const v = req.summary[key];
    if (v !== undefined && v !== null && v !== '') {
      rows.push([label, show(v)]);
    }
  }
  const p = req.params;
  if (req.kind === 'eth_sendTransaction' && p[0]) {
    const tx = p[0];
    rows.push(['To', String(tx.to ?? '(contract creation)')]);
    rows.push(['Sends', formatEther(tx.value ?? '0x0')]);
    if (tx.gas) {
      rows.push(['Gas limit', String(parseInt(tx.gas, 16))]);
    }
    if (tx.data && tx.data !== '0x') {
      rows.push(['Call data', `${String(tx.data).slice(0, 10)}… (${(String(tx.data).length - 2) / 2} bytes)`]);
    }
  } else if (req.kind === 'personal_sign') {
    rows.push(['Message', decodeMessage(p[0]) ?? String(p[0])]);
  } else if (req.kind === 'eth_signTypedData_v4') {
    const data = typeof p[1] === 'string' ? JSON.parse(p[1]) : p[1];
    rows.push(['Typed data', `${data?.primaryType ?? '?'} for ${data?.domain?.name ?? '?'}`]);
  } else if (req.kind === 'wallet_switchEthereumChain' && p[0]) {
    rows.push(['Chain', `${parseInt(p[0].chainId, 16)} (${p[0].chainId})`]);
  }
  if (req.chain_id) {
    rows.push(['Chain id', `${parseInt(req.chain_id, 16)}`]);
  }
  rows.push(['Expires', new Date(req.expires_at * 1000).toLocaleTimeString()]);
  return rows;
}

/** Estimates the gas of a transaction request that carries no gas limit (null: cannot tell). */
export type GasEstimator = (req: IRelayRequest) => Promise<bigint | null>;

function body(req: IRelayRequest, waiting: number, estimate?: GasEstimator): Widget {
  const node = document.createElement('div');
  node.className = 'kelp-RequestDialog';
  node.dataset.requestId = req.id;
  const intro = document.createElement('p');
  intro.textContent =
    'A notebook kernel asks your wallet for this. Approve opens your wallet, which signs; your key never leaves it.';
  node.appendChild(intro);
  const table = document.createElement('table');
  table.className = 'kelp-Summary';
  for (const [label, value] of describe(req)) {
    const row = table.insertRow();
    const th = document.createElement('th');
    th.textContent = label;
    row.appendChild(th);
    const td = row.insertCell();
    td.textContent = value;
    td.className = `kelp-Summary-${label.toLowerCase().replace(/\s+/g, '-')}`;
  }
  node.appendChild(table);
  const tx = req.kind === 'eth_sendTransaction' ? req.params[0] : null;
  if (tx && !tx.gas && !req.summary.gas) {
    // Neither the kernel nor the tx names the gas: show what the wallet's network estimates.
    const row = table.insertRow(table.rows.length - 1);
    const th = document.createElement('th');
    th.textContent = 'Gas';
    row.appendChild(th);
    const td = row.insertCell();
    td.className = 'kelp-Summary-gas';
    td.textContent = 'estimating…';
    const fill = (gas: bigint | null) => {
      td.textContent = gas === null ? 'set by your wallet' : `≈ ${gas} (estimated; your wallet sets the limit)`;
      node.dataset.gas = gas === null ? 'unknown' : String(gas);
    };
    (estimate ? estimate(req) : Promise.resolve(null)).then(fill, () => fill(null));
  }
  if (waiting > 0) {
    const more = document.createElement('p');
    more.textContent = `${waiting} more request(s) waiting after this one.`;
    node.appendChild(more);
  }
  return new Widget({ node });
}

/** A dialog for `req`; `launch()` resolves with button.accept === true for Approve. */
export function requestDialog(req: IRelayRequest, waiting: number, estimate?: GasEstimator): Dialog<unknown> {
  return new Dialog({
    title: `kelp — ${TITLES[req.kind] ?? req.kind}`,
    body: body(req, waiting, estimate),
    buttons: [
      Dialog.cancelButton({ label: 'Reject', className: 'kelp-reject' }),
      Dialog.okButton({ label: 'Approve', className: 'kelp-approve' })
    ],
    hasClose: false,
    defaultButton: 0 // Enter rejects: approving takes a deliberate click
  });
}
