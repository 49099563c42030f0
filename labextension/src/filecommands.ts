// kelp's commands: the file browser's context menu ("Add to IPFS", "Publish to Ocean…", "Compute
// on…") and the command palette (the same, plus opening and refreshing the kelp panel). Each runs
// through the server routes (panelapi.ts) without blocking the page: progress is a notification,
// the outcome a dialog (Add to IPFS: the CID, already copied) or a notification; the panel is
// refreshed afterwards. Publishing and computing sign with the browser wallet: the relay's request
// dialogs appear while the server's `kelp` waits for them.
import { JupyterFrontEnd } from '@jupyterlab/application';
import { Clipboard, Dialog, ICommandPalette, Notification, showDialog } from '@jupyterlab/apputils';
import { IFileBrowserFactory } from '@jupyterlab/filebrowser';
import { Widget } from '@lumino/widgets';
import { KelpPanel, errorLine, formatSize, shortSource, withProgress } from './panel';
import { IAsset, IPublishForm, PanelClient } from './panelapi';

export const COMMANDS = {
  openPanel: 'kelp:open-panel',
  refreshPanel: 'kelp:refresh-panel',
  addToIpfs: 'kelp:ipfs-add',
  publish: 'kelp:publish',
  compute: 'kelp:compute'
};

const CATEGORY = 'kelp';
/** Files offered as the algorithm (and published as type algorithm) by default. */
const SCRIPT = /\.(py|js|sh|r|jl)$/i;

function field(label: string, input: HTMLElement): HTMLElement {
  const row = document.createElement('label');
  row.className = 'kelp-Form-row';
  const span = document.createElement('span');
  span.textContent = label;
  row.append(span, input);
  return row;
}

function input(name: string, value: string, placeholder = ''): HTMLInputElement {
  const i = document.createElement('input');
  i.name = name;
  i.value = value;
  i.placeholder = placeholder;
  i.className = 'jp-mod-styled';
  return i;
}

/** The "Publish to Ocean…" form; its value is what the publish route takes. */
class PublishForm extends Widget implements Dialog.IBodyWidget<IPublishForm> {
  constructor(path: string, network: string) {
    super();
    this._path = path;
    this._network = network;
    this.addClass('kelp-Form');
    const base = path.split('/').pop() ?? path;
    this._name = input('name', base.replace(/\.[^.]+$/, ''));
    this._type = document.createElement('select');
    this._type.name = 'type';
    this._type.className = 'jp-mod-styled';
    for (const t of ['dataset', 'algorithm']) {
      const o = document.createElement('option');
      o.value = o.textContent = t;
      o.selected = t === (SCRIPT.test(base) ? 'algorithm' : 'dataset');
      this._type.append(o);
    }
    this._price = input('price', 'free', 'free, or N (OCEAN per datatoken)');
    this._license = input('license', '', 'e.g. CC-BY-4.0');
    this._description = document.createElement('textarea');
    this._description.name = 'description';
    this._description.className = 'jp-mod-styled';
    this._description.rows = 3;
    const what = document.createElement('p');
    what.textContent = `${path} on ${network}, signed with your browser wallet (each step asks it).`;
    this.node.append(
      what,
      field('Name', this._name),
      field('Type', this._type),
      field('Price', this._price),
      field('License', this._license),
      field('Description', this._description)
    );
  }

  getValue(): IPublishForm {
    return {
      path: this._path,
      name: this._name.value.trim(),
      type: this._type.value as IPublishForm['type'],
      price: this._price.value.trim() || 'free',
      license: this._license.value.trim(),
      description: this._description.value.trim(),
      network: this._network
    };
  }

  private _path: string;
  private _network: string;
  private _name: HTMLInputElement;
  private _type: HTMLSelectElement;
  private _price: HTMLInputElement;
  private _license: HTMLInputElement;
  private _description: HTMLTextAreaElement;
}

function datalist(input: HTMLInputElement, options: { value: string; label: string }[]): HTMLDataListElement {
  const list = document.createElement('datalist');
  list.id = `kelp-${input.name}-${Math.random().toString(36).slice(2)}`;
  for (const { value, label } of options) {
    const o = document.createElement('option');
    o.value = value;
    o.label = label;
    list.append(o);
  }
  input.setAttribute('list', list.id);
  return list;
}

/** The "Compute on…" form: a dataset and an algorithm, each an Ocean DID or a path in the Lab. */
class ComputeForm extends Widget implements Dialog.IBodyWidget<{ dataset: string; algorithm: string }> {
  constructor(path: string, network: string, assets: IAsset[]) {
    super();
    this.addClass('kelp-Form');
    const what = document.createElement('p');
    what.textContent =
      `Two DIDs of ${network} run on the dataset's Ocean node (your wallet signs the orders); ` +
      'two files of this Lab run in the local sandbox.';
    const options = (type: string) => assets.filter(a => a.type === type).map(a => ({ value: a.did, label: a.name }));
    const datasets = options('dataset');
    const script = SCRIPT.test(path);
    this._dataset = input('dataset', script ? (datasets[0]?.value ?? '') : path, 'did:op:… or a file');
    this._algorithm = input('algorithm', script ? path : '', 'did:op:… or a script');
    this.node.append(
      what,
      field('Dataset', this._dataset),
      datalist(this._dataset, datasets),
      field('Algorithm', this._algorithm),
      datalist(this._algorithm, [{ value: path, label: 'this file' }, ...options('algorithm')])
    );
  }

  getValue(): { dataset: string; algorithm: string } {
    return { dataset: this._dataset.value.trim(), algorithm: this._algorithm.value.trim() };
  }

  private _dataset: HTMLInputElement;
  private _algorithm: HTMLInputElement;
}

/** Show a form; its value when the person pressed `ok`, else null. */
async function ask<T>(title: string, body: Widget & Dialog.IBodyWidget<T>, ok: string): Promise<T | null> {
  const choice = await showDialog({ title, body, buttons: [Dialog.cancelButton(), Dialog.okButton({ label: ok })] });
  return choice.button.accept && choice.value ? choice.value : null;
}

export function addCommands(
  app: JupyterFrontEnd,
  client: PanelClient,
  panel: KelpPanel,
  network: () => string,
  browsers: IFileBrowserFactory | null,
  palette: ICommandPalette | null
): void {
  const selected = (): { path: string; type: string }[] => {
    const widget = browsers?.tracker.currentWidget;
    return widget ? Array.from(widget.selectedItems()).map(m => ({ path: m.path, type: m.type })) : [];
  };
  const hasSelection = () => selected().length > 0;
  const oneFile = () => {
    const s = selected();
    return s.length === 1 && s[0].type !== 'directory';
  };
  const openPanel = () => {
    app.shell.activateById(panel.id);
  };

  app.commands.addCommand(COMMANDS.openPanel, {
    label: 'Open the kelp panel',
    caption: 'Wallet, my Ocean assets, C2D jobs and the IPFS store',
    execute: openPanel
  });
  app.commands.addCommand(COMMANDS.refreshPanel, {
    label: 'Refresh the kelp panel',
    execute: () => panel.refresh()
  });

  app.commands.addCommand(COMMANDS.addToIpfs, {
    label: 'Add to IPFS',
    caption: 'Add the selected file or folder to kelp\'s IPFS store (same CID as %ipfs add); the CID is copied',
    isEnabled: hasSelection,
    execute: async () => {
      for (const item of selected()) {
        const note = Notification.emit(`Adding ${item.path} to IPFS…`, 'in-progress', { autoClose: false });
        try {
          const added = await client.addToIpfs(item.path);
          Clipboard.copyToSystem(added.cid);
          Notification.dismiss(note);
          void panel.refreshIpfs();
          const body = document.createElement('div');
          body.className = 'kelp-Added';
          const rows: [string, string][] = [
            ['CID', added.cid],
            ['Size', formatSize(added.size)],
            ['Gateway', added.gateway_url]
          ];
          for (const [k, v] of rows) {
            const p = document.createElement('p');
            const b = document.createElement('b');
            b.textContent = `${k}: `;
            const code = document.createElement('code');
            code.textContent = v;
            code.className = `kelp-Added-${k.toLowerCase()}`;
            p.append(b, code);
            body.append(p);
          }
          const copied = document.createElement('p');
          copied.textContent = 'The CID is copied to your clipboard.';
          body.append(copied);
          await showDialog({
            title: `Added ${added.name} to IPFS`,
            body: new Widget({ node: body }),
            buttons: [Dialog.okButton({ label: 'Close' })]
          });
        } catch (err) {
          Notification.update({ id: note, message: `Add to IPFS: ${errorLine(err)}`, type: 'error', autoClose: 8000 });
        }
      }
    }
  });

  app.commands.addCommand(COMMANDS.publish, {
    label: 'Publish to Ocean…',
    caption: 'Publish the selected file as an Ocean data NFT + datatoken, signed with your browser wallet',
    isEnabled: oneFile,
    execute: async () => {
      const [item] = selected();
      if (!item) {
        return;
      }
      const form = await ask('Publish to Ocean', new PublishForm(item.path, network()), 'Publish');
      if (!form) {
        return;
      }
      const done = await withProgress(
        `Publishing ${form.name}: approve each step in your wallet…`,
        () =>
          client.publish(form).catch(err => {
            // kelp's advice is for a notebook; here the same asset is finished by publishing it again.
            throw new Error(errorLine(err).replace(/run the cell again to finish/, 'Publish to Ocean… this file again to finish'));
          }),
        p => `Published ${p.name}: ${p.did}${p.already_published ? ' (already published: the same asset)' : ''}`,
        `Publish ${form.name}`
      );
      if (done) {
        void panel.refresh();
        openPanel();
      }
    }
  });

  app.commands.addCommand(COMMANDS.compute, {
    label: 'Compute on…',
    caption: 'Run a C2D job: this script on an Ocean dataset (DID), or a published algorithm on it',
    isEnabled: oneFile,
    execute: async () => {
      const [item] = selected();
      if (!item) {
        return;
      }
      const net = network();
      const mine = await client.assets(net).then(
        l => l.assets,
        () => []
      );
      const inputs = await ask('Compute on…', new ComputeForm(item.path, net, mine), 'Start job');
      if (!inputs) {
        return;
      }
      const { dataset, algorithm } = inputs;
      const job = await withProgress(
        `Starting ${shortSource(algorithm)} on ${shortSource(dataset)}: approve any orders in your wallet…`,
        () => client.compute(dataset, algorithm, net),
        j => `C2D job ${j.jobId} started: ${j.statusText}`,
        'Compute on'
      );
      if (job) {
        openPanel();
        void panel.refreshJobs();
      }
    }
  });

  const items = '.jp-DirListing-item[data-isdir]';
  const files = '.jp-DirListing-item[data-isdir="false"]';
  app.contextMenu.addItem({ command: COMMANDS.addToIpfs, selector: items, rank: 60 });
  app.contextMenu.addItem({ command: COMMANDS.publish, selector: files, rank: 61 });
  app.contextMenu.addItem({ command: COMMANDS.compute, selector: files, rank: 62 });
  if (palette) {
    for (const command of Object.values(COMMANDS)) {
      palette.addItem({ command, category: CATEGORY });
    }
  }
}
