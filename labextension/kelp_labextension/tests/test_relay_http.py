"""The relay over real HTTP in an in-process Jupyter server: both faces, auth, one-shot ids, expiry,
answer-once, cancel, long-polls and the no-secret rules."""

import asyncio
import os
import re

from .conftest import TX_REQUEST

ANVIL_KEY_0 = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"


async def test_extension_exports_url_and_secret_for_kernels(jp_serverapp, relay_secret):
    url = os.environ["KELP_RELAY_URL"]
    assert url == f"http://127.0.0.1:{jp_serverapp.port}/a%40b/kelp/relay"
    assert os.environ["KELP_RELAY_SECRET"] == relay_secret
    assert len(relay_secret) >= 40


async def test_unauthenticated_browser_calls_are_403(faces):
    code, _ = await faces.kernel("POST", "requests", TX_REQUEST)
    assert code == 201
    for method, path, body in [
        ("GET", "requests", None),
        ("GET", "wallet", None),
        ("PUT", "wallet", {"account": None}),
        ("POST", "requests/" + "A" * 32 + "/answer", {"result": "0x1"}),
        ("GET", "requests/" + "A" * 32, None),
    ]:
        code, data = await faces.browser(method, path, body, auth=False)
        assert code == 403, (method, path, code, data)
    code, page = await faces.browser("GET", "sign", auth=False)
    assert code in (302, 403), code  # a page redirects to login; never served without auth
    assert "kelp-relay-api" not in str(page)


async def test_kernel_secret_wrong_or_missing_is_403(faces):
    for secret in ["", "nope", faces.secret[:-1] + ("A" if faces.secret[-1] != "A" else "B")]:
        code, data = await faces.kernel("POST", "requests", TX_REQUEST, secret=secret)
        assert code == 403
        assert data == {"error": "wrong or missing relay secret"}
        code, _ = await faces.kernel("GET", "status", secret=secret)
        assert code == 403


async def test_browser_token_does_not_open_the_kernel_face(faces, jp_auth_header):
    code, _ = await faces.call("POST", "kernel/requests", TX_REQUEST, headers=dict(jp_auth_header))
    assert code == 403


async def test_full_cycle_answer_once_and_one_shot_collect(faces):
    code, made = await faces.kernel("POST", "requests", TX_REQUEST)
    assert code == 201 and made["state"] == "pending"
    rid = made["id"]
    assert re.fullmatch(r"[A-Za-z0-9_\-]{32}", rid)

    code, listing = await faces.browser("GET", "requests")
    assert code == 200
    [pending] = [r for r in listing["requests"] if r["id"] == rid]
    assert pending["summary"] == TX_REQUEST["summary"]
    assert pending["params"] == TX_REQUEST["params"]
    assert pending["chain_id"] == "0x7a69"

    code, state = await faces.kernel("GET", f"requests/{rid}")
    assert (code, state["state"]) == (200, "pending")

    tx_hash = "0x" + "ab" * 32
    code, _ = await faces.browser("POST", f"requests/{rid}/answer", {"result": tx_hash})
    assert code == 200
    code, again = await faces.browser("POST", f"requests/{rid}/answer", {"result": "0x" + "cd" * 32})
    assert code == 409 and "already answered" in again["error"]

    code, listing = await faces.browser("GET", "requests")
    assert rid not in [r["id"] for r in listing["requests"]]

    code, done = await faces.kernel("GET", f"requests/{rid}")
    assert code == 200 and done == {"id": rid, "state": "answered", "result": tx_hash, "expires_at": done["expires_at"]}
    code, gone = await faces.kernel("GET", f"requests/{rid}")
    assert code == 404 and "one-shot" in gone["error"]


async def test_rejection_reaches_the_kernel(faces):
    _, made = await faces.kernel("POST", "requests", TX_REQUEST)
    rid = made["id"]
    code, _ = await faces.browser(
        "POST", f"requests/{rid}/answer", {"error": {"code": 4001, "message": "rejected in wallet"}}
    )
    assert code == 200
    _, done = await faces.kernel("GET", f"requests/{rid}")
    assert done["state"] == "answered"
    assert done["error"] == {"code": 4001, "message": "rejected in wallet"}
    assert "result" not in done


async def test_expired_request_is_refused(faces):
    _, made = await faces.kernel("POST", "requests", dict(TX_REQUEST, expires_in=0.3))
    rid = made["id"]
    await asyncio.sleep(0.5)
    code, listing = await faces.browser("GET", "requests")
    assert rid not in [r["id"] for r in listing["requests"]]
    code, data = await faces.browser("POST", f"requests/{rid}/answer", {"result": "0x1"})
    assert code == 410 and "expired" in data["error"]
    code, state = await faces.kernel("GET", f"requests/{rid}")
    assert (code, state["state"]) == (200, "expired")
    assert "result" not in state and "error" not in state


async def test_cancel_removes_it_from_the_browser_and_refuses_answers(faces):
    _, made = await faces.kernel("POST", "requests", TX_REQUEST)
    rid = made["id"]
    code, out = await faces.kernel("DELETE", f"requests/{rid}")
    assert (code, out["state"]) == (200, "cancelled")
    _, listing = await faces.browser("GET", "requests")
    assert rid not in [r["id"] for r in listing["requests"]]
    code, data = await faces.browser("POST", f"requests/{rid}/answer", {"result": "0x1"})
    assert code == 409 and "cancelled" in data["error"]
    code, again = await faces.kernel("DELETE", f"requests/{rid}")
    assert code == 409
    code, state = await faces.kernel("GET", f"requests/{rid}")
    assert state["state"] == "cancelled"


async def test_unknown_ids_are_404_on_both_faces(faces):
    fake = "Z" * 32
    assert (await faces.kernel("GET", f"requests/{fake}"))[0] == 404
    assert (await faces.kernel("DELETE", f"requests/{fake}"))[0] == 404
    assert (await faces.browser("POST", f"requests/{fake}/answer", {"result": 1}))[0] == 404


async def test_ids_are_unguessable_and_distinct(faces):
    ids = set()
    for _ in range(20):
        _, made = await faces.kernel("POST", "requests", TX_REQUEST)
        ids.add(made["id"])
    assert len(ids) == 20
    assert all(len(i) == 32 for i in ids)


async def test_kernel_long_poll_returns_when_answered(faces):
    _, made = await faces.kernel("POST", "requests", TX_REQUEST)
    rid = made["id"]
    poll = asyncio.ensure_future(faces.kernel("GET", f"requests/{rid}", params={"wait": "10"}))
    await asyncio.sleep(0.3)
    assert not poll.done()
    await faces.browser("POST", f"requests/{rid}/answer", {"result": "0xbeef"})
    code, done = await asyncio.wait_for(poll, 5)
    assert (code, done["state"], done["result"]) == (200, "answered", "0xbeef")


async def test_browser_long_poll_wakes_on_new_request(faces):
    _, first = await faces.browser("GET", "requests")
    poll = asyncio.ensure_future(
        faces.browser("GET", "requests", params={"wait": "10", "after": str(first["revision"])})
    )
    await asyncio.sleep(0.3)
    assert not poll.done()
    _, made = await faces.kernel("POST", "requests", TX_REQUEST)
    code, listing = await asyncio.wait_for(poll, 5)
    assert code == 200 and listing["revision"] > first["revision"]
    assert made["id"] in [r["id"] for r in listing["requests"]]


async def test_bad_input_gets_one_clear_line(faces):
    cases = [
        ({"kind": "eth_sign", "params": []}, "kind must be one of"),
        ({"kind": "personal_sign", "params": "0x00"}, "params must be a JSON array"),
        (dict(TX_REQUEST, expires_in=99999), "expires_in must be"),
        (dict(TX_REQUEST, summary={"colour": "red"}), "unknown summary field"),
        (dict(TX_REQUEST, chain_id="mainnet"), "chain_id must be"),
        ("{not json", "not valid JSON"),
    ]
    for body, expect in cases:
        code, data = await faces.kernel("POST", "requests", body)
        assert code == 400, (body, data)
        assert expect in data["error"] and "\n" not in data["error"]
    _, made = await faces.kernel("POST", "requests", TX_REQUEST)
    code, data = await faces.browser("POST", f"requests/{made['id']}/answer", {"result": 1, "error": {}})
    assert code == 400 and "answer must be" in data["error"]
    code, data = await faces.kernel("GET", f"requests/{made['id']}", params={"wait": "abc"})
    assert code == 400 and "wait must be" in data["error"]


async def test_requests_naming_a_key_are_refused(faces):
    body = dict(TX_REQUEST, params=[{"to": "0x00", "privateKey": "0x" + ANVIL_KEY_0}])
    code, data = await faces.kernel("POST", "requests", body)
    assert code == 400 and "looks like a secret" in data["error"]
    assert ANVIL_KEY_0 not in data["error"]
    _, made = await faces.kernel("POST", "requests", TX_REQUEST)
    code, data = await faces.browser("POST", f"requests/{made['id']}/answer", {"result": {"mnemonic": "a b c"}})
    assert code == 400


async def test_wallet_state_flows_to_the_kernel_status(faces):
    code, status = await faces.kernel("GET", "status")
    assert code == 200 and status["relay"] == "kelp" and status["wallet"] is None
    account = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"
    code, _ = await faces.browser("PUT", "wallet", {"account": account, "chain_id": "0x7a69", "name": "Test"})
    assert code == 200
    _, status = await faces.kernel("GET", "status")
    assert status["wallet"]["account"] == account and status["wallet"]["chain_id"] == "0x7a69"
    code, data = await faces.browser("PUT", "wallet", {"account": "0x123"})
    assert code == 400 and "20-byte hex address" in data["error"]


async def test_signing_page_is_served_with_api_and_script(faces, jp_fetch):
    resp = await jp_fetch("kelp", "relay", "sign")
    page = resp.body.decode()
    assert resp.code == 200
    assert 'content="/a%40b/kelp/relay"' in page
    assert '<script src="sign.js"></script>' in page
    xsrf = re.search(r'name="kelp-xsrf" content="([^"]+)"', page).group(1)
    assert len(xsrf) > 20
    js = await jp_fetch("kelp", "relay", "sign.js")
    assert "eip6963:requestProvider" in js.body.decode()


async def test_no_secret_in_any_response(faces, jp_serverapp):
    _, made = await faces.kernel("POST", "requests", TX_REQUEST)
    await faces.browser("GET", "requests")
    await faces.browser("POST", f"requests/{made['id']}/answer", {"result": "0x01"})
    await faces.kernel("GET", f"requests/{made['id']}")
    await faces.kernel("GET", "status")
    await faces.kernel("GET", "status", secret="wrong")
    assert len(faces.seen) >= 6
    token = jp_serverapp.identity_provider.token
    for text in faces.seen:
        assert faces.secret not in text
        assert token not in text
        assert ANVIL_KEY_0 not in text


async def test_kernel_status_tells_whether_a_browser_listens(faces):
    _, status = await faces.kernel("GET", "status")
    assert status["browser"] == {"watching": 0, "last_seen": None}
    _, first = await faces.browser("GET", "requests")
    poll = asyncio.ensure_future(
        faces.browser("GET", "requests", params={"wait": "10", "after": str(first["revision"])})
    )
    await asyncio.sleep(0.3)
    _, status = await faces.kernel("GET", "status")
    assert status["browser"]["watching"] == 1
    assert status["browser"]["last_seen"] > 0
    await faces.kernel("POST", "requests", TX_REQUEST)
    await asyncio.wait_for(poll, 5)
    _, status = await faces.kernel("GET", "status")
    assert status["browser"]["watching"] == 0 and status["pending"] == 1
