// Client of the relay's browser face (<base>/kelp/relay/…). ServerConnection adds Jupyter's token or
// XSRF header, so these calls are authenticated like the rest of Lab.
import { ServerConnection } from '@jupyterlab/services';
import { kelpRequest } from './request';
import { IRelayRequest, IWalletError } from './wallet';

export interface IListing {
  revision: number;
  requests: IRelayRequest[];
}

export class RelayClient {
  constructor(settings?: ServerConnection.ISettings) {
    this._settings = settings ?? ServerConnection.makeSettings();
  }

  /** Pending requests; with `after >= 0` the server holds the reply until something changes (≤ `wait` s). */
  list(after: number, wait: number): Promise<IListing> {
    return this._call<IListing>(`requests?wait=${wait}&after=${after}`, { method: 'GET' });
  }

  answer(id: string, answer: { result: unknown } | { error: IWalletError }): Promise<unknown> {
    return this._call(`requests/${encodeURIComponent(id)}/answer`, {
      method: 'POST',
      body: JSON.stringify(answer)
    });
  }

  /** Tell the kernels which account and chain the wallet is on (no secret involved). */
  reportWallet(account: string | null, chainId: string | null, name: string | null): Promise<unknown> {
    const body = account ? { account, chain_id: chainId, name } : {};
    return this._call('wallet', { method: 'PUT', body: JSON.stringify(body) });
  }

  private _call<T>(path: string, init: RequestInit): Promise<T> {
    return kelpRequest<T>(this._settings, `relay/${path}`, init);
  }

  private _settings: ServerConnection.ISettings;
}
