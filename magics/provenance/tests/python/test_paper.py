"""Issue #14 end to end: examples/paper.ipynb executed by the kelp kernel (nbclient), its
records checked against docs/schema/kelp-record.schema.json, then `kelp provenance`, `kelp
bundle` and `kelp verify` as a reader would run them: from the bundle alone in a fresh KELP_HOME
(every cell reproduced), with one flipped byte in an input (that input and the cells depending
on it named, exit 1), with a changed cell source (named, exit 1), and on a notebook without
records (one line). A grep makes sure no secret of the session reached the saved notebook.
"""

import hashlib
import json
import os
import pathlib
import shutil
import subprocess

import jsonschema
import nbformat
import pytest
from nbclient import NotebookClient

ROOT = pathlib.Path(__file__).resolve().parents[4]
KELP = os.environ.get("KELP_BIN") or str(pathlib.Path.home() / ".cache/kelp/target/debug/kelp")
SCHEMA = json.loads((ROOT / "docs/schema/kelp-record.schema.json").read_text())
# Secrets the session holds while the notebook runs; none may reach the saved file.
SECRETS = {
    "KELP_RELAY_SECRET": "relay-secret-4f1c9a77e2",
    "KELP_KEYSTORE_PASSWORD": "keystore-pass-b83d2e91",
    "KELP_PIN_TEST_TOKEN": "pin-token-77a0c5d3e1",
}


def kernelspec_dir():
    """A kernelspec "kelp" for KELP_BIN (the binary under test, whatever .venv's spec names)."""
    d = pathlib.Path(os.environ.get("TMPDIR", "/tmp")) / f"kelp-provenance-jupyter-{os.getpid()}"
    (d / "kernels/kelp").mkdir(parents=True, exist_ok=True)
    spec = {"argv": [KELP, "kernel", "--connection-file", "{connection_file}"], "display_name": "Rust (kelp)",
            "language": "rust", "interrupt_mode": "message"}
    (d / "kernels/kelp/kernel.json").write_text(json.dumps(spec))
    return d


def env(home):
    e = dict(os.environ, KELP_HOME=str(home), KELP_BIN=KELP)
    e["JUPYTER_PATH"] = os.pathsep.join([str(kernelspec_dir()), str(ROOT / ".venv/share/jupyter"), e.get("JUPYTER_PATH", "")])
    e["KELP_JUPYTER"] = str(ROOT / ".venv/bin/jupyter")
    e.pop("CARGO_TARGET_DIR", None)
    return e


def kelp(args, cwd, home, check=None):
    r = subprocess.run([KELP, *args], cwd=cwd, env=env(home), capture_output=True, text=True, timeout=1800)
    if check is not None:
        assert r.returncode == check, f"kelp {' '.join(args)} → {r.returncode}\n{r.stdout}\n{r.stderr}"
    return r


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """A scratch copy of examples/paper*, run top to bottom and saved, with its KELP_HOME."""
    work = tmp_path_factory.mktemp("paper")
    shutil.copytree(ROOT / "examples/paper", work / "paper")
    shutil.copy(ROOT / "examples/paper.ipynb", work / "paper.ipynb")
    home = work / "home"
    old = dict(os.environ)
    os.environ.update(env(home))
    os.environ.update(SECRETS)
    try:
        nb = nbformat.read(work / "paper.ipynb", as_version=4)
        NotebookClient(nb, kernel_name="kelp", timeout=1200, resources={"metadata": {"path": str(work)}}).execute()
    finally:
        os.environ.clear()
        os.environ.update(old)
    nbformat.write(nb, work / "paper.ipynb")
    return work, home, nb


def records(nb):
    """(cell index 1-based, source, record) for every output record."""
    out = []
    for i, c in enumerate(nb.cells, 1):
        for o in c.get("outputs", []):
            k = o.get("metadata", {}).get("kelp")
            if k is not None:
                out.append((i, c.source, k))
    return out


def test_every_record_validates_and_says_what_was_read_and_written(executed):
    work, _, nb = executed
    recs = records(nb)
    assert recs, "the executed notebook carries kelp records"
    for _, _, r in recs:
        jsonschema.validate(r, SCHEMA)
    csv = (work / "paper/reef_temps.csv").read_bytes()
    add = [r for _, s, r in recs if s.startswith("let data = %ipfs add")]
    assert len(add) == 1
    assert add[0]["reads"] == [{"type": "path", "path": "paper/reef_temps.csv", "sha256": hashlib.sha256(csv).hexdigest()}]
    data_cid = add[0]["writes"][0]["cid"]
    assert add[0]["binds"] == "data" and add[0]["magic"] == "%ipfs add paper/reef_temps.csv"
    fit = [(s, r) for _, s, r in recs if s.startswith("let rows = kelp::read_rows")]
    assert fit, "the Rust analysis cell has a record"
    s, r = fit[0]
    assert r["kind"] == "rust" and r["source_sha256"] == hashlib.sha256(s.encode()).hexdigest()
    assert "data" in r["uses"] and "slope" in r["defines"]
    figure = [r for _, s, r in recs if "kelp::image" in s]
    assert figure and "depth" in figure[0]["uses"], "the figure's display carries its cell's record"
    result = [r for _, s, r in recs if r.get("magic") == "%ipfs add paper/result.json"]
    res_json = (work / "paper/result.json").read_bytes()
    assert result[0]["reads"][0]["sha256"] == hashlib.sha256(res_json).hexdigest()
    cat = [r for _, s, r in recs if (r.get("magic") or "").startswith("%ipfs cat")]
    assert cat[0]["uses"] == ["result"] and cat[0]["reads"] == result[0]["writes"]
    assert data_cid.startswith("Qm")


def test_no_secret_reaches_the_notebook(executed):
    work, _, _ = executed
    text = (work / "paper.ipynb").read_text()
    for name, value in SECRETS.items():
        assert value not in text, f"{name}'s value is in the saved notebook"
    assert "PRIVATE KEY" not in text.upper()


def test_provenance_of_the_saved_notebook(executed):
    work, home, _ = executed
    r = kelp(["provenance", "paper.ipynb", "--json"], work, home, check=0)
    g = json.loads(r.stdout)
    inputs = [i["item"] for i in g["inputs"]]
    assert {"type": "path", "path": "paper/reef_temps.csv", "sha256": hashlib.sha256((work / "paper/reef_temps.csv").read_bytes()).hexdigest()} in inputs
    t = kelp(["provenance", "paper.ipynb"], work, home, check=0).stdout
    assert "inputs (" in t and "%ipfs add paper/reef_temps.csv" in t


@pytest.fixture(scope="module")
def bundled(executed):
    work, home, _ = executed
    r = kelp(["bundle", "paper.ipynb", "-o", "paper.car", "--json"], work, home, check=0)
    return json.loads(r.stdout)


def test_bundle_verifies_in_a_fresh_home_from_the_bundle_alone(executed, bundled, tmp_path):
    work, _, nb = executed
    assert bundled["files"] == ["paper/reef_temps.csv"] and bundled["root"].startswith("Qm")
    reader = tmp_path / "reader"
    reader.mkdir()
    shutil.copy(work / "paper.car", reader / "paper.car")
    r = kelp(["verify", "--from", "paper.car"], reader, tmp_path / "fresh-home")
    assert r.returncode == 0, r.stdout + r.stderr
    code_cells = [i for i, c in enumerate(nb.cells, 1) if c.cell_type == "code"]
    for i in code_cells:
        assert any(line.split()[:2] == [str(i), "reproduced"] for line in r.stdout.splitlines()), f"cell {i}\n{r.stdout}"
    assert "verified:" in r.stdout and "0 differ" in r.stdout
    # By the bundle's root CID, once its CAR is in the reader's store.
    other = tmp_path / "other-home"
    kelp(["ipfs", "car", "import", "paper.car"], reader, other, check=0)
    r = kelp(["verify", bundled["root"]], reader, other)
    assert r.returncode == 0 and "verified:" in r.stdout, r.stdout + r.stderr
    r = kelp(["verify", "QmSKLS3eF7TQahjwb646xLHtcWWKWmQ3Q7mTmVBQ8fZpqi"], reader, tmp_path / "empty-home")
    assert r.returncode == 1 and "import its CAR first" in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_flipped_byte_in_an_input_names_it_and_its_dependent_cells(executed, tmp_path):
    work, home, nb = executed
    copy = tmp_path / "flipped"
    shutil.copytree(work / "paper", copy / "paper")
    shutil.copy(work / "paper.ipynb", copy / "paper.ipynb")
    csv = bytearray((copy / "paper/reef_temps.csv").read_bytes())
    csv[csv.index(b"15.1")] = ord("7")
    (copy / "paper/reef_temps.csv").write_bytes(bytes(csv))
    r = kelp(["verify", "paper.ipynb"], copy, tmp_path / "home2")
    assert r.returncode == 1, r.stdout + r.stderr
    changed = [l for l in r.stdout.splitlines() if "CHANGED" in l]
    assert len(changed) == 1 and "paper/reef_temps.csv" in changed[0], r.stdout
    add_cell = next(i for i, c in enumerate(nb.cells, 1) if c.source.startswith("let data = %ipfs add"))
    fit_cell = next(i for i, c in enumerate(nb.cells, 1) if c.source.startswith("let rows"))
    used_by = changed[0].split("used by")[1]
    assert str(add_cell) in used_by and str(fit_cell) in used_by, changed[0]
    differs = [l.split()[0] for l in r.stdout.splitlines() if " DIFFERS " in l]
    assert str(add_cell) in differs and str(fit_cell) in differs, r.stdout
    assert "not reproduced" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_changed_cell_source_is_named(executed, tmp_path):
    work, home, nb = executed
    copy = tmp_path / "edited"
    shutil.copytree(work / "paper", copy / "paper")
    edited = nbformat.read(work / "paper.ipynb", as_version=4)
    fit_cell = next(i for i, c in enumerate(edited.cells, 1) if c.source.startswith("let rows"))
    edited.cells[fit_cell - 1].source = edited.cells[fit_cell - 1].source.replace("(r² = {:.3})", "(r2 = {:.2})")
    nbformat.write(edited, copy / "paper.ipynb")
    r = kelp(["verify", "paper.ipynb"], copy, tmp_path / "home3")
    assert r.returncode == 1, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    at = next(n for n, l in enumerate(lines) if l.split()[:2] == [str(fit_cell), "DIFFERS"])
    assert "source changed" in lines[at + 1], r.stdout


def test_notebook_without_records_is_one_clear_line(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")])
    nbformat.write(nb, tmp_path / "plain.ipynb")
    for args in (["verify", "plain.ipynb"], ["bundle", "plain.ipynb", "-o", "x.car"], ["provenance", "plain.ipynb"]):
        r = kelp(args, tmp_path, tmp_path / "home")
        assert r.returncode == 1, args
        err = r.stderr.strip()
        assert len(err.splitlines()) == 1 and "has no kelp records" in err and "Traceback" not in err, err
    assert not (tmp_path / "x.car").exists()


def test_network_fetches_a_missing_input_cid_from_a_gateway(tmp_path):
    """An input known by CID only: verify without the network names it MISSING; with --network
    it is fetched from the gateway (a real `kelp ipfs serve --gateway` of the author's store)."""
    import socket
    import time

    author = tmp_path / "author"
    author.mkdir()
    (author / "obs.txt").write_text("sea surface 14.2 C\n")
    cid = kelp(["ipfs", "add", "obs.txt", "--json"], author, author / "home", check=0)
    cid = json.loads(cid.stdout)["cid"]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(f"%ipfs cat {cid}")])
    old = dict(os.environ)
    os.environ.update(env(author / "home"))
    try:
        NotebookClient(nb, kernel_name="kelp", timeout=600, resources={"metadata": {"path": str(author)}}).execute()
    finally:
        os.environ.clear()
        os.environ.update(old)
    reader = tmp_path / "reader"
    reader.mkdir()
    nbformat.write(nb, reader / "obs.ipynb")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([KELP, "ipfs", "serve", "--gateway", f"127.0.0.1:{port}"], cwd=author,
                              env=env(author / "home"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        e = env(tmp_path / "reader-home")
        e["KELP_IPFS_GATEWAYS"] = f"http://127.0.0.1:{port}"
        offline = subprocess.run([KELP, "verify", "obs.ipynb"], cwd=reader, env=dict(e, KELP_IPFS_OFFLINE="1"),
                                 capture_output=True, text=True, timeout=600)
        assert offline.returncode == 1 and f"MISSING       cid {cid}" in offline.stdout, offline.stdout + offline.stderr
        online = subprocess.run([KELP, "verify", "obs.ipynb", "--network"], cwd=reader, env=e,
                                capture_output=True, text=True, timeout=600)
        assert online.returncode == 0, online.stdout + online.stderr
        assert f"ok            cid {cid}" in online.stdout and "1 reproduced" in online.stdout, online.stdout
    finally:
        server.terminate()
        server.wait(timeout=30)
