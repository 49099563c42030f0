"""Issue #14: every magic's record, from a notebook that uses each family for real (%devnet,
%ipfs, %publish and %ocean get on a devnet of its own, %c2d in the local sandbox, %wallet,
%provenance), validated against docs/schema/kelp-record.schema.json; and a grep: no private key,
keystore password or token the session held is anywhere in the saved notebook.
"""

import json
import os
import pathlib
import subprocess
import sys

import jsonschema
import nbformat
from nbclient import NotebookClient

from test_paper import KELP, ROOT, SCHEMA, env, records

# The kernel tests' helpers (a free loopback port for the devnet) are the one copy.
sys.path.insert(0, str(ROOT / "kernel/tests/python"))
from conftest import free_port  # noqa: E402

# anvil's well-known dev keys (accounts 0 and 1, which sign here) and the session's secrets
DEV_KEYS = ["ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
            "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"]
SECRETS = {"KELP_KEYSTORE_PASSWORD": "keystore-pass-5e0c11d2", "KELP_PIN_TEST_TOKEN": "pin-token-a7c3e9f0"}

CELLS = [
    "%devnet up",
    "%%file data/plankton.csv\nstation,depth_m,copepods_per_l\nA1,5,120\nB7,5,301\n",
    "let cid = %ipfs add data/plankton.csv",
    'let did = %publish data/plankton.csv --name "Plankton, provenance test" --price free',
    "let got = %ocean get {did} --account 1 -o downloads/plankton.csv",
    "%%file algo/count.py\nimport os\nopen('/data/outputs/n.txt', 'w').write(str(len(os.listdir('/data/inputs'))))\n",
    "let job = %c2d start --dataset data/plankton.csv --algorithm algo/count.py --timeout 60s --wait",
    "%c2d result {job} -o results",
    "%wallet",
    "%provenance",
    "%devnet down",
]


def test_every_magic_records_validate_and_hold_no_secret(tmp_path):
    home = tmp_path / "home"
    old = dict(os.environ)
    os.environ.update(env(home))
    os.environ.update(SECRETS)
    os.environ["KELP_DEVNET_PORT"] = str(free_port())
    # The devnet's tools where ./install/setup put them (as install/bench.d/50-c2d.sh names them).
    tools = pathlib.Path(os.environ.get("KELP_TOOLS", ROOT / "install/.tools"))
    os.environ.setdefault("KELP_ANVIL", str(tools / "chain/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"))
    os.environ.setdefault("KELP_OCEAN_ARTIFACTS", str(tools / "chain/node_modules/@oceanprotocol/contracts"))
    target = pathlib.Path(old.get("CARGO_TARGET_DIR", pathlib.Path.home() / ".cache/kelp/target"))
    for node in (pathlib.Path(KELP).with_name("kelp-ocean-node"), target / "debug/kelp-ocean-node"):
        if node.exists():
            os.environ.setdefault("KELP_OCEAN_NODE", str(node))
            break
    for var in ("KELP_PRIVATE_KEY", "KELP_NETWORK", "KELP_KEYSTORE"):
        os.environ.pop(var, None)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    try:
        NotebookClient(nb, kernel_name="kelp", timeout=900, resources={"metadata": {"path": str(tmp_path)}}).execute()
    finally:
        subprocess.run([KELP, "devnet", "down"], env=dict(os.environ), capture_output=True, timeout=120)
        os.environ.clear()
        os.environ.update(old)
    nbformat.write(nb, tmp_path / "every.ipynb")
    recs = {s: r for _, s, r in records(nb)}
    for r in recs.values():
        jsonschema.validate(r, SCHEMA)
    by_magic = {r["magic"].split(" --")[0].split(" {")[0]: r for r in recs.values() if r.get("magic")}
    add = by_magic["%ipfs add data/plankton.csv"]
    assert add["reads"][0]["path"] == "data/plankton.csv" and add["writes"][0]["type"] == "cid"
    pub = next(r for m, r in by_magic.items() if m.startswith("%publish"))
    did = next(w["did"] for w in pub["writes"] if w["type"] == "did")
    assert {"type": "cid", "cid": add["writes"][0]["cid"]} in pub["reads"]
    assert any(w["type"] == "tx" and w["chain_id"] == 8996 for w in pub["writes"]) and pub["uncheckable"]
    get = next(r for m, r in by_magic.items() if m.startswith("%ocean get"))
    assert get["reads"][0] == {"type": "did", "did": did} and get["uses"] == ["did"]
    assert any(w["type"] == "path" and w["path"] == "downloads/plankton.csv" for w in get["writes"])
    start = next(r for m, r in by_magic.items() if m.startswith("%c2d start"))
    assert start["reads"][0]["path"] == "data/plankton.csv" and start["writes"][0]["type"] == "c2d_job"
    result = next(r for m, r in by_magic.items() if m.startswith("%c2d result"))
    assert result["writes"] and result["writes"][0]["path"].startswith("results/") and result["uses"] == ["job"]

    text = (tmp_path / "every.ipynb").read_text()
    for k in DEV_KEYS:
        assert k not in text.lower(), "a dev private key is in the notebook"
    for name, value in SECRETS.items():
        assert value not in text, f"{name}'s value is in the notebook"
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert not errors, errors
