"""HTTP faces of the signing relay (see README.md for the API).

- Kernel face (`<base>/kelp/relay/kernel/…`): plain tornado handlers authenticated by the per-server
  secret in the `X-Kelp-Relay-Secret` header (every verb carries `@kernel_secret_required`). They use
  no cookies, so they opt out of the cookie-based XSRF check.
- Browser face (`<base>/kelp/relay/…`): Jupyter `APIHandler`s, every verb `@tornado.web.authenticated`,
  so Jupyter's token/cookie auth and XSRF protection apply.
- The standalone signing page and its script, also behind Jupyter's auth.

The secret travels only in a header, never in a URL, so Jupyter's access log cannot record it.
"""

from __future__ import annotations

import functools
import hmac
import json
from importlib.resources import files
from typing import Any

import tornado.escape
import tornado.web
from jupyter_server.base.handlers import APIHandler, JupyterHandler
from jupyter_server.utils import url_path_join

from .body import parse_json_body, query_arg
from .relay import MAX_WAIT, Relay, RelayError

SECRET_HEADER = "X-Kelp-Relay-Secret"
NAMESPACE = "kelp/relay"
_ID = r"([A-Za-z0-9_\-]{16,64})"


def kernel_secret_required(method):
    """Refuse (403) a kernel-face call whose secret header is missing or wrong."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        given = self.request.headers.get(SECRET_HEADER, "")
        if not given or not hmac.compare_digest(given.encode(), self.secret.encode()):
            raise tornado.web.HTTPError(403, reason="Forbidden")
        return method(self, *args, **kwargs)

    return wrapper


def _json_body(handler: tornado.web.RequestHandler) -> Any:
    return parse_json_body(handler.request.body or b"")


def _wait_arg(handler: tornado.web.RequestHandler) -> float:
    raw = query_arg(handler, "wait", "0")
    try:
        wait = float(raw)
    except ValueError:
        raise RelayError(400, f"wait must be a number of seconds (0–{MAX_WAIT:.0f}), got {raw!r}")
    if not 0 <= wait <= MAX_WAIT:
        raise RelayError(400, f"wait must be between 0 and {MAX_WAIT:.0f} seconds, got {raw}")
    return wait


class _Replies:
    """JSON replies and one-line JSON errors, shared by both faces."""

    def reply(self, status: int, payload: Any) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(payload))

    def refuse(self, err: RelayError) -> None:
        self.reply(err.status, {"error": err.message})


class KernelBase(_Replies, tornado.web.RequestHandler):
    def initialize(self, relay: Relay, secret: str) -> None:
        self.relay = relay
        self.secret = secret

    def check_xsrf_cookie(self) -> None:
        # Authenticated by a header secret, not by cookies: cross-site forms cannot set it.
        return None

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        self.set_header("Content-Type", "application/json")
        message = "wrong or missing relay secret" if status_code == 403 else self._reason
        self.finish(json.dumps({"error": message}))


class KernelRequestsHandler(KernelBase):
    @kernel_secret_required
    def post(self) -> None:
        try:
            req = self.relay.create(_json_body(self))
        except RelayError as err:
            return self.refuse(err)
        self.reply(201, {"id": req.id, "state": req.state, "expires_at": req.expires})


class KernelRequestHandler(KernelBase):
    @kernel_secret_required
    async def get(self, req_id: str) -> None:
        try:
            out = await self.relay.wait_finished(req_id, _wait_arg(self))
        except RelayError as err:
            return self.refuse(err)
        self.reply(200, out)

    @kernel_secret_required
    def delete(self, req_id: str) -> None:
        try:
            self.reply(200, self.relay.cancel(req_id))
        except RelayError as err:
            self.refuse(err)


class KernelStatusHandler(KernelBase):
    @kernel_secret_required
    def get(self) -> None:
        relay = self.relay
        self.reply(200, {"relay": "kelp", "wallet": relay.wallet, "browser": relay.browser(), "pending": len(relay.pending())})


class BrowserBase(_Replies, APIHandler):
    def initialize(self, relay: Relay) -> None:
        self.relay = relay


class BrowserRequestsHandler(BrowserBase):
    @tornado.web.authenticated
    async def get(self) -> None:
        try:
            wait = _wait_arg(self)
            after = int(query_arg(self, "after", "-1"))
        except (RelayError, ValueError) as err:
            msg = err.message if isinstance(err, RelayError) else "after must be an integer revision"
            return self.refuse(RelayError(400, msg))
        if wait > 0 and after >= 0:
            await self.relay.wait_changed(after, wait)
        self.reply(200, {"revision": self.relay.revision, "requests": self.relay.pending(from_browser=True)})


class BrowserRequestHandler(BrowserBase):
    @tornado.web.authenticated
    def get(self, req_id: str) -> None:
        try:
            self.reply(200, self.relay.get_pending(req_id))
        except RelayError as err:
            self.refuse(err)


class BrowserAnswerHandler(BrowserBase):
    @tornado.web.authenticated
    def post(self, req_id: str) -> None:
        try:
            self.reply(200, self.relay.answer(req_id, _json_body(self)))
        except RelayError as err:
            self.refuse(err)


class BrowserWalletHandler(BrowserBase):
    @tornado.web.authenticated
    def get(self) -> None:
        self.reply(200, {"wallet": self.relay.wallet})

    @tornado.web.authenticated
    def put(self) -> None:
        try:
            self.reply(200, {"wallet": self.relay.set_wallet(_json_body(self))})
        except RelayError as err:
            self.refuse(err)


class SignPageHandler(JupyterHandler):
    @tornado.web.authenticated
    def get(self) -> None:
        page = files("kelp_labextension").joinpath("static/sign.html").read_text()
        api = url_path_join(self.base_url, NAMESPACE)
        page = page.replace("{{API}}", tornado.escape.xhtml_escape(api))
        page = page.replace("{{XSRF}}", tornado.escape.xhtml_escape(self.xsrf_token.decode()))
        self.set_header("Cache-Control", "no-store")
        self.finish(page)


class SignScriptHandler(JupyterHandler):
    @tornado.web.authenticated
    def get(self) -> None:
        self.set_header("Content-Type", "text/javascript; charset=utf-8")
        self.finish(files("kelp_labextension").joinpath("static/sign.js").read_text())


def routes(base_url: str, relay: Relay, secret: str) -> list[tuple]:
    def at(path: str) -> str:
        return url_path_join(base_url, NAMESPACE, path)

    kernel = {"relay": relay, "secret": secret}
    browser = {"relay": relay}
    return [
        (at("kernel/requests"), KernelRequestsHandler, kernel),
        (at(f"kernel/requests/{_ID}"), KernelRequestHandler, kernel),
        (at("kernel/status"), KernelStatusHandler, kernel),
        (at("requests"), BrowserRequestsHandler, browser),
        (at(f"requests/{_ID}"), BrowserRequestHandler, browser),
        (at(f"requests/{_ID}/answer"), BrowserAnswerHandler, browser),
        (at("wallet"), BrowserWalletHandler, browser),
        (at("sign"), SignPageHandler),
        (at("sign.js"), SignScriptHandler),
    ]
