"""Every examples/*.ipynb runs top to bottom on the kelp kernel (nbclient), in a scratch copy.

Notebooks that need services they start themselves (devnet, IPFS) do so through magics; this
test asserts that no cell errors, and the functions below check each example's results.
"""

import hashlib
import json
import os
import pathlib
import shutil
import signal

import nbformat
import pytest
from conftest import free_port
from nbclient import NotebookClient

ROOT = pathlib.Path(__file__).resolve().parents[3]
NOTEBOOKS = sorted((ROOT / "examples").glob("*.ipynb"))
NOTEBOOKS = [p for p in NOTEBOOKS if not p.name.endswith(".out.ipynb")]


@pytest.fixture(autouse=True)
def isolated_kelp_home(tmp_path, monkeypatch):
    """Every notebook run gets its own KELP_HOME and devnet port (a test may override them), so
    no state from an earlier run (block store, devnet snapshot, publish journal) leaks in, and a
    devnet a failed notebook left running is stopped afterwards."""
    home = tmp_path / "kelp-home"
    monkeypatch.setenv("KELP_HOME", str(home))
    monkeypatch.setenv("KELP_DEVNET_PORT", str(free_port()))
    yield
    devnet_home = pathlib.Path(os.environ.get("KELP_HOME", home))
    if (devnet_home / "ocean").exists():
        kelp = os.environ.get("KELP_BIN") or str(pathlib.Path.home() / ".cache/kelp/target/debug/kelp")
        import subprocess

        subprocess.run([kelp, "devnet", "down"], env=dict(os.environ), capture_output=True, timeout=60)


def run(path: pathlib.Path, tmp_path: pathlib.Path) -> nbformat.NotebookNode:
    work = tmp_path / "nb"
    shutil.copytree(path.parent, work, ignore=shutil.ignore_patterns("*.out.ipynb", ".ipynb_checkpoints"))
    nb = nbformat.read(work / path.name, as_version=4)
    client = NotebookClient(nb, kernel_name="kelp", timeout=600, resources={"metadata": {"path": str(work)}})
    client.execute()
    return nb


def outputs_text(cell) -> str:
    parts = []
    for o in cell.get("outputs", []):
        if "text" in o:
            parts.append(o["text"])
        for mime in ("text/plain", "text/html"):
            if mime in o.get("data", {}):
                parts.append(o["data"][mime])
    return "\n".join(parts)


def result_text(cell) -> str:
    """The text/plain of the cell's execute_result (its value)."""
    for o in cell.get("outputs", []):
        if o["output_type"] == "execute_result":
            return o["data"].get("text/plain", "")
    return ""


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs_without_error(path, tmp_path):
    nb = run(path, tmp_path)
    for cell in nb.cells:
        errors = [o for o in cell.get("outputs", []) if o["output_type"] == "error"]
        if "raises-exception" in cell.get("metadata", {}).get("tags", []):
            # a cell whose error is the point (nbclient runs on past it): it must fail
            assert len(errors) == 1, f"{path.name}: expected an error from {cell.source[:60]!r}"
            continue
        for o in errors:
            assert False, f"{path.name}: {o.get('ename')}: {o.get('evalue')}"


def test_quickstart_results(tmp_path):
    nb = run(ROOT / "examples" / "quickstart.ipynb", tmp_path)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "%env" in outputs_text(code[0])
    assert result_text(code[1]) == "5.5"
    assert (tmp_path / "nb" / "data" / "measurements.csv").read_text().startswith("site,depth_m")
    assert result_text(code[3]) == "3"
    assert "env: KELP_SITE_COUNT_HINT=3" in outputs_text(code[3])
    assert result_text(code[5]) == '"3 sites, coldest 9.5 °C"'
    assert "<table>" in outputs_text(code[6])


def test_ipfs_notebook_results(tmp_path):
    nb = run(ROOT / "examples" / "ipfs.ipynb", tmp_path)
    code = [c for c in nb.cells if c.cell_type == "code"]
    # the CID of these exact bytes, as `ipfs add` computes it
    assert "QmYq6JpoLvWAWw2z5CRRz98LaNcQHmboQXyVz1kUUDhpAU" in outputs_text(code[1])
    assert "site,depth_m,temp_c" in outputs_text(code[2])
    assert "bafkrei" in outputs_text(code[4])
    assert result_text(code[8]) == '"48 bytes, identical to the original"'
    assert (tmp_path / "nb" / "data.car").stat().st_size > 48


def test_c2d_notebook_results(tmp_path):
    nb = run(ROOT / "examples" / "c2d_local.ipynb", tmp_path)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert result_text(code[5]) == '["algorithm.log", "metrics.json", "model.json"]'
    assert result_text(code[6]) == "true"
    assert not (tmp_path / "nb" / "results" / "sales.csv").exists()


# --- examples/ocean_publish.ipynb ---------------------------------------------------------------

_KECCAK_RC = [
    0x0000000000000001, 0x0000000000008082, 0x800000000000808A, 0x8000000080008000,
    0x000000000000808B, 0x0000000080000001, 0x8000000080008081, 0x8000000000008009,
    0x000000000000008A, 0x0000000000000088, 0x0000000080008009, 0x000000008000000A,
    0x000000008000808B, 0x800000000000008B, 0x8000000000008089, 0x8000000000008003,
    0x8000000000008002, 0x8000000000000080, 0x000000000000800A, 0x800000008000000A,
    0x8000000080008081, 0x8000000000008080, 0x0000000080000001, 0x8000000080008008,
]
_KECCAK_ROT = [[0, 36, 3, 41, 18], [1, 44, 10, 45, 2], [62, 6, 43, 15, 61], [28, 55, 25, 21, 56], [27, 20, 39, 8, 14]]


def keccak256(data: bytes) -> bytes:
    """Keccak-256 as Ethereum uses it (original padding, not SHA3's), for EIP-55 checksums."""
    mask, rate = (1 << 64) - 1, 136

    def rol(v, n):
        return ((v << n) | (v >> (64 - n))) & mask

    msg = bytearray(data) + b"\x01"
    while len(msg) % rate:
        msg.append(0)
    msg[-1] |= 0x80
    a = [[0] * 5 for _ in range(5)]
    for off in range(0, len(msg), rate):
        for i in range(rate // 8):
            a[i % 5][i // 5] ^= int.from_bytes(msg[off + 8 * i : off + 8 * i + 8], "little")
        for rc in _KECCAK_RC:
            c = [a[x][0] ^ a[x][1] ^ a[x][2] ^ a[x][3] ^ a[x][4] for x in range(5)]
            d = [c[(x - 1) % 5] ^ rol(c[(x + 1) % 5], 1) for x in range(5)]
            b = [[0] * 5 for _ in range(5)]
            for x in range(5):
                for y in range(5):
                    b[y][(2 * x + 3 * y) % 5] = rol(a[x][y] ^ d[x], _KECCAK_ROT[x][y])
            a = [[b[x][y] ^ (~b[(x + 1) % 5][y] & b[(x + 2) % 5][y]) for y in range(5)] for x in range(5)]
            a[0][0] ^= rc
    return b"".join(a[i % 5][i // 5].to_bytes(8, "little") for i in range(4))


def checksum_address(addr: str) -> str:
    """EIP-55 mixed-case form of a hex address."""
    low = addr.lower().removeprefix("0x")
    h = keccak256(low.encode()).hex()
    return "0x" + "".join(ch.upper() if int(h[i], 16) >= 8 else ch for i, ch in enumerate(low))


def json_result(cell, n: int = -1) -> dict:
    """The application/json of the cell's n-th output that has one."""
    found = [o["data"]["application/json"] for o in cell.get("outputs", []) if "application/json" in o.get("data", {})]
    assert found, f"no JSON output in cell: {cell.source[:60]!r}"
    return found[n]


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def kill_devnet(home: pathlib.Path) -> None:
    """Stop whatever devnet.json under `home` still records (a notebook that failed midway)."""
    state = home / "ocean" / "devnet" / "devnet.json"
    if state.exists():
        s = json.loads(state.read_text())
        for pid in (s.get("anvil_pid"), s.get("node_pid")):
            if pid and alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_keccak_and_checksum_vectors():
    assert keccak256(b"").hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    # two blocks, and a message filling the rate but for the padding byte (values from web3.py)
    assert keccak256(b"a" * 200).hex() == "96ea54061def936c4be90b518992fdc6f12f535068a256229aca54267b4d084d"
    assert keccak256(b"b" * 135).hex() == "4cc4e6a6deebdec4c9c6d68f91082ef4e5c608215f017742d4d90cdc77860650"
    # EIP-55's own examples
    for a in ("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
              "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB", "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb"):
        assert checksum_address(a.lower()) == a


def test_ocean_publish_results(tmp_path, monkeypatch):
    # A devnet of its own: a fresh KELP_HOME (so every publish is new) on an unusual port.
    home = tmp_path / "kelp-home"
    monkeypatch.setenv("KELP_HOME", str(home))
    port = free_port()
    monkeypatch.setenv("KELP_DEVNET_PORT", str(port))
    for var in ("KELP_PRIVATE_KEY", "KELP_NETWORK", "KELP_KEYSTORE"):
        monkeypatch.delenv(var, raising=False)
    try:
        nb = run(ROOT / "examples" / "ocean_publish.ipynb", tmp_path)
    finally:
        kill_devnet(home)
    work = tmp_path / "nb"
    code = [c for c in nb.cells if c.cell_type == "code"]
    for c in code:
        for o in c.get("outputs", []):
            assert o["output_type"] != "error", f"{o.get('ename')}: {o.get('evalue')}"
    up, publish, show, get = (json_result(code[i]) for i in (0, 2, 3, 4))
    paid_publish, price = json_result(code[6], 0), json_result(code[6], -1)
    bought, collect, down = json_result(code[7]), json_result(code[8]), json_result(code[10])

    assert up["running"] and up["chain_id"] == 8996 and up["rpc_url"] == f"http://127.0.0.1:{port}"
    original = (work / "data" / "plankton.csv").read_bytes()
    assert original.startswith(b"station,depth_m,")

    # free publish: new asset, DID = "did:op:" + sha256(checksummed NFT address + chain id)
    assert publish["already_published"] is False and publish["price"] == "Free"
    assert [t["label"] for t in publish["txs"]] == ["create NFT + datatoken + pricing", "setMetaData"]
    nft = checksum_address(publish["nft"])
    assert nft in outputs_text(code[2])  # kelp shows the checksummed address
    assert publish["did"] == "did:op:" + hashlib.sha256(f"{nft}{up['chain_id']}".encode()).hexdigest()
    assert show["id"] == publish["did"] and show["metadata"]["name"] == "Plankton counts, stations A1 and B7"
    assert show["metadata"]["tags"] == ["plankton", "biology"]
    assert show["services"][0]["datatokenAddress"] == publish["datatoken"]
    publisher = checksum_address(show["indexedMetadata"]["nft"]["owner"])  # where Ocean Node v3.1.0 (and kelp's node) put it

    # account 1 consumed it: same bytes, hashed to the published CID
    assert get["acquired"] == "dispenser" and get["paid"] is None
    assert get["cid"] == publish["file"]["hash"] and get["cid_verified"] is True
    assert pathlib.Path(get["path"]) == work / "downloads" / "plankton.csv"
    assert (work / "downloads" / "plankton.csv").read_bytes() == original
    assert get["sha256"] == hashlib.sha256(original).hexdigest() and get["size"] == len(original)
    assert result_text(code[5]) == f'"{len(original)} bytes, identical to data/plankton.csv"'

    # fixed price: 3 OCEAN plus the exchange's fee; account 2 pays, the publisher collects 3 OCEAN
    three = 3 * 10**18
    assert paid_publish["already_published"] is False and paid_publish["did"] != publish["did"]
    assert int(paid_publish["price"]["Fixed"]["amount"], 16) == three
    assert paid_publish["price"]["Fixed"]["token"] == up["addresses"]["Ocean"]
    assert paid_publish["exchange_id"]
    assert price["pricing"] == "fixed" and int(price["amount"]) >= three
    assert bought["acquired"] == "fixed-rate" and bought["paid"] == price["amount"]
    assert [t["label"] for t in bought["txs"]] == ["approve", "buyDT", "startOrder"]
    assert (work / "downloads" / "curated.csv").read_bytes() == original
    assert collect["amount"] == str(three) and checksum_address(collect["to"]) == publisher and collect["tx"]

    # the notebook stopped its devnet: nothing left running
    assert down == {"running": False, "was_running": True, "saved": True}
    assert not alive(up["anvil_pid"]) and not alive(up["node_pid"])


# --- examples/c2d_training.ipynb ----------------------------------------------------------------


def test_c2d_training_results(tmp_path, monkeypatch):
    # A devnet of its own (fresh KELP_HOME, unusual port); account 0 publishes, account 1 computes.
    home = tmp_path / "kelp-home"
    monkeypatch.setenv("KELP_HOME", str(home))
    monkeypatch.setenv("KELP_DEVNET_PORT", str(free_port()))
    for var in ("KELP_PRIVATE_KEY", "KELP_NETWORK", "KELP_KEYSTORE"):
        monkeypatch.delenv(var, raising=False)
    try:
        nb = run(ROOT / "examples" / "c2d_training.ipynb", tmp_path)
    finally:
        kill_devnet(home)
    work = tmp_path / "nb"
    code = [c for c in nb.cells if c.cell_type == "code"]
    refused = [c for c in code if "raises-exception" in c.metadata.get("tags", [])]
    for c in code:
        if c in refused:
            continue
        for o in c.get("outputs", []):
            assert o["output_type"] != "error", f"{o.get('ename')}: {o.get('evalue')}"
    algo, data, job, result = (json_result(code[i]) for i in (3, 4, 5, 6))

    # the untrusted algorithm was refused with one clear line, and no job was started for it
    assert len(refused) == 1
    errors = [o for o in refused[0].outputs if o["output_type"] == "error"]
    assert len(errors) == 1 and "is not trusted by dataset " + data["did"] in errors[0]["evalue"], errors
    assert "\n" not in errors[0]["evalue"]
    listed = json_result(code[-2])
    assert [j["algorithm"]["source"] for j in listed["jobs"]] == [algo["did"]], listed

    # the dataset is compute-only and trusts exactly the published algorithm
    assert data["compute"]["publisherTrustedAlgorithms"][0]["did"] == algo["did"]
    # the job ran on the devnet's Ocean node for account 1 and finished
    assert job["status"] == 70 and job["ok"] is True, job
    assert job["remote"]["backend"] == "ocean" and job["remote"]["nodeUrl"].startswith("http://127.0.0.1:")
    assert job["datasets"][0]["source"] == data["did"] and job["algorithm"]["source"] == algo["did"]
    assert [o["acquired"] for o in job["remote"]["details"]["orders"]] == ["dispenser", "dispenser"]

    # the metrics and weights came back, and Rust read them
    folder = pathlib.Path(result["folder"])
    assert folder == work / "results"
    assert result["files"] == ["algorithm.log", "metrics.json", "model.json"]
    metrics = json.loads((folder / "metrics.json").read_text())
    model = json.loads((folder / "model.json").read_text())
    assert metrics["rows"] == 200 and metrics["r2"] > 0.999 and metrics["mse"] < 0.01, metrics
    assert abs(model["weights"]["dose"] - 3.0) < 0.01 and abs(model["weights"]["age"] + 0.25) < 0.01, model
    assert result_text(code[7]) == '"dose 3.00, age -0.25, r2 1.000"'
    assert "trained on 200 rows" in (folder / "algorithm.log").read_text()

    # no row of the dataset (nor a patient id) appears in any cell output or result file
    rows = (work / "private" / "patients.csv").read_text().splitlines()[1:]
    assert len(rows) == 200
    seen = "\n".join(outputs_text(c) for c in nb.cells if c.cell_type == "code")
    seen += "\n".join(p.read_text(errors="replace") for p in folder.rglob("*") if p.is_file())
    for row in rows:
        assert row not in seen and row.split(",")[0] not in seen, f"dataset row leaked: {row}"
