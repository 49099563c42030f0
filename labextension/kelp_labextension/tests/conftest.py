"""Fixtures: an in-process Jupyter server (pytest-jupyter) with the relay loaded, and JSON helpers for
its kernel face (secret header) and browser face (Jupyter token)."""

import json

import pytest

pytest_plugins = ["pytest_jupyter.jupyter_server"]


@pytest.fixture
def jp_server_config(jp_server_config):
    return {"ServerApp": {"jpserver_extensions": {"kelp_labextension": True}}}


@pytest.fixture
def relay_secret(jp_serverapp):
    return jp_serverapp.web_app.settings["kelp_relay_secret"]


class Faces:
    """Calls one face of the relay and returns (status, json body) without raising on 4xx."""

    def __init__(self, fetch, secret):
        self.fetch = fetch
        self.secret = secret
        self.seen = []  # every response body, for the no-secret checks

    async def call(self, method, path, body=None, headers=None, params=None):
        kwargs = {"method": method, "raise_error": False, "follow_redirects": False, "headers": headers or {}, "params": params}
        if body is not None:
            kwargs["body"] = body if isinstance(body, (str, bytes)) else json.dumps(body)
        elif method in ("POST", "PUT"):
            kwargs["body"] = b""
        resp = await self.fetch("kelp", "relay", *path.split("/"), **kwargs)
        text = resp.body.decode() if resp.body else ""
        self.seen.append(text)
        try:
            data = json.loads(text) if text else None
        except ValueError:
            data = text
        return resp.code, data

    async def kernel(self, method, path, body=None, secret=None, params=None):
        hdr = {"X-Kelp-Relay-Secret": self.secret if secret is None else secret, "Authorization": ""}
        return await self.call(method, "kernel/" + path, body, hdr, params)

    async def browser(self, method, path, body=None, params=None, auth=True):
        hdr = {} if auth else {"Authorization": ""}
        return await self.call(method, path, body, hdr, params)


@pytest.fixture
def faces(jp_fetch, relay_secret):
    return Faces(jp_fetch, relay_secret)


TX_REQUEST = {
    "kind": "eth_sendTransaction",
    "params": [{"to": "0x70997970c51812dc3a010c7d01b50e0d17dc79c8", "value": "0xde0b6b3a7640000"}],
    "summary": {
        "network": "devnet (chain 31337)",
        "contract": "(plain transfer)",
        "method": "transfer",
        "args": {"to": "0x70997970c51812dc3a010c7d01b50e0d17dc79c8"},
        "value": "1 ETH",
        "gas": "21000",
    },
    "chain_id": 31337,
}
