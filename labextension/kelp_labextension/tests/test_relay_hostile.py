"""Hostile bodies and query arguments on every relay route, both faces, over real HTTP in an in-process
Jupyter server (security issue #12, item 8): each gets a 4xx with one JSON line saying what was wrong,
never a 500, and authentication is checked before the body is looked at."""

import json

import pytest

from ..body import MAX_DEPTH, json_depth_exceeds, parse_json_body
from ..relay import RelayError
from .conftest import TX_REQUEST

DEEP = b"[" * 100_000 + b"]" * 100_000  # json.loads alone raises RecursionError on this
JUST_TOO_DEEP = b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1)  # parses fine without the depth limit

# (body, words the one-line error must contain)
UNDECODABLE = [
    (b'{"kind": "personal_sign\xff"}', "not valid UTF-8"),
    (b"\xc3\x28", "not valid UTF-8"),
    (b"\xed\xa0\x80", "not valid UTF-8"),  # a UTF-8-encoded surrogate
    (b'{"kind": ', "not valid JSON"),
    (b'{"result": NaN}', "not valid JSON"),
    (b'{"result": -Infinity}', "not valid JSON"),
    (b'{"result": 1e999}', "not valid JSON"),
    (b'{"result": ' + b"9" * 5000 + b"}", "not valid JSON"),
    (b'{"result": "\\ud800"}', "unpaired UTF-16 surrogate"),
    (DEEP, f"more than {MAX_DEPTH} deep"),
    (b'{"a":' * 5000 + b"1" + b"}" * 5000, f"more than {MAX_DEPTH} deep"),
    (JUST_TOO_DEEP, f"more than {MAX_DEPTH} deep"),
]


def _routes(rid):
    """Every route that reads a body, as (face, method, path)."""
    return [
        ("kernel", "POST", "requests"),
        ("browser", "POST", f"requests/{rid}/answer"),
        ("browser", "PUT", "wallet"),
    ]


async def _call(faces, face, method, path, body, auth=True):
    if face == "kernel":
        return await faces.kernel(method, path, body, secret=None if auth else "wrong")
    return await faces.browser(method, path, body, auth=auth)


def _one_line_error(data):
    assert isinstance(data, dict) and set(data) == {"error"}, data
    assert "\n" not in data["error"] and 0 < len(data["error"]) < 300, data
    return data["error"]


@pytest.mark.parametrize("body,expect", UNDECODABLE, ids=range(len(UNDECODABLE)))
async def test_undecodable_and_too_deep_bodies_are_400_on_every_route(faces, body, expect):
    _, made = await faces.kernel("POST", "requests", TX_REQUEST)
    for face, method, path in _routes(made["id"]):
        code, data = await _call(faces, face, method, path, body)
        assert code == 400, (face, path, code, data)
        assert expect in _one_line_error(data), (face, path, data)
    # Nothing was consumed by the refused answers: the request is still pending and answerable.
    code, _ = await faces.browser("POST", f"requests/{made['id']}/answer", {"result": "0x01"})
    assert code == 200


async def test_a_depth_at_the_limit_is_accepted(faces):
    nested = "0x01"
    for _ in range(MAX_DEPTH - 2):  # the body object and its "result" list are two more levels
        nested = [nested]
    code, made = await faces.kernel("POST", "requests", TX_REQUEST)
    code, _ = await faces.browser("POST", f"requests/{made['id']}/answer", {"result": [nested]})
    assert code == 200
    _, done = await faces.kernel("GET", f"requests/{made['id']}")
    assert done["result"] == [nested]


WRONG_TYPES = [
    # (face, method, path or None for the answer route, body, words in the error)
    ("kernel", "POST", "requests", [TX_REQUEST], "must be a JSON object"),
    ("kernel", "POST", "requests", "\"eth_sendTransaction\"", "must be a JSON object"),
    ("kernel", "POST", "requests", 42, "must be a JSON object"),
    ("kernel", "POST", "requests", dict(TX_REQUEST, kind=["eth_sendTransaction"]), "kind must be one of"),
    ("kernel", "POST", "requests", dict(TX_REQUEST, kind={"a" * 10_000: 1}), "kind must be one of"),
    ("kernel", "POST", "requests", dict(TX_REQUEST, params={"to": "0x00"}), "params must be a JSON array"),
    ("kernel", "POST", "requests", dict(TX_REQUEST, expires_in="60"), "expires_in must be"),
    ("kernel", "POST", "requests", dict(TX_REQUEST, expires_in=True), "expires_in must be"),
    ("kernel", "POST", "requests", dict(TX_REQUEST, summary=["transfer"]), "summary must be a JSON object"),
    ("kernel", "POST", "requests", dict(TX_REQUEST, summary={"x\ny": 1}), "unknown summary field"),
    ("kernel", "POST", "requests", dict(TX_REQUEST, chain_id=True), "chain_id must be"),
    ("kernel", "POST", "requests", dict(TX_REQUEST, chain_id=10**80), "chain_id must be"),
    ("kernel", "POST", "requests", dict(TX_REQUEST, chain_id=1.5), "chain_id must be"),
    ("kernel", "POST", "requests", dict(TX_REQUEST, add_chain=[1]), "add_chain must be"),
    ("kernel", "POST", "requests", dict(TX_REQUEST, params=[{"x\nprivate_key": "x"}]), "looks like a secret"),
    ("browser", "POST", None, [1], "answer must be"),
    ("browser", "POST", None, "\"0x01\"", "answer must be"),
    ("browser", "POST", None, {"error": "no"}, "error must be"),
    ("browser", "POST", None, {"error": {"code": 1, "message": 7}}, "error must be"),
    ("browser", "PUT", "wallet", [1], "wallet must be"),
    ("browser", "PUT", "wallet", {"account": 12}, "account must be"),
    ("browser", "PUT", "wallet", {"account": None, "name": {"n": 1}}, "name must be"),
    ("browser", "PUT", "wallet", {"account": None, "chain_id": [1]}, "chain_id must be"),
    ("browser", "PUT", "wallet", {"account": None, "chain_id": False}, "chain_id must be"),
]


@pytest.mark.parametrize("face,method,path,body,expect", WRONG_TYPES, ids=range(len(WRONG_TYPES)))
async def test_wrong_types_are_400_with_one_line(faces, face, method, path, body, expect):
    if path is None:
        _, made = await faces.kernel("POST", "requests", TX_REQUEST)
        path = f"requests/{made['id']}/answer"
    code, data = await _call(faces, face, method, path, body if isinstance(body, str) else json.dumps(body))
    assert code == 400, (face, path, code, data)
    assert expect in _one_line_error(data), data


async def test_wallet_rejects_a_bool_chain_id_but_keeps_the_integer_form(faces):
    code, data = await faces.browser("PUT", "wallet", {"account": None, "chain_id": 31337})
    assert (code, data["wallet"]["chain_id"]) == (200, "0x7a69")


async def test_answer_error_code_of_the_wrong_type_is_dropped_not_kept(faces):
    _, made = await faces.kernel("POST", "requests", TX_REQUEST)
    rid = made["id"]
    code, _ = await faces.browser("POST", f"requests/{rid}/answer", {"error": {"code": True, "message": "no"}})
    assert code == 200
    _, done = await faces.kernel("GET", f"requests/{rid}")
    assert done["error"] == {"code": None, "message": "no"}


@pytest.fixture
def raw_get(http_server_client, jp_base_url, jp_auth_header, relay_secret):
    """GET a relay path with its query string sent byte for byte (jp_fetch would re-escape it)."""

    async def get(path, face, auth=True):
        if face == "kernel":
            headers = {"X-Kelp-Relay-Secret": relay_secret if auth else "wrong", "Authorization": ""}
        else:
            headers = dict(jp_auth_header) if auth else {"Authorization": ""}
        resp = await http_server_client.fetch(
            jp_base_url + "kelp/relay/" + path, headers=headers, raise_error=False, follow_redirects=False
        )
        return resp.code, json.loads(resp.body) if resp.body else None

    return get


async def test_query_arguments_that_are_not_utf8_are_400(faces, raw_get):
    _, made = await faces.kernel("POST", "requests", TX_REQUEST)
    code, data = await raw_get(f"kernel/requests/{made['id']}?wait=%ff", "kernel")
    assert code == 400 and "wait is not valid UTF-8" in _one_line_error(data)
    code, data = await raw_get("requests?wait=1&after=%ff%fe", "browser")
    assert code == 400 and "after is not valid UTF-8" in _one_line_error(data)
    code, data = await faces.browser("GET", "requests", params={"wait": "1", "after": "9" * 5000})
    assert code == 400 and "after must be an integer" in _one_line_error(data)
    code, data = await faces.kernel("GET", f"requests/{made['id']}", params={"wait": "nan"})
    assert code == 400 and "wait must be" in _one_line_error(data)
    # Authentication first: without it, the same bad query is a 403.
    assert (await raw_get(f"kernel/requests/{made['id']}?wait=%ff", "kernel", auth=False))[0] == 403
    assert (await raw_get("requests?wait=%ff", "browser", auth=False))[0] == 403


async def test_too_large_body_is_413_with_one_line(faces):
    big = json.dumps(dict(TX_REQUEST, params=["0x" + "00" * (1 << 20)]))
    code, data = await faces.kernel("POST", "requests", big)
    assert code == 413 and "request body over" in _one_line_error(data)


async def test_authentication_is_checked_before_the_body(faces):
    """A caller without the secret (kernel face) or Jupyter's auth (browser face) learns nothing
    from a bad body: it gets the same 403 as for a good one."""
    _, made = await faces.kernel("POST", "requests", TX_REQUEST)
    bodies = [body for body, _ in UNDECODABLE] + [b"[]", json.dumps({"result": 1, "error": 2})]
    for face, method, path in _routes(made["id"]):
        for body in bodies:
            code, data = await _call(faces, face, method, path, body, auth=False)
            assert code == 403, (face, path, code, data)
            if face == "kernel":
                assert data == {"error": "wrong or missing relay secret"}
    code, _ = await faces.kernel("GET", "status", secret="wrong")
    assert code == 403


def test_depth_scan_skips_brackets_inside_strings_and_is_iterative():
    assert not json_depth_exceeds(json.dumps({"s": "[" * 10_000 + '\\"{' * 1000}))
    assert json_depth_exceeds("[" * 10_000_000)
    assert not json_depth_exceeds('"' + "[" * 1000)  # an unterminated string swallows the rest
    with pytest.raises(RelayError) as err:
        parse_json_body(b"[" * 1000 + b'"' + b"]" * 1000)
    assert err.value.status == 400 and "deep" in err.value.message
