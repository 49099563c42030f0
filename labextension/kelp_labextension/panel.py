"""HTTP routes of the kelp side panel and the file-browser commands (`<base>/kelp/panel/…`).

Browser face only: every verb is `@tornado.web.authenticated` (Jupyter's token/cookie auth, with its
XSRF check on POST). Each route runs `kelp … --json` through `cli.Kelp` (no shell, checked
arguments, bounded time) with the server's environment — the kernels' own, so the panel sees the
same KELP_HOME, devnet and relay as a notebook — and answers JSON, or `{"error": "<one line>"}`.
Before any answer leaves, it is checked not to contain the relay secret or a key-like field.

| route | kelp |
|---|---|
| `GET wallet?network=N` | `wallet show` (`read_signer`: the browser wallet once it reported account and chain, else local) |
| `GET assets?network=N` | `ocean assets --mine` (same signer) + `ocean show` per asset (orders) |
| `GET asset?did=D&network=N` | `ocean show D` |
| `GET jobs`, `GET jobs/<id>/logs` | `c2d list`, `c2d logs <id>` |
| `GET ipfs` | `ipfs config show`, `ipfs pin ls`, `ipfs stat` per pin (sizes) |
| `POST ipfs/add {path}` | `ipfs add [-r] <path>` (a file or folder inside the Lab's root) |
| `POST publish {path, name, type, price, license, description, network}` | `publish <path> … --signer=browser` |
| `POST compute {dataset, algorithm, network}` (each a DID or a Lab path) | `c2d start --dataset=… --algorithm=… --signer=browser` |
| `POST get {did, network}` | `ocean get <DID> --signer=browser` into the Lab's root (+ `lab_path`) |
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

import tornado.web
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join

from .body import parse_json_body, query_arg
from .cli import (
    ACTION_TIMEOUT,
    Kelp,
    PanelError,
    check_body,
    check_cid,
    check_did,
    check_job,
    check_network,
    check_path,
    compute_args,
    publish_args,
)
from .relay import Relay, RelayError, _find_secret_key

NAMESPACE = "kelp/panel"
#: How many pins get a size (one `kelp ipfs stat` each) and how many assets an order count.
MAX_DETAILED = 100
_PARALLEL = 4


def _no_secrets(payload: Any, secret: str) -> str:
    """The JSON text of `payload`, refused if it holds the relay secret or a key-like field."""
    text = json.dumps(payload)
    if secret and secret in text:
        raise PanelError(500, "refused to answer: the reply would contain the relay secret")
    key = _find_secret_key(payload)
    if key:
        raise PanelError(500, f"refused to answer: the reply has a field named {key!r}")
    return text


async def _bounded(jobs: list, limit: int = _PARALLEL) -> list:
    """Run the coroutines `jobs`, at most `limit` at a time; a failure becomes that job's PanelError."""
    gate = asyncio.Semaphore(limit)

    async def one(job):
        async with gate:
            try:
                return await job
            except PanelError as err:
                return err

    return await asyncio.gather(*(one(j) for j in jobs))


def read_signer(relay: Relay | None) -> str:
    """The signer of a read: the browser wallet once a browser has reported its account and chain
    (kelp then learns both from the relay without asking), else the local one. A read never puts a
    request in front of the person."""
    wallet = relay.wallet if relay is not None else None
    if wallet and wallet.get("account") and wallet.get("chain_id"):
        return "--signer=browser"
    return "--signer=local"


class PanelBase(APIHandler):
    def initialize(self, kelp: Kelp, secret: str, relay: Relay | None = None, make_args=None) -> None:
        self.kelp = kelp
        self.secret = secret
        self.relay = relay
        self.make_args = make_args

    @property
    def root(self) -> str:
        return self.kelp.cwd

    def body(self) -> Any:
        try:
            return parse_json_body(self.request.body or b"")
        except RelayError as err:
            raise PanelError(err.status, err.message)

    def network(self) -> str:
        try:
            return check_network(query_arg(self, "network", ""))
        except RelayError as err:
            raise PanelError(400, err.message)

    async def answer(self, produce) -> None:
        try:
            status, text = 200, _no_secrets(await produce(), self.secret)
        except (PanelError, RelayError) as err:  # RelayError: a query argument that is not UTF-8
            status, text = err.status, json.dumps({"error": err.message})
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-store")
        self.finish(text)

    async def devnet_down(self, network: str) -> dict | None:
        """For the devnet: a `{"devnet": "down", …}` answer when it is not running (reads never start it)."""
        if network != "devnet":
            return None
        status = await self.kelp.json(["devnet", "status"])
        if status.get("running"):
            return None
        return {"devnet": "down", "message": "the devnet is not running: start it with `kelp devnet up` or run %publish"}


class WalletHandler(PanelBase):
    @tornado.web.authenticated
    async def get(self) -> None:
        async def produce():
            network = self.network()
            signer = read_signer(self.relay)
            return await self.devnet_down(network) or await self.kelp.json(["wallet", "show", f"--network={network}", signer])

        await self.answer(produce)


class AssetsHandler(PanelBase):
    @tornado.web.authenticated
    async def get(self) -> None:
        async def produce():
            network = self.network()
            down = await self.devnet_down(network)
            if down:
                return {**down, "assets": []}
            listing = await self.kelp.json(["ocean", "assets", "--mine", f"--network={network}", read_signer(self.relay)])
            assets = listing.get("assets", [])
            shows = await _bounded(
                [self.kelp.json(["ocean", "show", check_did(a.get("did")), f"--network={network}"]) for a in assets[:MAX_DETAILED]]
            )
            for asset, ddo in zip(assets, shows):
                if isinstance(ddo, dict):
                    stats = (ddo.get("indexedMetadata") or {}).get("stats") or []
                    asset["orders"] = sum(int(s.get("orders") or 0) for s in stats if isinstance(s, dict))
                    asset["description"] = (ddo.get("metadata") or {}).get("description")
            return {"network": network, "assets": assets}

        await self.answer(produce)


class AssetHandler(PanelBase):
    @tornado.web.authenticated
    async def get(self) -> None:
        async def produce():
            did = check_did(query_arg(self, "did", ""))
            return await self.kelp.json(["ocean", "show", did, f"--network={self.network()}"])

        await self.answer(produce)


class JobsHandler(PanelBase):
    @tornado.web.authenticated
    async def get(self) -> None:
        await self.answer(lambda: self.kelp.json(["c2d", "list"]))


class JobLogsHandler(PanelBase):
    @tornado.web.authenticated
    async def get(self, job: str) -> None:
        async def produce():
            return await self.kelp.json(["c2d", "logs", check_job(job)])

        await self.answer(produce)


class IpfsHandler(PanelBase):
    @tornado.web.authenticated
    async def get(self) -> None:
        async def produce():
            config = await self.kelp.json(["ipfs", "config", "show"])
            pins = (await self.kelp.json(["ipfs", "pin", "ls", "--offline"])).get("pins", [])
            stats = await _bounded(
                [self.kelp.json(["ipfs", "stat", check_cid(p.get("cid")), "--offline"]) for p in pins[:MAX_DETAILED]]
            )
            for pin, stat in zip(pins, stats):
                if isinstance(stat, dict):
                    pin["size"] = stat.get("size")
                    pin["cumulative_size"] = stat.get("cumulative_size")
                    pin["kind"] = stat.get("kind")
            gateway = str(config.get("gateway") or "https://ipfs.io").rstrip("/")
            return {"gateway": gateway, "backend": config.get("backend"), "pins": pins}

        await self.answer(produce)


class IpfsAddHandler(PanelBase):
    @tornado.web.authenticated
    async def post(self) -> None:
        async def produce():
            path = check_path(self.root, check_body(self.body(), {"path"}))
            args = ["ipfs", "add", path] + (["-r"] if os.path.isdir(path) else [])
            added = await self.kelp.json(args)
            keep = ("cid", "name", "size", "tsize", "gateway_url", "pinned", "cid_version")
            return {k: added.get(k) for k in keep}

        await self.answer(produce)


class ActionHandler(PanelBase):
    """`kelp publish` ("Publish to Ocean…") or `kelp c2d start` ("Compute on…"), by the route's
    `make_args`; the relay's dialogs ask the wallet while it runs."""

    @tornado.web.authenticated
    async def post(self) -> None:
        async def produce():
            return await self.kelp.json(self.make_args(self.root, self.body()), timeout=ACTION_TIMEOUT)

        await self.answer(produce)


class GetHandler(PanelBase):
    @tornado.web.authenticated
    async def post(self) -> None:
        async def produce():
            body = check_body(self.body(), {"did", "network"})
            did = check_did(body.get("did"))
            network = check_network(body.get("network"))
            args = ["ocean", "get", did, f"--network={network}", "--signer=browser"]
            got = await self.kelp.json(args, timeout=ACTION_TIMEOUT)
            where = str(got.get("path") or "")
            if where.startswith(self.root + os.sep):
                got["lab_path"] = where[len(self.root) + 1 :]  # where the file browser shows it
            return got

        await self.answer(produce)


def panel_routes(base_url: str, root_dir: str, secret: str, relay: Relay | None = None, binary: str | None = None) -> list[tuple]:
    def at(path: str) -> str:
        return url_path_join(base_url, NAMESPACE, path)

    args = {"kelp": Kelp(root_dir, binary), "secret": secret, "relay": relay}
    return [
        (at("wallet"), WalletHandler, args),
        (at("assets"), AssetsHandler, args),
        (at("asset"), AssetHandler, args),
        (at("jobs"), JobsHandler, args),
        (at(r"jobs/([^/]{1,200})/logs"), JobLogsHandler, args),
        (at("ipfs"), IpfsHandler, args),
        (at("ipfs/add"), IpfsAddHandler, args),
        (at("publish"), ActionHandler, {**args, "make_args": publish_args}),
        (at("compute"), ActionHandler, {**args, "make_args": compute_args}),
        (at("get"), GetHandler, args),
    ]
