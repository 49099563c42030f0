// kelp-labextension: a status-bar wallet item and a dialog for each signing request a kernel puts on
// the relay. The relay is long-polled; each request is shown once, in order; Approve → the wallet
// call → result posted back; Reject (or a wallet refusal) → "rejected in wallet" posted back. It also
// makes Lab show a kelp result's HTML rather than its application/json (setting htmlBeforeJson).
// The kelp side panel (panel.ts, left area; the status item opens it) and the file-browser and
// palette commands (filecommands.ts) talk to the server's `kelp` through <base>/kelp/panel/….
import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { Dialog, ICommandPalette, Notification } from '@jupyterlab/apputils';
import { IFileBrowserFactory } from '@jupyterlab/filebrowser';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStatusBar } from '@jupyterlab/statusbar';
import { requestDialog } from './dialog';
import { addCommands } from './filecommands';
import { KelpPanel } from './panel';
import { PanelClient } from './panelapi';
import { RelayClient } from './relay';
import { addChainParams, IDevnet, WalletStatus } from './statusbar';
import { IRelayRequest, IWalletError, REJECTED, Wallet, walletError } from './wallet';

const PLUGIN_ID = 'kelp-labextension:plugin';
// How long a wallet may take before the page says it is waiting for it.
const WAITING_NOTE_DELAY_MS = 400;
// kelp's devnet (`kelp devnet up`): chain 8996, RPC on 127.0.0.1:8545 unless KELP_DEVNET_PORT says otherwise.
const DEFAULT_DEVNET: IDevnet = { chainId: '0x2324', chainName: 'kelp devnet', rpcUrl: 'http://127.0.0.1:8545' };

/** Shows pending requests one at a time and answers each exactly once. */
class RequestQueue {
  constructor(relay: RelayClient, wallet: Wallet, devnet: () => IDevnet) {
    this._relay = relay;
    this._wallet = wallet;
    this._devnet = devnet;
  }

  /** `wallet_addEthereumChain` parameters for the devnet of the settings, when `chainId` is it. */
  private _knownChain = (chainId: string): { [key: string]: unknown } | undefined => {
    const devnet = this._devnet();
    return parseInt(chainId, 16) === parseInt(devnet.chainId, 16) ? addChainParams(devnet) : undefined;
  };

  async run(): Promise<void> {
    let revision = -1;
    for (;;) {
      try {
        const listing = await this._relay.list(revision, 25);
        revision = listing.revision;
        this._pending = listing.requests;
        this._dropGone();
        void this._next();
      } catch (err) {
        console.warn('kelp relay unreachable, retrying in 5 s:', err);
        await new Promise(r => setTimeout(r, 5000));
      }
    }
  }

  private _dropGone(): void {
    // A request cancelled by the kernel (interrupt) or expired: close its dialog unanswered.
    if (this._open && !this._pending.some(r => r.id === this._openId)) {
      this._open.reject();
    }
  }

  private async _next(): Promise<void> {
    if (this._busy) {
      return;
    }
    const req = this._pending.find(r => !this._handled.has(r.id));
    if (!req) {
      return;
    }
    this._busy = true;
    this._handled.add(req.id);
    try {
      await this._handle(req);
    } finally {
      this._busy = false;
      this._open = null;
      void this._next();
    }
  }

  private async _handle(req: IRelayRequest): Promise<void> {
    const waiting = this._pending.filter(r => !this._handled.has(r.id)).length;
    const wallet = { account: this._wallet.account, chainId: this._wallet.chainId };
    const dialog = requestDialog(req, waiting, wallet, r => this._wallet.estimateGas(r));
    this._open = dialog;
    this._openId = req.id;
    const choice = await dialog.launch();
    this._open = null;
    if (!this._pending.some(r => r.id === req.id)) {
      return; // cancelled or expired while shown
    }
    if (!choice.button.accept) {
      await this._post(req, { error: REJECTED });
      return;
    }
    const answer = await this._withWaitingNote(req);
    await this._post(req, answer);
  }

  /**
   * Run the wallet call. "Waiting for your wallet…" appears only when the wallet takes a moment
   * (a toast created and updated in the same instant can be left spinning), and it always ends:
   * it is dismissed and the outcome shown as a notification of its own.
   */
  private async _withWaitingNote(req: IRelayRequest): Promise<{ result: unknown } | { error: IWalletError }> {
    let note: string | null = null;
    const timer = window.setTimeout(() => {
      note = Notification.emit('Waiting for your wallet…', 'in-progress', { autoClose: false });
    }, WAITING_NOTE_DELAY_MS);
    let answer: { result: unknown } | { error: IWalletError };
    try {
      answer = { result: await this._wallet.perform(req, this._knownChain) };
    } catch (err) {
      answer = { error: walletError(err) };
    } finally {
      window.clearTimeout(timer);
    }
    if (note !== null) {
      Notification.dismiss(note);
    }
    if ('result' in answer) {
      Notification.success('Done: answer sent to the kernel.', { autoClose: 4000 });
    } else {
      Notification.warning(`Not signed: ${answer.error.message}`, { autoClose: 4000 });
    }
    return answer;
  }

  private async _post(req: IRelayRequest, answer: any): Promise<void> {
    try {
      await this._relay.answer(req.id, answer);
    } catch (err: any) {
      Notification.error(`kelp: could not send the answer: ${err?.message ?? err}`, { autoClose: 6000 });
    }
  }

  private _relay: RelayClient;
  private _wallet: Wallet;
  private _devnet: () => IDevnet;
  private _pending: IRelayRequest[] = [];
  private _handled = new Set<string>();
  private _busy = false;
  private _open: Dialog<unknown> | null = null;
  private _openId = '';
}

/** Above text/plain (120), below HTML (50), Markdown, LaTeX, SVG and images (≤ 95): nbconvert's order. */
const JSON_RANK = 110;

/**
 * Rank `application/json` at `rank` (Lab's JSON viewer registers it at 0, first of all types; at
 * JSON_RANK a bundle's HTML shows instead). Only that one type is re-ranked; the viewer is unchanged.
 */
function rankJson(rendermime: IRenderMimeRegistry, rank: number): void {
  const json = 'application/json';
  const factory = rendermime.getFactory(json);
  if (factory && rendermime.getRank(json) !== rank) {
    rendermime.addFactory({ ...factory, mimeTypes: [json] }, rank);
  }
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'Approve notebook signing requests in your browser wallet through the kelp relay; the kelp panel and file-browser commands.',
  autoStart: true,
  optional: [IStatusBar, ISettingRegistry, IRenderMimeRegistry, IFileBrowserFactory, ICommandPalette],
  activate: (
    app: JupyterFrontEnd,
    statusBar: IStatusBar | null,
    registry: ISettingRegistry | null,
    rendermime: IRenderMimeRegistry | null,
    browsers: IFileBrowserFactory | null,
    palette: ICommandPalette | null
  ) => {
    const wallet = new Wallet();
    const relay = new RelayClient(app.serviceManager.serverSettings);
    let devnet = { ...DEFAULT_DEVNET };
    let htmlFirst = true;
    let network = 'devnet';
    let jobsRefresh = 3;
    let settingsLoaded: ISettingRegistry.ISettings | null = null;
    if (registry) {
      registry
        .load(PLUGIN_ID)
        .then(settings => {
          settingsLoaded = settings;
          const read = () => {
            devnet = { ...DEFAULT_DEVNET, ...(settings.composite.devnet as Partial<IDevnet>) };
            htmlFirst = settings.composite.htmlBeforeJson !== false;
            network = (settings.composite.network as string) || 'devnet';
            jobsRefresh = Number(settings.composite.jobsRefreshSeconds) || 3;
          };
          read();
          settings.changed.connect(read);
        })
        .catch(err => console.warn('kelp: settings not loaded, using defaults', err));
    }
    if (rendermime) {
      // Now, and again once every plugin (the JSON viewer's too) has registered its renderer;
      // a notebook copies the ranks when it opens. The setting applies from the next page load.
      rankJson(rendermime, htmlFirst ? JSON_RANK : 0);
      void app.started.then(() => rankJson(rendermime, htmlFirst ? JSON_RANK : 0));
    }
    wallet.changed.connect(() => {
      void relay.reportWallet(wallet.account, wallet.chainId, wallet.name).catch(() => undefined);
    });
    const client = new PanelClient(app.serviceManager.serverSettings);
    const panel = new KelpPanel({
      client,
      wallet,
      devnet: () => devnet,
      network: () => network,
      setNetwork: async name => {
        network = name;
        await settingsLoaded?.set('network', name);
      },
      jobsRefreshSeconds: () => jobsRefresh
    });
    app.shell.add(panel, 'left', { rank: 650 });
    addCommands(app, client, panel, () => network, browsers, palette);
    if (statusBar) {
      statusBar.registerStatusItem(PLUGIN_ID, {
        item: new WalletStatus(wallet, () => devnet, () => app.shell.activateById(panel.id)),
        align: 'left',
        rank: 900
      });
    }
    void new RequestQueue(relay, wallet, () => devnet).run();
  }
};

export default plugin;
