"""A real kernel started by the server inherits KELP_RELAY_URL/KELP_RELAY_SECRET and reaches the kernel
face with them: the cell makes a request, the browser face answers, the cell sees the answer."""

import asyncio
import json

from .conftest import TX_REQUEST

CELL = r"""
import json, os, urllib.request
url, secret = os.environ["KELP_RELAY_URL"], os.environ["KELP_RELAY_SECRET"]
def call(method, path, body=None):
    req = urllib.request.Request(url + path, method=method, data=None if body is None else json.dumps(body).encode(),
                                 headers={"X-Kelp-Relay-Secret": secret, "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.load(resp)
made = call("POST", "/kernel/requests", REQUEST)
print("MADE", made["id"], flush=True)
print("ANSWER", json.dumps(call("GET", "/kernel/requests/" + made["id"] + "?wait=20")), flush=True)
"""


async def test_kernel_inherits_relay_env_and_gets_an_answer(jp_serverapp, faces):
    km = jp_serverapp.kernel_manager
    kid = await km.start_kernel(kernel_name="python3")
    client = km.get_kernel(kid).client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=60)
        lines = []

        def output(msg):
            if msg["msg_type"] == "stream":
                lines.extend(msg["content"]["text"].splitlines())

        code = f"REQUEST = {json.dumps(TX_REQUEST)}\n" + CELL
        run = asyncio.ensure_future(client.execute_interactive(code, output_hook=output, timeout=60))
        for _ in range(200):
            if any(line.startswith("MADE") for line in lines) or run.done():
                break
            await asyncio.sleep(0.1)
        assert not run.done(), lines
        _, listing = await faces.browser("GET", "requests")
        [req] = listing["requests"]
        assert req["summary"]["method"] == "transfer"
        await faces.browser("POST", f"requests/{req['id']}/answer", {"result": "0x" + "12" * 32})
        reply = await run
        assert reply["content"]["status"] == "ok", reply["content"]
        [answer] = [json.loads(line[len("ANSWER "):]) for line in lines if line.startswith("ANSWER ")]
        assert answer["state"] == "answered" and answer["result"] == "0x" + "12" * 32
    finally:
        client.stop_channels()
        await km.shutdown_kernel(kid, now=True)
