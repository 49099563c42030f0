// Client of the kelp panel's server routes (<base>/kelp/panel/…, kelp_labextension/panel.py): each
// runs `kelp … --json` on the server. Types name only the fields the panel and commands read.
import { ServerConnection } from '@jupyterlab/services';
import { kelpRequest } from './request';

/** A read of the devnet while it is down: reads never start it. */
export interface IDevnetDown {
  devnet?: 'down';
  message?: string;
}

export interface IWalletShow extends IDevnetDown {
  address?: string;
  chain_id?: number;
  network?: string;
  eth?: string;
  tokens?: { address: string; symbol: string; balance: string }[];
}

export interface IAsset {
  did: string;
  name: string;
  type: string;
  owner: string;
  prices: { type: string; price: string; token: string }[];
  orders?: number;
}

export interface IJob {
  jobId: string;
  status: number;
  statusText: string;
  finished: boolean;
  ok: boolean | null;
  dateCreated: number;
  environment: string;
  algorithm?: { source?: string };
  datasets?: { id?: string; source?: string }[];
  failure?: string | null;
  /** Set for a job on an Ocean node (null for the local sandbox). */
  remote?: unknown;
}

export interface IPin {
  cid: string;
  name: string | null;
  created: number;
  size?: number;
  cumulative_size?: number;
  kind?: string;
}

export interface IAdded {
  cid: string;
  name: string;
  size: number;
  gateway_url: string;
  pinned: boolean;
}

export interface IPublishForm {
  path: string;
  name: string;
  type: 'dataset' | 'algorithm';
  price: string;
  license: string;
  description: string;
  network: string;
}

export interface IPublished {
  did: string;
  name: string;
  nft: string;
  price: string;
  network: string;
  already_published: boolean;
  txs: { hash: string; label: string }[];
}

export interface IGot {
  did: string;
  path: string;
  /** `path` inside the Lab's root, as the file browser shows it. */
  lab_path?: string;
  size: number;
  cid_verified: boolean;
  order_tx: string;
}

const q = (network: string): string => `network=${encodeURIComponent(network)}`;

export class PanelClient {
  constructor(settings: ServerConnection.ISettings) {
    this._settings = settings;
  }

  wallet(network: string): Promise<IWalletShow> {
    return this._get(`wallet?${q(network)}`);
  }

  assets(network: string): Promise<IDevnetDown & { assets: IAsset[] }> {
    return this._get(`assets?${q(network)}`);
  }

  asset(did: string, network: string): Promise<{ [key: string]: unknown }> {
    return this._get(`asset?did=${encodeURIComponent(did)}&${q(network)}`);
  }

  jobs(): Promise<{ jobs: IJob[] }> {
    return this._get('jobs');
  }

  logs(jobId: string): Promise<{ jobId: string; log: string; status: number }> {
    return this._get(`jobs/${encodeURIComponent(jobId)}/logs`);
  }

  ipfs(): Promise<{ gateway: string; backend: string; pins: IPin[] }> {
    return this._get('ipfs');
  }

  addToIpfs(path: string): Promise<IAdded> {
    return this._post('ipfs/add', { path });
  }

  publish(form: IPublishForm): Promise<IPublished> {
    return this._post('publish', form);
  }

  /** A C2D job: `dataset` and `algorithm` each a DID or a path in the Lab. */
  compute(dataset: string, algorithm: string, network: string): Promise<IJob> {
    return this._post('compute', { dataset, algorithm, network });
  }

  /** Order (dispense or buy) with the browser wallet and download into the Lab's root. */
  get(did: string, network: string): Promise<IGot> {
    return this._post('get', { did, network });
  }

  private _get<T>(path: string): Promise<T> {
    return kelpRequest<T>(this._settings, `panel/${path}`, { method: 'GET' });
  }

  private _post<T>(path: string, body: unknown): Promise<T> {
    return kelpRequest<T>(this._settings, `panel/${path}`, { method: 'POST', body: JSON.stringify(body) });
  }

  private _settings: ServerConnection.ISettings;
}
