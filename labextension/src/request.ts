// One authenticated JSON call to the kelp server extension (<base>/kelp/…). ServerConnection adds
// Jupyter's token or XSRF header; a non-2xx reply becomes an Error carrying the server's one line.
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

export async function kelpRequest<T>(
  settings: ServerConnection.ISettings,
  path: string,
  init: RequestInit
): Promise<T> {
  const url = URLExt.join(settings.baseUrl, 'kelp', path);
  const resp = await ServerConnection.makeRequest(url, init, settings);
  const text = await resp.text();
  let body: any = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = { error: text };
  }
  if (!resp.ok) {
    throw new Error((body && body.error) || `kelp server extension answered ${resp.status}`);
  }
  return body as T;
}
