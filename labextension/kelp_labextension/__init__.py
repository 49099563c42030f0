"""kelp's JupyterLab extension: the frontend wallet UI (built into `labextension/`) and the server-side
signing relay. Loading the server extension makes a per-server secret and exports, for the kernels this
server starts:

- `KELP_RELAY_URL`: the relay's base URL on loopback, e.g. `http://127.0.0.1:8888/kelp/relay`
- `KELP_RELAY_SECRET`: the secret a kernel sends in the `X-Kelp-Relay-Secret` header

and, like Jupyter's own `jpserver-<pid>.json`, writes both into `<runtime dir>/kelp-relay-<pid>.json`
(mode 0600) for kernels that were not started by this server; the file is removed at exit.

It also serves the kelp side panel's routes (`panel.py`: `kelp … --json` behind Jupyter's auth).
"""

from __future__ import annotations

import atexit
import json
import os
import secrets

from jupyter_server.utils import url_path_join

from .handlers import NAMESPACE, routes
from .panel import panel_routes
from .relay import Relay

try:
    from ._version import __version__
except ImportError:  # running from a source tree that was never built
    __version__ = "dev"

_LOOPBACK_ALIASES = {"", "localhost", "0.0.0.0", "127.0.0.1"}
_LOOPBACK6_ALIASES = {"::", "::1"}


def _jupyter_labextension_paths():
    return [{"src": "labextension", "dest": "kelp-labextension"}]


def _jupyter_server_extension_points():
    return [{"module": "kelp_labextension"}]


def relay_url(serverapp) -> str | None:
    """The URL a kernel on this machine uses to reach the relay (None for a unix-socket server)."""
    if getattr(serverapp, "sock", ""):
        return None
    ip = serverapp.ip or ""
    if ip in _LOOPBACK_ALIASES:
        host = "127.0.0.1"
    elif ip in _LOOPBACK6_ALIASES:
        host = "[::1]"
    else:
        host = f"[{ip}]" if ":" in ip else ip
    scheme = "https" if serverapp.certfile else "http"
    return f"{scheme}://{host}:{serverapp.port}" + url_path_join(serverapp.base_url, NAMESPACE)


def _export(serverapp):
    url = relay_url(serverapp)
    if url is None:
        os.environ.pop("KELP_RELAY_URL", None)
        serverapp.log.warning("kelp relay: server listens on a unix socket; kernels get no KELP_RELAY_URL")
        return None
    secret = serverapp.web_app.settings["kelp_relay_secret"]
    os.environ["KELP_RELAY_URL"] = url
    os.environ["KELP_RELAY_SECRET"] = secret
    return url, secret


def relay_file(serverapp) -> str:
    return os.path.join(serverapp.runtime_dir, f"kelp-relay-{os.getpid()}.json")


def _write_relay_file(serverapp, url: str, secret: str) -> None:
    path = relay_file(serverapp)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    _remove(path + ".tmp")
    fd = os.open(path + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump({"url": url, "secret": secret, "pid": os.getpid()}, f)
    os.replace(path + ".tmp", path)
    atexit.register(_remove, path)


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass


def _load_jupyter_server_extension(serverapp):
    secret = secrets.token_urlsafe(32)
    relay = Relay()
    web_app = serverapp.web_app
    web_app.settings["kelp_relay"] = relay
    web_app.settings["kelp_relay_secret"] = secret
    web_app.add_handlers(".*$", routes(web_app.settings["base_url"], relay, secret))
    # The kelp panel and file-browser commands: `kelp … --json` run in the Lab's root directory.
    root = os.path.abspath(os.path.expanduser(serverapp.root_dir))
    web_app.add_handlers(".*$", panel_routes(web_app.settings["base_url"], root, secret, relay))
    # The port may still move (port retries) until the server binds; the start hook exports again.
    _export(serverapp)
    sign = url_path_join(serverapp.base_url, NAMESPACE, "sign")
    serverapp.log.info(f"kelp relay loaded; standalone signing page at {sign}")


async def _start_jupyter_server_extension(serverapp):
    exported = _export(serverapp)
    if exported:
        _write_relay_file(serverapp, *exported)
