"""kelp's JupyterLab extension: the frontend wallet UI (built into `labextension/`) and the server-side
signing relay. Loading the server extension makes a per-server secret and exports, for the kernels this
server starts:

- `KELP_RELAY_URL`: the relay's base URL on loopback, e.g. `http://127.0.0.1:8888/kelp/relay`
- `KELP_RELAY_SECRET`: the secret a kernel sends in the `X-Kelp-Relay-Secret` header
"""

from __future__ import annotations

import os
import secrets

from jupyter_server.utils import url_path_join

from .handlers import NAMESPACE, routes
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


def _export(serverapp) -> None:
    url = relay_url(serverapp)
    if url is None:
        os.environ.pop("KELP_RELAY_URL", None)
        serverapp.log.warning("kelp relay: server listens on a unix socket; kernels get no KELP_RELAY_URL")
        return
    os.environ["KELP_RELAY_URL"] = url
    os.environ["KELP_RELAY_SECRET"] = serverapp.web_app.settings["kelp_relay_secret"]


def _load_jupyter_server_extension(serverapp):
    secret = secrets.token_urlsafe(32)
    relay = Relay()
    web_app = serverapp.web_app
    web_app.settings["kelp_relay"] = relay
    web_app.settings["kelp_relay_secret"] = secret
    web_app.add_handlers(".*$", routes(web_app.settings["base_url"], relay, secret))
    # The port may still move (port retries) until the server binds; the start hook exports again.
    _export(serverapp)
    sign = url_path_join(serverapp.base_url, NAMESPACE, "sign")
    serverapp.log.info(f"kelp relay loaded; standalone signing page at {sign}")


async def _start_jupyter_server_extension(serverapp):
    _export(serverapp)
