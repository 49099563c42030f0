"""The relay's state: pending signing requests, their one-shot ids, expiry and answer-once rules.

This module owns the request lifecycle and nothing else (no HTTP, no Jupyter types):

    pending --answer--> answered (result | error) --kernel reads--> gone
    pending --cancel--> cancelled --kernel reads--> gone
    pending --time----> expired   --kernel reads--> gone

Every state change bumps a revision counter and wakes the long-polls waiting on it.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any, Callable

#: Wallet calls a kernel may ask for (EIP-1193 method names).
KINDS = (
    "eth_sendTransaction",
    "personal_sign",
    "eth_signTypedData_v4",
    "wallet_switchEthereumChain",
    "eth_requestAccounts",
)
#: Fields of the human-readable summary shown to the person before they approve.
SUMMARY_FIELDS = (
    "title",
    "requester",
    "step",
    "network",
    "from",
    "contract",
    "method",
    "args",
    "value",
    "gas",
    "detail",
)
DEFAULT_EXPIRY = 300.0
MAX_EXPIRY = 3600.0
MAX_WAIT = 30.0
#: Answered/expired requests the kernel never collected are dropped after this long.
RETENTION = 600.0
MAX_OPEN = 64
#: EIP-1193 "user rejected the request" code.
USER_REJECTED = 4001
REJECTED_MESSAGE = "rejected in wallet"

# A relay request carries public data only; refuse anything that names a secret.
_SECRET_KEY = re.compile(r"private_?key|secret|mnemonic|seed_?phrase|password", re.IGNORECASE)


class RelayError(Exception):
    """A refused operation: `status` is the HTTP status, the message is one line for the caller."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class SignRequest:
    id: str
    kind: str
    params: list
    summary: dict
    chain_id: str | None
    add_chain: dict | None
    created: float
    expires: float
    state: str = "pending"
    result: Any = None
    error: dict | None = None
    finished: float | None = None

    def public(self) -> dict:
        """What the browser sees of a pending request (everything it needs to call the wallet)."""
        out = {
            "id": self.id,
            "kind": self.kind,
            "params": self.params,
            "summary": self.summary,
            "created_at": self.created,
            "expires_at": self.expires,
        }
        if self.chain_id is not None:
            out["chain_id"] = self.chain_id
        if self.add_chain is not None:
            out["add_chain"] = self.add_chain
        return out

    def status(self) -> dict:
        """What the kernel sees: the state and, once answered, the result or the error."""
        out: dict = {"id": self.id, "state": self.state, "expires_at": self.expires}
        if self.state == "answered":
            if self.error is not None:
                out["error"] = self.error
            else:
                out["result"] = self.result
        return out


def _brief(value: Any) -> str:
    """`repr(value)` on one short line, for error messages that quote what was sent."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _find_secret_key(value: Any, path: str = "") -> str | None:
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(k, str) and _SECRET_KEY.search(k):
                return f"{path}.{k}" if path else k
            hit = _find_secret_key(v, f"{path}.{k}" if path else str(k))
            if hit:
                return hit
    elif isinstance(value, list):
        for i, v in enumerate(value):
            hit = _find_secret_key(v, f"{path}[{i}]")
            if hit:
                return hit
    return None


def _parse_summary(raw: Any) -> dict:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise RelayError(400, f"summary must be a JSON object with {', '.join(SUMMARY_FIELDS)}")
    unknown = sorted(set(raw) - set(SUMMARY_FIELDS))
    if unknown:
        raise RelayError(400, f"unknown summary field(s) {_brief(unknown)}; allowed: {', '.join(SUMMARY_FIELDS)}")
    return dict(raw)


def _parse_chain_id(raw: Any) -> str | None:
    if raw is None:
        return None
    if isinstance(raw, int) and not isinstance(raw, bool) and 0 < raw < 1 << 64:
        return hex(raw)
    if isinstance(raw, str) and re.fullmatch(r"0x[0-9a-fA-F]{1,16}", raw):
        return hex(int(raw, 16))
    raise RelayError(400, f"chain_id must be a positive integer or a 0x hex string, got {_brief(raw)}")


class Relay:
    """In-memory store of signing requests for one Jupyter server."""

    def __init__(self, clock: Callable[[], float] = time.time, max_open: int = MAX_OPEN):
        self._clock = clock
        self._max_open = max_open
        self._requests: dict[str, SignRequest] = {}
        self._rev = 0
        self._waiters: set[asyncio.Future] = set()
        #: The wallet the browser last reported (account, chain id), for the kernel's status call.
        self.wallet: dict | None = None
        #: Browser presence: long-polls open now, and when a browser last listed requests.
        self._watching = 0
        self._browser_seen: float | None = None

    # ---- kernel face -------------------------------------------------------------------------

    def create(self, body: Any) -> SignRequest:
        if not isinstance(body, dict):
            raise RelayError(400, "request body must be a JSON object")
        hit = _find_secret_key(body)
        if hit:
            raise RelayError(400, f"refused: field {_brief(hit)} looks like a secret; the relay carries public data only")
        kind = body.get("kind")
        if kind not in KINDS:
            raise RelayError(400, f"kind must be one of {', '.join(KINDS)}, got {_brief(kind)}")
        params = body.get("params", [])
        if not isinstance(params, list):
            raise RelayError(400, "params must be a JSON array (the EIP-1193 params of the wallet call)")
        expires_in = body.get("expires_in", DEFAULT_EXPIRY)
        if not isinstance(expires_in, (int, float)) or isinstance(expires_in, bool) or not 0 < expires_in <= MAX_EXPIRY:
            raise RelayError(400, f"expires_in must be a number of seconds in (0, {MAX_EXPIRY:.0f}]")
        add_chain = body.get("add_chain")
        if add_chain is not None and not isinstance(add_chain, dict):
            raise RelayError(400, "add_chain must be a wallet_addEthereumChain parameter object")
        summary = _parse_summary(body.get("summary"))
        chain_id = _parse_chain_id(body.get("chain_id"))
        self._purge()
        if sum(1 for r in self._requests.values() if r.state == "pending") >= self._max_open:
            raise RelayError(429, f"too many pending requests ({self._max_open}); answer or cancel some first")
        now = self._clock()
        req = SignRequest(
            id=secrets.token_urlsafe(24),
            kind=kind,
            params=params,
            summary=summary,
            chain_id=chain_id,
            add_chain=add_chain,
            created=now,
            expires=now + float(expires_in),
        )
        self._requests[req.id] = req
        self._bump()
        return req

    def collect(self, req_id: str) -> dict:
        """The kernel reads a request's state; a finished request is removed by this read."""
        req = self._lookup(req_id)
        out = req.status()
        if req.state != "pending":
            del self._requests[req.id]
        return out

    async def wait_finished(self, req_id: str, timeout: float) -> dict:
        """Long-poll: wait until the request leaves `pending` (or `timeout`), then `collect` it."""
        deadline = self._clock() + min(max(timeout, 0.0), MAX_WAIT)
        while True:
            req = self._lookup(req_id)
            now = self._clock()
            if req.state != "pending" or now >= deadline:
                return self.collect(req_id)
            await self._wait(min(deadline, req.expires) - now)

    def cancel(self, req_id: str) -> dict:
        req = self._lookup(req_id)
        if req.state != "pending":
            raise RelayError(409, f"request is already {req.state}; nothing to cancel")
        self._finish(req, "cancelled")
        return {"id": req.id, "state": "cancelled"}

    # ---- browser face ------------------------------------------------------------------------

    @property
    def revision(self) -> int:
        return self._rev

    def browser(self) -> dict:
        """Whether a browser (Lab extension or signing page) is listening, for the kernel's status call."""
        return {"watching": self._watching, "last_seen": self._browser_seen}

    def pending(self, from_browser: bool = False) -> list[dict]:
        if from_browser:
            self._browser_seen = self._clock()
        self._purge()
        reqs = [r for r in self._requests.values() if r.state == "pending"]
        return [r.public() for r in sorted(reqs, key=lambda r: r.created)]

    async def wait_changed(self, after: int, timeout: float) -> None:
        """Long-poll: return when the revision moves past `after`, or after `timeout`."""
        deadline = self._clock() + min(max(timeout, 0.0), MAX_WAIT)
        self._watching += 1
        try:
            while self._rev <= after:
                left = deadline - self._clock()
                if left <= 0:
                    return
                await self._wait(left)
        finally:
            self._watching -= 1

    def get_pending(self, req_id: str) -> dict:
        req = self._lookup(req_id)
        self._check_open(req)
        return req.public()

    def answer(self, req_id: str, body: Any) -> dict:
        req = self._lookup(req_id)
        self._check_open(req)
        if not isinstance(body, dict) or ("result" in body) == ("error" in body):
            raise RelayError(400, 'answer must be {"result": <wallet result>} or {"error": {"code": n, "message": s}}')
        hit = _find_secret_key(body)
        if hit:
            raise RelayError(400, f"refused: field {_brief(hit)} looks like a secret; the relay carries public data only")
        if "error" in body:
            err = body["error"]
            if not isinstance(err, dict) or not isinstance(err.get("message"), str):
                raise RelayError(400, 'error must be {"code": <int>, "message": <string>}')
            code = err.get("code")
            code = code if isinstance(code, int) and not isinstance(code, bool) else None
            req.error = {"code": code, "message": err["message"][:500]}
        else:
            req.result = body["result"]
        self._finish(req, "answered")
        return {"id": req.id, "state": req.state}

    def set_wallet(self, body: Any) -> dict | None:
        if body is None or body == {}:
            self.wallet = None
            return None
        if not isinstance(body, dict):
            raise RelayError(400, 'wallet must be {"account": "0x…", "chain_id": "0x…"} or null')
        account = body.get("account")
        if account is not None and not (isinstance(account, str) and re.fullmatch(r"0x[0-9a-fA-F]{40}", account)):
            raise RelayError(400, f"account must be a 0x-prefixed 20-byte hex address, got {_brief(account)}")
        name = body.get("name")
        if name is not None and not isinstance(name, str):
            raise RelayError(400, f"name must be the wallet's name as a string, got {type(name).__name__}")
        self.wallet = {
            "account": account,
            "chain_id": _parse_chain_id(body.get("chain_id")),
            "name": (name or "")[:100] or None,
            "updated_at": self._clock(),
        }
        return self.wallet

    # ---- internals ---------------------------------------------------------------------------

    def _lookup(self, req_id: str) -> SignRequest:
        req = self._requests.get(req_id)
        if req is None:
            raise RelayError(404, "no such request (ids are one-shot: it was never made, or already collected)")
        if req.state == "pending" and self._clock() >= req.expires:
            self._finish(req, "expired")
        return req

    def _check_open(self, req: SignRequest) -> None:
        if req.state == "expired":
            raise RelayError(410, "request expired; run the cell again to make a new one")
        if req.state == "cancelled":
            raise RelayError(409, "request was cancelled by the kernel")
        if req.state != "pending":
            raise RelayError(409, "request was already answered; each request can be answered once")

    def _finish(self, req: SignRequest, state: str) -> None:
        req.state = state
        req.finished = self._clock()
        self._bump()

    def _purge(self) -> None:
        now = self._clock()
        for req in list(self._requests.values()):
            if req.state == "pending" and now >= req.expires:
                self._finish(req, "expired")
            if req.state != "pending" and req.finished is not None and now - req.finished > RETENTION:
                del self._requests[req.id]

    def _bump(self) -> None:
        self._rev += 1
        for fut in self._waiters:
            if not fut.done():
                fut.set_result(None)
        self._waiters.clear()

    async def _wait(self, timeout: float) -> None:
        if timeout <= 0:
            return
        fut = asyncio.get_running_loop().create_future()
        self._waiters.add(fut)
        try:
            await asyncio.wait_for(fut, timeout)
        except asyncio.TimeoutError:
            pass
        finally:
            self._waiters.discard(fut)
