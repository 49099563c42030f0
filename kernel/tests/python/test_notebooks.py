"""Every examples/*.ipynb runs top to bottom on the kelp kernel (nbclient), in a scratch copy.

Notebooks that need services they start themselves (devnet, IPFS) do so through magics; this
test only asserts that no cell errors and checks quickstart's results.
"""

import pathlib
import shutil

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = pathlib.Path(__file__).resolve().parents[3]
NOTEBOOKS = sorted((ROOT / "examples").glob("*.ipynb"))
NOTEBOOKS = [p for p in NOTEBOOKS if not p.name.endswith(".out.ipynb")]


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
        for o in cell.get("outputs", []):
            assert o["output_type"] != "error", f"{path.name}: {o.get('ename')}: {o.get('evalue')}"


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
