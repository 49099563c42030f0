"""The kelp panel's routes (`<base>/kelp/panel/…`) in an in-process Jupyter server running the real
`kelp` binary ($KELP_BIN, else the debug build under $CARGO_TARGET_DIR or ~/.cache/kelp/target) on
an own KELP_HOME: Jupyter's auth on every verb, one-line 400s for bad input (paths outside the
Lab's root, '..', symlinks, unknown fields, bad DIDs/networks/prices/job ids), kelp's own error
as one line, and real answers (Add to IPFS gives Kubo's CID; the store lists the pin with its size);
no answer carries the relay secret."""

import asyncio
import json
import os
from pathlib import Path

import pytest

from kelp_labextension.cli import Kelp, PanelError, _what, parse_output, publish_args
from kelp_labextension.panel import read_signer
from kelp_labextension.relay import Relay

#: `echo hello | ipfs add` with Kubo's defaults.
HELLO_CID = "QmZULkCELmmk5XNfCgTnCyFgAVxBRBXyDHGGMVoLFLiXEN"
DID = "did:op:" + "ab" * 32


# Read at import: pytest-jupyter points HOME at a temporary directory while a test runs.
_TARGET = os.environ.get("CARGO_TARGET_DIR") or os.path.expanduser("~/.cache/kelp/target")
KELP_BIN = os.environ.get("KELP_BIN") or os.path.join(_TARGET, "debug", "kelp")


def _kelp_bin() -> str:
    assert os.access(KELP_BIN, os.X_OK), f"the kelp binary is missing at {KELP_BIN}: run ./install/build"
    return KELP_BIN


@pytest.fixture
def kelp_env(monkeypatch, tmp_path):
    monkeypatch.setenv("KELP_BIN", _kelp_bin())
    monkeypatch.setenv("KELP_HOME", str(tmp_path / "kelp-home"))
    monkeypatch.setenv("KELP_IPFS_OFFLINE", "1")
    for var in ("KELP_NETWORK", "KELP_PRIVATE_KEY", "KELP_KEYSTORE"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def panel(jp_fetch, relay_secret):
    seen = []

    async def call(method, path, body=None, auth=True, params=None):
        kwargs = {"method": method, "raise_error": False, "follow_redirects": False, "params": params}
        kwargs["headers"] = {} if auth else {"Authorization": ""}
        if body is not None:
            kwargs["body"] = body if isinstance(body, str) else json.dumps(body)
        elif method == "POST":
            kwargs["body"] = b""
        resp = await jp_fetch("kelp", "panel", *path.split("/"), **kwargs)
        text = resp.body.decode() if resp.body else ""
        seen.append(text)
        return resp.code, (json.loads(text) if text.startswith(("{", "[")) else text)

    call.seen = seen
    return call


ROUTES = [
    ("GET", "wallet"),
    ("GET", "assets"),
    ("GET", "asset"),
    ("GET", "jobs"),
    ("GET", "jobs/abc/logs"),
    ("GET", "ipfs"),
    ("POST", "ipfs/add"),
    ("POST", "publish"),
    ("POST", "compute"),
    ("POST", "get"),
]


@pytest.mark.parametrize("method,path", ROUTES)
async def test_every_panel_route_needs_jupyter_auth(panel, kelp_env, method, path):
    body = {"path": "x"} if method == "POST" else None
    code, _ = await panel(method, path, body, auth=False)
    assert code == 403


def _one_line(data):
    assert isinstance(data, dict) and set(data) == {"error"}, data
    assert "\n" not in data["error"] and 0 < len(data["error"]) < 300, data
    return data["error"]


BAD = [
    ("POST", "ipfs/add", {"path": "../etc/passwd"}, "inside the Lab's root"),
    ("POST", "ipfs/add", {"path": "/etc/passwd"}, "inside the Lab's root"),
    ("POST", "ipfs/add", {"path": "a/../../x"}, "inside the Lab's root"),
    ("POST", "ipfs/add", {"path": "escape"}, "outside the Lab's root"),
    ("POST", "ipfs/add", {"path": "missing.csv"}, "does not exist"),
    ("POST", "ipfs/add", {"path": 7}, "path must be a string"),
    ("POST", "ipfs/add", {}, "path is missing"),
    ("POST", "ipfs/add", {"path": "data.csv", "to": "kubo"}, "unknown field 'to'"),
    ("POST", "ipfs/add", [1], "must be a JSON object"),
    ("POST", "ipfs/add", "{nope", "not valid JSON"),
    ("POST", "publish", {"path": "data.csv"}, "name is missing"),
    ("POST", "publish", {"path": "data.csv", "name": "   "}, "name is blank"),
    ("POST", "publish", {"path": "data.csv", "name": "n", "type": "model"}, "type must be dataset or algorithm"),
    ("POST", "publish", {"path": "data.csv", "name": "n", "price": "--network=x"}, "price must be"),
    ("POST", "publish", {"path": "data.csv", "name": "n", "network": "--help"}, "network must be one of"),
    ("POST", "publish", {"path": "data.csv", "name": "n\u0000"}, "control characters"),
    ("POST", "publish", {"path": "data.csv", "name": "x" * 300}, "longer than 256"),
    ("POST", "compute", {"algorithm": "data.csv", "dataset": "did:op:xyz"}, "dataset must be an Ocean DID"),
    ("POST", "compute", {"algorithm": "sub", "dataset": DID}, "must be a file"),
    ("POST", "compute", {"algorithm": "../x.py", "dataset": DID}, "algorithm must be a path inside"),
    ("POST", "compute", {"algorithm": DID}, "dataset is missing"),
    ("POST", "get", {"did": "-o/etc"}, "did must be an Ocean DID"),
    ("GET", "asset?did=nope", None, "did must be an Ocean DID"),
    ("GET", "assets?network=file:///etc", None, "network must be one of"),
    ("GET", "jobs/a%20b/logs", None, "job id must be"),
]


@pytest.mark.parametrize("path,name", [("asset?did=%ff", "did"), ("wallet?network=%ff%fe", "network"), ("assets?network=%c3", "network")])
async def test_a_query_argument_that_is_not_utf8_is_one_400_line(kelp_env, http_server_client, jp_base_url, jp_auth_header, path, name):
    # (sent byte for byte: jp_fetch would re-escape the %)
    resp = await http_server_client.fetch(jp_base_url + "kelp/panel/" + path, headers=jp_auth_header, raise_error=False)
    assert resp.code == 400
    assert _one_line(json.loads(resp.body)) == f"query argument {name} is not valid UTF-8"



@pytest.mark.parametrize("method,path,body,expect", BAD, ids=range(len(BAD)))
async def test_bad_input_is_one_400_line(panel, kelp_env, jp_root_dir, tmp_path, method, path, body, expect):
    (Path(jp_root_dir) / "data.csv").write_text("a,b\n1,2\n")
    (Path(jp_root_dir) / "sub").mkdir(exist_ok=True)
    outside = tmp_path / "outside.txt"
    outside.write_text("not for the Lab")
    if not (Path(jp_root_dir) / "escape").exists():
        (Path(jp_root_dir) / "escape").symlink_to(outside)
    path, _, query = path.partition("?")
    params = dict([query.split("=", 1)]) if query else None
    code, data = await panel(method, path, body, params=params)
    assert code == 400, (path, code, data)
    assert expect in _one_line(data), data


async def test_add_to_ipfs_gives_kubos_cid_and_the_store_lists_it(panel, kelp_env, jp_root_dir, relay_secret):
    (Path(jp_root_dir) / "hello.txt").write_text("hello\n")
    code, added = await panel("POST", "ipfs/add", {"path": "hello.txt"})
    assert code == 200, added
    assert (added["cid"], added["size"], added["pinned"]) == (HELLO_CID, 6, True)
    code, store = await panel("GET", "ipfs")
    assert code == 200, store
    pin = next(p for p in store["pins"] if p["cid"] == HELLO_CID)
    assert (pin["size"], pin["kind"]) == (6, "file")
    assert store["gateway"].startswith("http")
    assert not any(relay_secret in text for text in panel.seen)


async def test_a_folder_is_added_recursively(panel, kelp_env, jp_root_dir):
    folder = Path(jp_root_dir) / "reefs"
    folder.mkdir()
    (folder / "a.csv").write_text("site\nA\n")
    code, added = await panel("POST", "ipfs/add", {"path": "reefs"})
    assert code == 200, added
    code, listed = await panel("GET", "ipfs")
    assert added["cid"] in [p["cid"] for p in listed["pins"]]
    assert next(p for p in listed["pins"] if p["cid"] == added["cid"])["kind"] == "directory"


async def test_kelps_own_error_is_one_line(panel, kelp_env):
    code, data = await panel("GET", "jobs/0123456789abcdef/logs")
    assert code == 502
    assert "unknown job" in _one_line(data), data
    code, data = await panel("GET", "jobs")
    assert (code, data) == (200, {"jobs": []})


async def test_compute_on_two_lab_files_runs_a_sandbox_job_with_its_log(panel, kelp_env, jp_root_dir):
    (Path(jp_root_dir) / "data.csv").write_text("a,b\n1,2\n")
    (Path(jp_root_dir) / "count.py").write_text("import os\nprint('inputs:', sorted(os.listdir('/data/inputs')))\n")
    code, job = await panel("POST", "compute", {"dataset": "data.csv", "algorithm": "count.py"})
    assert code == 200, job
    assert job["environment"] == "kelp-local-bwrap"
    code, jobs = await panel("GET", "jobs")
    assert [j["jobId"] for j in jobs["jobs"]] == [job["jobId"]]
    for _ in range(600):  # until the sandbox finishes (polled; no time is asserted)
        _, jobs = await panel("GET", "jobs")
        if jobs["jobs"][0]["finished"]:
            break
        await asyncio.sleep(0.1)
    assert jobs["jobs"][0]["statusText"] == "Job finished", jobs
    code, logs = await panel("GET", f"jobs/{job['jobId']}/logs")
    assert (code, logs["log"]) == (200, "inputs: ['algoCustomData.json', 'data.csv']\n")


def test_an_error_names_the_subcommand_without_paths_or_values():
    assert _what(["publish", "/tmp/root/x.csv", "--name=n"]) == "kelp publish"
    assert _what(["ipfs", "add", "/tmp/a b", "-r"]) == "kelp ipfs add"
    assert _what(["c2d", "logs", "9cec578b0b4e45cba09f3ba2f4bcc41c"]) == "kelp c2d logs"
    assert _what(["ipfs", "pin", "ls", "--offline"]) == "kelp ipfs pin ls"
    assert _what(["ocean", "show", "did:op:" + "ab" * 32]) == "kelp ocean show"


def test_kelp_output_is_json_only():
    assert parse_output(b'{\n  "jobId": "12"\n}\n') == {"jobId": "12"}
    assert parse_output(b'{"a": [1]}') == {"a": [1]}
    assert parse_output(b"no json here\n{ broken") is None
    # kelp --json prints nothing before its JSON; a line there is not read past.
    assert parse_output(b'started job 12\n{"jobId": "12"}\n') is None


async def test_reads_never_start_the_devnet(panel, kelp_env):
    for path in ("wallet", "assets"):
        code, data = await panel("GET", path)
        assert code == 200, data
        assert data["devnet"] == "down" and "kelp devnet up" in data["message"]


def test_publish_values_cannot_become_options(tmp_path):
    (tmp_path / "d.csv").write_text("x")
    args = publish_args(str(tmp_path), {"path": "d.csv", "name": "--signer=local", "description": "-rf"})
    assert "--name=--signer=local" in args and "--description=-rf" in args
    assert args[-1] == "--signer=browser" and args[1] == str(tmp_path / "d.csv")


async def test_a_missing_binary_is_one_line():
    with pytest.raises(PanelError) as err:
        await Kelp("/", "/nonexistent/kelp").json(["jobs"])
    assert err.value.status == 503
    assert err.value.message == "could not run /nonexistent/kelp (No such file or directory): set KELP_BIN or run ./install/build"


def test_reads_sign_with_the_browser_wallet_only_once_it_reported_account_and_chain():
    relay = Relay()
    assert read_signer(None) == "--signer=local"
    assert read_signer(relay) == "--signer=local"  # no browser has reported a wallet
    relay.set_wallet({"account": "0x" + "ab" * 20})
    assert read_signer(relay) == "--signer=local"  # no chain yet: kelp would ask the wallet
    relay.set_wallet({"account": "0x" + "ab" * 20, "chain_id": "0x2324"})
    assert read_signer(relay) == "--signer=browser"
    relay.set_wallet({})
    assert read_signer(relay) == "--signer=local"
