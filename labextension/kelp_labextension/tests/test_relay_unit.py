"""Relay state rules without HTTP: clock-driven expiry and retention, the open-request cap, and the
kernel URL derived from the server's address."""

from types import SimpleNamespace

import pytest

from kelp_labextension import relay_url
from kelp_labextension.relay import RETENTION, Relay, RelayError

from .conftest import TX_REQUEST


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_expiry_and_retention_follow_the_clock():
    clock = Clock()
    relay = Relay(clock=clock)
    req = relay.create(dict(TX_REQUEST, expires_in=10))
    clock.now += 9.9
    assert [r["id"] for r in relay.pending()] == [req.id]
    clock.now += 0.2
    assert relay.pending() == []
    with pytest.raises(RelayError) as err:
        relay.answer(req.id, {"result": "0x1"})
    assert err.value.status == 410
    clock.now += RETENTION + 1
    relay.pending()  # purges uncollected finished requests
    with pytest.raises(RelayError) as err:
        relay.collect(req.id)
    assert err.value.status == 404


def test_open_request_cap():
    relay = Relay(clock=Clock(), max_open=3)
    made = [relay.create(TX_REQUEST) for _ in range(3)]
    with pytest.raises(RelayError) as err:
        relay.create(TX_REQUEST)
    assert err.value.status == 429
    relay.cancel(made[0].id)
    relay.create(TX_REQUEST)


def test_error_answers_are_trimmed_and_codes_kept():
    relay = Relay(clock=Clock())
    req = relay.create(TX_REQUEST)
    relay.answer(req.id, {"error": {"code": -32000, "message": "x" * 2000}})
    out = relay.collect(req.id)
    assert out["error"]["code"] == -32000 and len(out["error"]["message"]) == 500


def _app(ip="127.0.0.1", port=8888, base_url="/", certfile="", sock=""):
    return SimpleNamespace(ip=ip, port=port, base_url=base_url, certfile=certfile, sock=sock)


@pytest.mark.parametrize(
    "app, url",
    [
        (_app(), "http://127.0.0.1:8888/kelp/relay"),
        (_app(ip=""), "http://127.0.0.1:8888/kelp/relay"),
        (_app(ip="0.0.0.0", port=9999), "http://127.0.0.1:9999/kelp/relay"),
        (_app(ip="::"), "http://[::1]:8888/kelp/relay"),
        (_app(ip="10.1.2.3", base_url="/user/ann/"), "http://10.1.2.3:8888/user/ann/kelp/relay"),
        (_app(certfile="/etc/cert.pem"), "https://127.0.0.1:8888/kelp/relay"),
        (_app(sock="/tmp/jupyter.sock"), None),
    ],
)
def test_kernel_url_from_server_address(app, url):
    assert relay_url(app) == url


def test_readable_summary_fields_reach_the_browser_unchanged():
    # What kelp's BrowserSigner sends for an Ocean node request: the browser shows these words.
    summary = {
        "title": "Authorise Ocean node http://127.0.0.1:8001 to encrypt (nonce 3)",
        "requester": "kelp kernel for notebook publish.ipynb",
        "step": "step 2 of 4",
        "network": "devnet (chain 8996)",
        "from": "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
        "method": "sign node request `encrypt`",
        "detail": "signs keccak256(account + nonce + command) = 0x12",
    }
    relay = Relay(clock=Clock())
    req = relay.create(dict(TX_REQUEST, summary=summary))
    assert relay.pending()[0]["summary"] == summary
    assert [r["id"] for r in relay.pending()] == [req.id]
    with pytest.raises(RelayError) as err:
        relay.create(dict(TX_REQUEST, summary={"usd": "12"}))
    assert err.value.status == 400 and "allowed: title, requester, step" in str(err.value)
