// The status-bar wallet item: "Wallet: connect" until connected, then the short account and chain.
// Click: opens the kelp panel, then connects, or (when connected) offers switching the wallet to the
// devnet chain.
import { Dialog, showDialog, showErrorMessage } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';
import { Wallet } from './wallet';

/** The devnet chain the status item offers (from the extension's settings). */
export interface IDevnet {
  chainId: string;
  chainName: string;
  rpcUrl: string;
}

export function addChainParams(devnet: IDevnet): { [key: string]: unknown } {
  return {
    chainId: devnet.chainId,
    chainName: devnet.chainName,
    rpcUrls: [devnet.rpcUrl],
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 }
  };
}

export class WalletStatus extends Widget {
  constructor(wallet: Wallet, devnet: () => IDevnet, openPanel: () => void = () => undefined) {
    super();
    this._wallet = wallet;
    this._devnet = devnet;
    this._openPanel = openPanel;
    this.addClass('kelp-WalletStatus');
    this.node.title = 'kelp wallet: click to open the kelp panel and connect or switch network';
    this.node.onclick = () => void this._click();
    wallet.changed.connect(() => this.render());
    this.render();
  }

  render(): void {
    const w = this._wallet;
    if (!w.account) {
      this.node.textContent = w.available.length ? 'Wallet: connect' : 'Wallet: none found';
      return;
    }
    const short = `${w.account.slice(0, 6)}…${w.account.slice(-4)}`;
    const chain = w.chainId ? parseInt(w.chainId, 16) : '?';
    this.node.textContent = `Wallet: ${short} · chain ${chain}`;
  }

  private async _click(): Promise<void> {
    this._openPanel();
    try {
      if (!this._wallet.account) {
        await this._wallet.connect();
        return;
      }
      const devnet = this._devnet();
      const onDevnet = parseInt(this._wallet.chainId ?? '0x0', 16) === parseInt(devnet.chainId, 16);
      const choice = await showDialog({
        title: 'kelp wallet',
        body: `${this._wallet.name}: ${this._wallet.account} on chain ${parseInt(this._wallet.chainId ?? '0', 16)}.`,
        buttons: onDevnet
          ? [Dialog.okButton({ label: 'Close' })]
          : [
              Dialog.cancelButton({ label: 'Close' }),
              Dialog.okButton({ label: `Switch to ${devnet.chainName} (${parseInt(devnet.chainId, 16)})` })
            ]
      });
      if (!onDevnet && choice.button.accept) {
        await this._wallet.switchChain(devnet.chainId, addChainParams(devnet));
      }
    } catch (err: any) {
      await showErrorMessage('kelp wallet', err?.message ?? String(err));
    }
  }

  private _wallet: Wallet;
  private _devnet: () => IDevnet;
  private _openPanel: () => void;
}
