// The browser wallet: EIP-6963 discovery (fallback window.ethereum), connection state, and the
// EIP-1193 calls a relay request maps to. Holds no key: every signature is made by the wallet.
import { ISignal, Signal } from '@lumino/signaling';

/** The EIP-1193 provider surface kelp uses. */
export interface IEip1193Provider {
  request(args: { method: string; params?: unknown[] }): Promise<unknown>;
  on?(event: string, handler: (...args: any[]) => void): void;
}

/** What an EIP-6963 wallet announces about itself. */
export interface IProviderInfo {
  uuid: string;
  name: string;
  icon: string;
  rdns: string;
}

interface IAnnounced {
  info: IProviderInfo;
  provider: IEip1193Provider;
}

/** A pending relay request, as the browser face lists it. */
export interface IRelayRequest {
  id: string;
  kind: string;
  params: any[];
  summary: { [key: string]: unknown };
  created_at: number;
  expires_at: number;
  chain_id?: string;
  add_chain?: { [key: string]: unknown };
}

/** The error shape posted back to the relay. */
export interface IWalletError {
  code: number | null;
  message: string;
}

export const REJECTED: IWalletError = { code: 4001, message: 'rejected in wallet' };

/** Map whatever the wallet threw to the relay's error shape (4001 → "rejected in wallet"). */
export function walletError(err: any): IWalletError {
  if (err && err.code === 4001) {
    return REJECTED;
  }
  const code = err && typeof err.code === 'number' ? err.code : -32603;
  return { code, message: String((err && err.message) || err) };
}

export class Wallet {
  constructor() {
    window.addEventListener('eip6963:announceProvider', (ev: Event) => {
      const detail = (ev as CustomEvent<IAnnounced>).detail;
      if (detail && detail.provider && !this._announced.some(a => a.info.uuid === detail.info.uuid)) {
        this._announced.push(detail);
        this._changed.emit();
      }
    });
    window.dispatchEvent(new Event('eip6963:requestProvider'));
  }

  /** Fires when the account, chain or the set of discovered wallets changes. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }
  get account(): string | null {
    return this._account;
  }
  get chainId(): string | null {
    return this._chainId;
  }
  get name(): string | null {
    return this._name;
  }
  /** Wallets found so far (EIP-6963 announcements, else window.ethereum). */
  get available(): string[] {
    const names = this._announced.map(a => a.info.name);
    if (!names.length && (window as any).ethereum) {
      names.push('window.ethereum');
    }
    return names;
  }

  /** Ask the wallet for an account (the wallet shows its own prompt). */
  async connect(): Promise<void> {
    const found = this._pick();
    if (!found) {
      throw new Error('No wallet found in this browser: install MetaMask or another EIP-1193 wallet.');
    }
    const [name, provider] = found;
    const accounts = (await provider.request({ method: 'eth_requestAccounts' })) as string[];
    if (!accounts || !accounts.length) {
      throw new Error('The wallet returned no account.');
    }
    if (this._provider !== provider && provider.on) {
      provider.on('accountsChanged', (a: string[]) => this._set(a[0] || null, this._chainId));
      provider.on('chainChanged', (c: string) => this._set(this._account, c));
    }
    this._provider = provider;
    this._name = name;
    const chainId = (await provider.request({ method: 'eth_chainId' })) as string;
    this._set(accounts[0], chainId);
  }

  /** Switch the wallet to `chainId`, adding the chain when the wallet does not know it (4902). */
  async switchChain(chainId: string, addChain?: { [key: string]: unknown }): Promise<void> {
    const provider = await this._ready();
    try {
      await provider.request({ method: 'wallet_switchEthereumChain', params: [{ chainId }] });
    } catch (err: any) {
      if (!(err && err.code === 4902 && addChain)) {
        throw err;
      }
      await provider.request({ method: 'wallet_addEthereumChain', params: [addChain] });
      await provider.request({ method: 'wallet_switchEthereumChain', params: [{ chainId }] });
    }
    this._set(this._account, (await provider.request({ method: 'eth_chainId' })) as string);
  }

  /**
   * Run the wallet call a relay request asks for and return the wallet's result. `knownChain`
   * gives the `wallet_addEthereumChain` parameters of a chain the request names without its own
   * `add_chain` (the devnet from the settings), so a wallet that lacks the chain can add it.
   */
  async perform(
    req: IRelayRequest,
    knownChain?: (chainId: string) => { [key: string]: unknown } | undefined
  ): Promise<unknown> {
    const provider = await this._ready();
    const addFor = (chainId: string) => req.add_chain ?? knownChain?.(chainId);
    if (req.kind === 'wallet_switchEthereumChain') {
      await this.switchChain(req.params[0].chainId, addFor(req.params[0].chainId));
      return null;
    }
    if (req.chain_id && parseInt(this._chainId || '0x0', 16) !== parseInt(req.chain_id, 16)) {
      await this.switchChain(req.chain_id, addFor(req.chain_id));
    }
    const params = req.params.slice();
    if (req.kind === 'eth_sendTransaction') {
      params[0] = { from: this._account, ...params[0] };
    } else if (req.kind === 'eth_signTypedData_v4' && typeof params[1] !== 'string') {
      params[1] = JSON.stringify(params[1]);
    }
    return provider.request({ method: req.kind, params });
  }

  /**
   * The gas the transaction of an `eth_sendTransaction` request would use, as the connected wallet's
   * network estimates it (`eth_estimateGas`); null when no wallet is connected, the wallet is on
   * another chain than the request, or the node cannot estimate (the wallet then sets the gas).
   */
  async estimateGas(req: IRelayRequest): Promise<bigint | null> {
    const tx = req.params[0];
    const onChain = !req.chain_id || parseInt(this._chainId || '0x0', 16) === parseInt(req.chain_id, 16);
    if (!this._provider || !this._account || !tx || !onChain) {
      return null;
    }
    const call: { [key: string]: unknown } = { from: this._account, ...tx };
    delete call.chainId;
    delete call.gas;
    try {
      return BigInt((await this._provider.request({ method: 'eth_estimateGas', params: [call] })) as string);
    } catch {
      return null;
    }
  }

  private async _ready(): Promise<IEip1193Provider> {
    if (!this._provider || !this._account) {
      await this.connect();
    }
    return this._provider!;
  }

  private _pick(): [string, IEip1193Provider] | null {
    if (this._announced.length) {
      return [this._announced[0].info.name, this._announced[0].provider];
    }
    const injected = (window as any).ethereum as IEip1193Provider | undefined;
    return injected ? ['window.ethereum', injected] : null;
  }

  private _set(account: string | null, chainId: string | null): void {
    this._account = account;
    this._chainId = chainId;
    this._changed.emit();
  }

  private _announced: IAnnounced[] = [];
  private _provider: IEip1193Provider | null = null;
  private _account: string | null = null;
  private _chainId: string | null = null;
  private _name: string | null = null;
  private _changed = new Signal<this, void>(this);
}
