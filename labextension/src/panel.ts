// The kelp side panel (left area): the wallet (account, network, ETH/OCEAN balances, switching the
// network), my assets on that network (name, DID, price, orders; Copy DID / Open / Get), C2D jobs
// (live status while any runs, logs on demand) and the IPFS store (pins, sizes, gateway links).
// Everything is read through the server routes (panelapi.ts → `kelp … --json`), asynchronously; a
// section that fails shows its one error line and the others still render. Text from the server is
// always set as textContent, never as HTML.
import { Clipboard, Dialog, Notification, showDialog, showErrorMessage } from '@jupyterlab/apputils';
import { LabIcon } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';
import { IAsset, IJob, IPin, PanelClient } from './panelapi';
import { addChainParams, IDevnet } from './statusbar';
import { Wallet } from './wallet';

/** Chain ids of the Ocean networks kelp knows by name (the panel's network choices). */
export const NETWORK_CHAINS: { [name: string]: number } = {
  devnet: 8996,
  mainnet: 1,
  sepolia: 11155111,
  polygon: 137,
  optimism: 10,
  optimism_sepolia: 11155420,
  base: 8453,
  oasis_sapphire: 23294,
  oasis_sapphire_testnet: 23295
};

export const kelpIcon = new LabIcon({
  name: 'kelp-labextension:kelp',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path class="jp-icon3" fill="#616161" ' +
    'd="M12 22c-.6 0-1-.4-1-1v-5.2C8.2 15 6 12.4 6 9.3 6 6 8.7 2 12 2s6 4 6 7.3c0 3.1-2.2 5.7-5 6.5V21c0 .6-.4 1-1 1zm0-18c-2 ' +
    '0-4 3-4 5.3 0 2.2 1.8 4 4 4s4-1.8 4-4C16 7 14 4 12 4z"/></svg>'
});

/** What the panel needs from the extension: its settings, read live. */
export interface IPanelOptions {
  client: PanelClient;
  wallet: Wallet;
  devnet: () => IDevnet;
  network: () => string;
  setNetwork: (name: string) => Promise<void>;
  jobsRefreshSeconds: () => number;
}

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: { [key: string]: string } = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') {
      node.className = v;
    } else {
      node.setAttribute(k, v);
    }
  }
  node.append(...children);
  return node;
}

function button(label: string, onClick: () => void | Promise<void>, title = ''): HTMLButtonElement {
  const b = el('button', { class: 'jp-Button jp-mod-styled jp-mod-reject kelp-Panel-button', title }, label);
  b.onclick = () => void onClick();
  return b;
}

export function shortHex(value: string, head = 10, tail = 6): string {
  return value.length > head + tail + 1 ? `${value.slice(0, head)}…${tail ? value.slice(-tail) : ''}` : value;
}

/** A job input for display: a DID shortened, a path by its file name. */
export function shortSource(value: string): string {
  return value.startsWith('did:') ? shortHex(value, 14, 4) : (value.split('/').pop() ?? value);
}

/** Bytes as B/KiB/MiB/GiB with one decimal. */
export function formatSize(bytes: number | undefined): string {
  if (bytes === undefined || bytes === null) {
    return '?';
  }
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}

/** A decimal balance cut to 4 decimals for the narrow panel (the exact value is its tooltip). */
export function shortBalance(value: string | undefined): string {
  if (!value) {
    return '?';
  }
  const [whole, frac = ''] = value.split('.');
  const cut = frac.slice(0, 4).replace(/0+$/, '');
  return cut ? `${whole}.${cut}` : whole;
}

function priceText(asset: IAsset): string {
  if (!asset.prices || asset.prices.length === 0) {
    return '—';
  }
  return asset.prices.map(p => (p.type === 'dispenser' ? 'free' : `${p.price} OCEAN`)).join(', ');
}

export function errorLine(err: unknown): string {
  return (err as any)?.message ?? String(err);
}

/**
 * Run `work` behind an in-progress notification that always ends: `done(result)` as a success; on a
 * failure the notification says so and the whole error line opens in a dialog titled `failed` (Lab
 * cuts a notification's text at 140 characters, and kelp's advice is at the end of the line).
 * Resolves to the result or null.
 */
export async function withProgress<T>(
  pending: string,
  work: () => Promise<T>,
  done: (result: T) => string,
  failed: string
): Promise<T | null> {
  const id = Notification.emit(pending, 'in-progress', { autoClose: false });
  try {
    const result = await work();
    Notification.update({ id, message: done(result), type: 'success', autoClose: 8000 });
    return result;
  } catch (err) {
    Notification.update({ id, message: `${failed}: failed`, type: 'error', autoClose: 8000 });
    void showErrorMessage(failed, errorLine(err));
    return null;
  }
}

export class KelpPanel extends Widget {
  constructor(options: IPanelOptions) {
    super();
    this._opts = options;
    this.id = 'kelp-panel';
    this.title.icon = kelpIcon;
    this.title.caption = 'kelp: wallet, assets, compute jobs, IPFS store';
    this.addClass('kelp-Panel');
    const head = el('div', { class: 'kelp-Panel-head' }, el('h2', {}, 'kelp'), button('Refresh', () => this.refresh()));
    this._wallet = el('section', { class: 'kelp-Panel-section kelp-Panel-wallet' });
    this._assets = el('section', { class: 'kelp-Panel-section kelp-Panel-assets' });
    this._jobs = el('section', { class: 'kelp-Panel-section kelp-Panel-jobs' });
    this._ipfs = el('section', { class: 'kelp-Panel-section kelp-Panel-ipfs' });
    this.node.append(head, this._wallet, this._assets, this._jobs, this._ipfs);
    options.wallet.changed.connect(() => {
      if (this.isVisible) {
        void this.refresh();
      }
    });
  }

  /** Re-read every section (each on its own; one failing does not stop the others). */
  async refresh(): Promise<void> {
    await Promise.all([this._renderWallet(), this._renderAssets(), this.refreshJobs(), this.refreshIpfs()]);
  }

  async refreshJobs(): Promise<void> {
    const section = this._jobs;
    const turn = this._turn('jobs');
    try {
      const { jobs } = await this._opts.client.jobs();
      if (!turn()) {
        return;
      }
      const rows = jobs.map(job => this._jobRow(job));
      section.replaceChildren(el('h3', {}, `C2D jobs (${jobs.length})`), ...(rows.length ? rows : [el('p', {}, 'No jobs yet.')]));
      // A local job's log is re-read with the list; a node's job only on Logs (each read of it is a
      // request the wallet authorises).
      const open = jobs.find(j => j.jobId === this._logJob);
      if (open && !open.remote) {
        await this._showLogs(open.jobId);
      }
      this._scheduleJobs(jobs.some(j => !j.finished));
    } catch (err) {
      if (turn()) {
        section.replaceChildren(el('h3', {}, 'C2D jobs'), el('p', { class: 'kelp-Panel-error' }, errorLine(err)));
      }
    }
  }

  async refreshIpfs(): Promise<void> {
    const section = this._ipfs;
    const turn = this._turn('ipfs');
    try {
      const store = await this._opts.client.ipfs();
      if (!turn()) {
        return;
      }
      const rows = store.pins.map(pin => this._pinRow(pin, store.gateway));
      section.replaceChildren(
        el('h3', {}, `IPFS store (${store.pins.length} ${store.pins.length === 1 ? 'pin' : 'pins'})`),
        ...(rows.length ? rows : [el('p', {}, 'Nothing pinned yet: right-click a file → Add to IPFS.')])
      );
    } catch (err) {
      if (turn()) {
        section.replaceChildren(el('h3', {}, 'IPFS store'), el('p', { class: 'kelp-Panel-error' }, errorLine(err)));
      }
    }
  }

  protected onAfterShow(): void {
    void this.refresh();
  }

  protected onAfterHide(): void {
    this._scheduleJobs(false);
  }

  private async _renderWallet(): Promise<void> {
    const section = this._wallet;
    const network = this._opts.network();
    const turn = this._turn('wallet');
    const select = el('select', { class: 'kelp-Panel-network', title: 'The network the panel (and its commands) use' });
    for (const name of Object.keys(NETWORK_CHAINS)) {
      const opt = el('option', { value: name }, `${name} (chain ${NETWORK_CHAINS[name]})`);
      opt.selected = name === network;
      select.append(opt);
    }
    select.onchange = () => void this._opts.setNetwork(select.value).then(() => this.refresh());
    const browser = this._opts.wallet;
    const actions = el('div', { class: 'kelp-Panel-actions' });
    if (!browser.account) {
      actions.append(button('Connect wallet', () => browser.connect().catch(err => this._fail('Connect', err))));
    } else if (parseInt(browser.chainId ?? '0x0', 16) !== NETWORK_CHAINS[network]) {
      actions.append(button(`Switch wallet to ${network}`, () => this._switchWallet(network)));
    }
    const rows = el('table', { class: 'kelp-Panel-table' });
    const row = (k: string, v: string, cls = '', title = '') =>
      rows.append(el('tr', { class: cls }, el('th', {}, k), el('td', { title }, v)));
    section.replaceChildren(el('h3', {}, 'Wallet'), el('label', {}, 'Network ', select), rows, actions);
    if (browser.account) {
      row('Browser wallet', `${browser.name ?? 'wallet'} ${shortHex(browser.account, 6, 4)} · chain ${parseInt(browser.chainId ?? '0', 16)}`);
    }
    try {
      const w = await this._opts.client.wallet(network);
      if (!turn()) {
        return;
      }
      if (w.devnet === 'down') {
        section.append(el('p', { class: 'kelp-Panel-note' }, w.message ?? 'the devnet is not running'));
        return;
      }
      const signer = browser.account && w.address?.toLowerCase() === browser.account.toLowerCase() ? 'browser wallet' : 'local key';
      row('Account', `${w.address ?? '?'} (${signer})`, 'kelp-Panel-account');
      row('ETH', shortBalance(w.eth), 'kelp-Panel-eth', w.eth ?? '');
      for (const t of w.tokens ?? []) {
        row(t.symbol, shortBalance(t.balance), `kelp-Panel-token-${t.symbol}`, t.balance);
      }
    } catch (err) {
      if (turn()) {
        section.append(el('p', { class: 'kelp-Panel-error' }, errorLine(err)));
      }
    }
  }

  private async _switchWallet(network: string): Promise<void> {
    const chain = NETWORK_CHAINS[network];
    const devnet = this._opts.devnet();
    const add = network === 'devnet' ? addChainParams(devnet) : undefined;
    const chainId = network === 'devnet' ? devnet.chainId : `0x${chain.toString(16)}`;
    try {
      await this._opts.wallet.switchChain(chainId, add);
    } catch (err) {
      this._fail('Switch network', err);
    }
  }

  private async _renderAssets(): Promise<void> {
    const section = this._assets;
    const network = this._opts.network();
    const turn = this._turn('assets');
    try {
      const listing = await this._opts.client.assets(network);
      if (!turn()) {
        return;
      }
      const head = el('h3', {}, `My assets on ${network} (${listing.assets.length})`);
      if (listing.devnet === 'down') {
        section.replaceChildren(head, el('p', { class: 'kelp-Panel-note' }, listing.message ?? ''));
        return;
      }
      const rows = listing.assets.map(a => this._assetRow(a, network));
      section.replaceChildren(head, ...(rows.length ? rows : [el('p', {}, 'None yet: right-click a file → Publish to Ocean…')]));
    } catch (err) {
      if (turn()) {
        section.replaceChildren(el('h3', {}, `My assets on ${network}`), el('p', { class: 'kelp-Panel-error' }, errorLine(err)));
      }
    }
  }

  private _assetRow(asset: IAsset, network: string): HTMLElement {
    const orders = asset.orders === undefined ? '?' : String(asset.orders);
    return el(
      'div',
      { class: 'kelp-Panel-item kelp-Panel-asset', 'data-did': asset.did },
      el('div', { class: 'kelp-Panel-name' }, `${asset.name} (${asset.type})`),
      el('div', { class: 'kelp-Panel-did', title: asset.did }, shortHex(asset.did, 14, 6)),
      el('div', { class: 'kelp-Panel-meta' }, `price: ${priceText(asset)} · orders: ${orders}`),
      el(
        'div',
        { class: 'kelp-Panel-actions' },
        button('Copy DID', () => {
          Clipboard.copyToSystem(asset.did);
          Notification.info(`Copied ${asset.did}`, { autoClose: 3000 });
        }),
        button('Open', () => this._openAsset(asset, network), 'Show the DDO the node serves'),
        button('Get', () => this._getAsset(asset, network), 'Order with the browser wallet and download into this folder')
      )
    );
  }

  private async _openAsset(asset: IAsset, network: string): Promise<void> {
    try {
      const ddo = await this._opts.client.asset(asset.did, network);
      const body = new Widget({ node: el('pre', { class: 'kelp-Panel-ddo' }, JSON.stringify(ddo, null, 2)) });
      await showDialog({ title: `${asset.name}: ${asset.did}`, body, buttons: [Dialog.okButton({ label: 'Close' })] });
    } catch (err) {
      this._fail('Open', err);
    }
  }

  private async _getAsset(asset: IAsset, network: string): Promise<void> {
    await withProgress(
      `Getting ${asset.name}: approve the order in your wallet…`,
      () => this._opts.client.get(asset.did, network),
      got => {
        void this.refresh(); // its orders count grew
        return `Downloaded ${asset.name} to ${got.lab_path ?? got.path} (${got.size} bytes, checked against its CID)`;
      },
      `Get ${asset.name}`
    );
  }

  private _jobRow(job: IJob): HTMLElement {
    const inputs = (job.datasets ?? []).map(d => shortSource(d.source ?? d.id ?? '?')).join(', ');
    const algo = shortSource(job.algorithm?.source ?? '?');
    const where = job.remote ? 'on its Ocean node' : 'local sandbox';
    const state = job.finished ? (job.ok ? 'finished' : 'failed') : 'running';
    return el(
      'div',
      { class: `kelp-Panel-item kelp-Panel-job kelp-mod-${state}`, 'data-job': job.jobId },
      el('div', { class: 'kelp-Panel-name' }, `${shortHex(job.jobId, 8, 0)} · ${job.statusText}`),
      el('div', { class: 'kelp-Panel-meta' }, `${algo} on ${inputs} · ${where}`),
      ...(job.failure ? [el('div', { class: 'kelp-Panel-error' }, job.failure)] : []),
      el(
        'div',
        { class: 'kelp-Panel-actions' },
        button('Logs', () => this._showLogs(job.jobId), job.remote ? 'The node asks your wallet to authorise reading the log' : '')
      ),
      el('pre', { class: 'kelp-Panel-log', hidden: '' })
    );
  }

  private async _showLogs(jobId: string): Promise<void> {
    this._logJob = jobId;
    const pre = this._jobs.querySelector(`[data-job="${CSS.escape(jobId)}"] .kelp-Panel-log`) as HTMLElement | null;
    if (!pre) {
      return;
    }
    try {
      const { log } = await this._opts.client.logs(jobId);
      pre.textContent = log || '(no log yet)';
    } catch (err) {
      pre.textContent = errorLine(err);
    }
    pre.hidden = false;
  }

  private _pinRow(pin: IPin, gateway: string): HTMLElement {
    const link = el('a', { href: `${gateway}/ipfs/${pin.cid}`, target: '_blank', rel: 'noopener noreferrer' }, pin.cid);
    const label = pin.name ? `${pin.name} · ` : '';
    return el(
      'div',
      { class: 'kelp-Panel-item kelp-Panel-pin', 'data-cid': pin.cid },
      el('div', { class: 'kelp-Panel-cid' }, link),
      el('div', { class: 'kelp-Panel-meta' }, `${label}${pin.kind ?? ''} ${formatSize(pin.size)}`)
    );
  }

  /** Poll the jobs (and the open log) while any job runs and the panel is shown. */
  private _scheduleJobs(running: boolean): void {
    window.clearTimeout(this._timer);
    if (running && this.isVisible) {
      this._timer = window.setTimeout(() => void this.refreshJobs(), Math.max(1, this._opts.jobsRefreshSeconds()) * 1000);
    }
  }

  /** Start a read of `section`; the returned check says whether it is still the latest one (an
   * older read that answers late must not overwrite a newer one, e.g. after the wallet changed). */
  private _turn(section: string): () => boolean {
    const mine = (this._reads[section] = (this._reads[section] ?? 0) + 1);
    return () => this._reads[section] === mine;
  }

  private _fail(what: string, err: unknown): void {
    Notification.error(`${what}: ${errorLine(err)}`, { autoClose: 8000 });
  }

  private _opts: IPanelOptions;
  private _wallet: HTMLElement;
  private _assets: HTMLElement;
  private _jobs: HTMLElement;
  private _ipfs: HTMLElement;
  private _logJob: string | null = null;
  private _timer = 0;
  private _reads: { [section: string]: number } = {};
}
