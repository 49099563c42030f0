// The request dialog: says in words what Approve does (the kernel's title: a transfer, a decoded
// contract call, an Ocean node request, typed data), who asks, which step of how many, any network
// switch the wallet will be asked for first, then the rows (network, from, to/contract, method,
// arguments, amount, gas) and lets the person approve (→ wallet call) or reject it.
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

/** `{name: value}` arguments as one `name: value` line each (other JSON as is). */
function showArgs(args: unknown): string {
  if (args && typeof args === 'object' && !Array.isArray(args)) {
    return Object.entries(args as { [k: string]: unknown })
      .map(([k, v]) => `${k}: ${show(v)}`)
      .join('\n');
  }
  return show(args);
}

function present(v: unknown): boolean {
  return v !== undefined && v !== null && v !== '' && !(typeof v === 'object' && !Object.keys(v as object).length);
}

/** A chain id (`0x…` or decimal) as a number, or null. */
function chainNumber(id: unknown): number | null {
  const n = typeof id === 'string' ? parseInt(id, id.startsWith('0x') ? 16 : 10) : typeof id === 'number' ? id : NaN;
  return Number.isFinite(n) ? n : null;
}

/**
 * What Approve does to the wallet's network, in words, before anything else happens; null when the
 * wallet already is on the request's chain (or the request names none).
 */
export function networkChange(req: IRelayRequest, walletChain: string | null): string | null {
  const target = req.kind === 'wallet_switchEthereumChain' ? req.params[0]?.chainId : req.chain_id;
  const want = chainNumber(target);
  if (want === null) {
    return null;
  }
  const have = chainNumber(walletChain);
  if (have === want) {
    return null;
  }
  const name = typeof req.add_chain?.chainName === 'string' ? `${req.add_chain.chainName} (chain ${want})` : `chain ${want}`;
  const from = have === null ? 'its current network' : `chain ${have}`;
  const urls = req.add_chain?.rpcUrls;
  const rpc = Array.isArray(urls) && urls.length ? ` with RPC ${String(urls[0])}` : '';
  const add = req.add_chain ? ` If your wallet does not know ${name}, it is asked to add it${rpc} first.` : '';
  return `Approve first asks your wallet to switch from ${from} to ${name}.${add}`;
}

/** Rows shown for a request: who, where, what, how much — each once. */
export function describe(req: IRelayRequest, walletAccount: string | null = null): [string, string][] {
  const rows: [string, string][] = [];
  const s = req.summary;
  const add = (label: string, v: unknown) => {
    if (present(v)) {
      rows.push([label, label === 'Arguments' || label === 'Fields' ? showArgs(v) : show(v)]);
    }
  };
  add('Network', s.network ?? (req.chain_id ? `chain ${chainNumber(req.chain_id)}` : undefined));
  add('From', s.from ?? (req.kind === 'personal_sign' ? req.params[1] : walletAccount));
  const p = req.params;
  if (req.kind === 'eth_sendTransaction' && p[0]) {
    const tx = p[0];
    const call = tx.data && tx.data !== '0x';
    if (call || present(s.contract)) {
      add('Contract', s.contract ?? tx.to ?? '(contract creation)');
      add('Method', s.method);
      add('Arguments', s.args);
      if (!present(s.contract) && call) {
        rows.push(['Call data', `${String(tx.data).slice(0, 10)}… (${(String(tx.data).length - 2) / 2} bytes)`]);
      }
      if (BigInt(tx.value ?? '0x0') !== BigInt(0)) {
        add('Amount', s.value ?? formatEther(tx.value));
      }
    } else {
      // A plain transfer: From / To / Amount, the amount once, as the wallet will send it.
      rows.push(['To', String(tx.to ?? '(contract creation)')]);
      rows.push(['Amount', formatEther(tx.value ?? '0x0')]);
    }
    if (tx.gas || s.gas) {
      rows.push(['Gas limit', tx.gas ? String(parseInt(tx.gas, 16)) : show(s.gas)]);
    }
  } else if (req.kind === 'personal_sign') {
    if (!present(s.detail)) {
      rows.push(['Message', decodeMessage(p[0]) ?? String(p[0])]);
    }
  } else if (req.kind === 'eth_signTypedData_v4') {
    const data = typeof p[1] === 'string' ? JSON.parse(p[1]) : p[1];
    add('Domain', s.contract ?? data?.domain?.name);
    add('Fields', s.args ?? { type: data?.primaryType, ...(data?.message ?? {}) });
  } else {
    add('Method', s.method);
    add('Arguments', s.args);
  }
  rows.push(['Expires', new Date(req.expires_at * 1000).toLocaleTimeString()]);
  return rows;
}

/** The sentence on top of a dialog: what Approve will do. */
export function headline(req: IRelayRequest): string {
  if (typeof req.summary.title === 'string' && req.summary.title) {
    return req.summary.title;
  }
  if (req.kind === 'eth_sendTransaction' && req.params[0]) {
    const tx = req.params[0];
    return tx.data && tx.data !== '0x' ? `Call ${tx.to ?? 'a new contract'}` : `Send ${formatEther(tx.value ?? '0x0')} to ${tx.to}`;
  }
  if (req.kind === 'wallet_switchEthereumChain' && req.params[0]) {
    return `Switch your wallet to chain ${chainNumber(req.params[0].chainId)}`;
  }
  return TITLES[req.kind] ?? req.kind;
}

/** Estimates the gas of a transaction request that carries no gas limit (null: cannot tell). */
export type GasEstimator = (req: IRelayRequest) => Promise<bigint | null>;

/** What the dialog knows of the wallet: its account and chain (null when not connected). */
export interface IWalletState {
  account: string | null;
  chainId: string | null;
}

function para(node: HTMLElement, cls: string, text: string): HTMLElement {
  const p = document.createElement('p');
  p.className = cls;
  p.textContent = text;
  node.appendChild(p);
  return p;
}

function body(req: IRelayRequest, waiting: number, wallet: IWalletState, estimate?: GasEstimator): Widget {
  const node = document.createElement('div');
  node.className = 'kelp-RequestDialog';
  node.dataset.requestId = req.id;
  const s = req.summary;
  para(node, 'kelp-Headline', headline(req));
  if (typeof s.step === 'string' && s.step) {
    const m = /^step (\d+) of (\d+)$/.exec(s.step);
    const left = m ? Number(m[2]) - Number(m[1]) : 0;
    const next = left > 0 ? ` ${left} more approval${left > 1 ? 's' : ''} will follow.` : ' This is the last approval.';
    para(node, 'kelp-Step', `This is ${s.step} of one operation.${m ? next : ''}`);
  }
  const who = typeof s.requester === 'string' && s.requester ? s.requester : 'A notebook kernel';
  para(node, 'kelp-Requester', `Asked by ${who}. Approve opens your wallet, which signs; your key never leaves it.`);
  const change = networkChange(req, wallet.chainId);
  if (change) {
    para(node, 'kelp-NetworkChange', change);
  }
  const table = document.createElement('table');
  table.className = 'kelp-Summary';
  for (const [label, value] of describe(req, wallet.account)) {
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
  if (tx && !tx.gas && !s.gas) {
    // Neither the kernel nor the tx names the gas: show what the wallet's network estimates.
    const row = table.insertRow(table.rows.length - 1);
    const th = document.createElement('th');
    th.textContent = 'Gas';
    row.appendChild(th);
    const td = row.insertCell();
    td.className = 'kelp-Summary-gas';
    td.textContent = 'estimating…';
    const fill = (gas: bigint | null) => {
      td.textContent =
        gas !== null
          ? `≈ ${gas} (estimated; your wallet sets the limit)`
          : change
            ? 'estimated by your wallet after the network switch'
            : 'set by your wallet';
      node.dataset.gas = gas === null ? 'unknown' : String(gas);
    };
    (estimate ? estimate(req) : Promise.resolve(null)).then(fill, () => fill(null));
  }
  if (present(s.detail)) {
    const details = document.createElement('details');
    details.className = 'kelp-Detail';
    const sum = document.createElement('summary');
    sum.textContent = 'Details';
    details.appendChild(sum);
    const pre = document.createElement('div');
    pre.textContent = show(s.detail);
    details.appendChild(pre);
    node.appendChild(details);
  }
  if (waiting > 0) {
    para(node, 'kelp-Waiting', `${waiting} more request(s) waiting after this one.`);
  }
  return new Widget({ node });
}

/** A dialog for `req`; `launch()` resolves with button.accept === true for Approve. */
export function requestDialog(
  req: IRelayRequest,
  waiting: number,
  wallet: IWalletState,
  estimate?: GasEstimator
): Dialog<unknown> {
  const step = typeof req.summary.step === 'string' && req.summary.step ? ` (${req.summary.step})` : '';
  const kind = req.kind === 'personal_sign' && present(req.summary.detail) ? 'Authorise an Ocean node request' : TITLES[req.kind] ?? req.kind;
  return new Dialog({
    title: `kelp — ${kind}${step}`,
    body: body(req, waiting, wallet, estimate),
    buttons: [
      Dialog.cancelButton({ label: 'Reject', className: 'kelp-reject' }),
      Dialog.okButton({ label: 'Approve', className: 'kelp-approve' })
    ],
    hasClose: false,
    defaultButton: 0 // Enter rejects: approving takes a deliberate click
  });
}
