"""examples/eda.ipynb (issue #13, item 4) run by nbclient on the kelp kernel: the data is read
back by its CID, the summary table holds the statistics Python computes from the same CSV, and
the plotting loop's saved outputs hold one image/svg+xml display per region, in order, each a
whole SVG drawn by plotters."""

import pathlib
import re
import shutil
import statistics
import xml.etree.ElementTree as ET

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = pathlib.Path(__file__).resolve().parents[3]
NOTEBOOK = ROOT / "examples" / "eda.ipynb"


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("eda")
    work = tmp / "nb"
    work.mkdir()
    shutil.copy(NOTEBOOK, work / NOTEBOOK.name)
    mp = pytest.MonkeyPatch()
    mp.setenv("KELP_HOME", str(tmp / "kelp-home"))
    try:
        nb = nbformat.read(work / NOTEBOOK.name, as_version=4)
        NotebookClient(nb, kernel_name="kelp", timeout=900, resources={"metadata": {"path": str(work)}}).execute()
        # the saved notebook is what a reader gets: check what was written, not the object in memory
        nbformat.write(nb, work / "eda.out.ipynb")
        yield nbformat.read(work / "eda.out.ipynb", as_version=4), work
    finally:
        mp.undo()


def code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def the_csv(nb):
    source = code_cells(nb)[0].source
    assert source.startswith("%%file data/reefs.csv\n")
    lines = source.split("\n")[2:]
    return [dict(zip(("region", "site", "depth", "temp"), l.split(","))) for l in lines if l.strip()]


def test_no_cell_fails(executed):
    nb, _ = executed
    for c in code_cells(nb):
        for o in c.outputs:
            assert o.output_type != "error", f"{o.get('ename')}: {o.get('evalue')}"


def test_data_is_read_back_by_cid(executed):
    nb, work = executed
    code = code_cells(nb)
    added = next(c for c in code if "%ipfs add" in c.source)
    cat = next(c for c in code if "%ipfs cat {cid}" in c.source)
    cid = re.search(r"\b(Qm[1-9A-HJ-NP-Za-km-z]{44})\b", str(added.outputs)).group(1)
    shown = [o.data for o in cat.outputs if o.output_type in ("display_data", "execute_result")]
    assert [d["application/json"]["cid"] for d in shown] == [cid]  # what the cat read: that CID
    assert shown[0]["text/plain"] == (work / "data" / "reefs.csv").read_text()


def test_summary_table_matches_python(executed):
    nb, _ = executed
    rows = the_csv(nb)
    code = code_cells(nb)
    table_cell = next(c for c in code if "kelp::display_html(&table)" in c.source)
    html = [o.data["text/html"] for o in table_cell.outputs if o.output_type == "display_data"]
    assert len(html) == 1
    regions = sorted({r["region"] for r in rows})
    for region in regions:
        temps = [float(r["temp"]) for r in rows if r["region"] == region]
        sites = {r["site"] for r in rows if r["region"] == region}
        want = (
            f"<tr><td>{region}</td><td>{len(temps)}</td><td>{len(sites)}</td>"
            f"<td>{statistics.mean(temps):.2f}</td><td>{statistics.stdev(temps):.2f}</td>"
            f"<td>{min(temps):.1f}</td><td>{max(temps):.1f}</td></tr>"
        )
        assert want in html[0], (want, html[0])
    temps = [float(r["temp"]) for r in rows]
    results = [o.data["text/plain"] for o in table_cell.outputs if o.output_type == "execute_result"]
    assert results == [
        f'"{len(regions)} regions, mean {statistics.mean(temps):.2f} °C, coldest {min(temps):.1f} °C"'
    ]


def test_one_svg_per_region_in_order(executed):
    nb, _ = executed
    regions = sorted({r["region"] for r in the_csv(nb)})
    assert len(regions) == 3
    plot_cell = next(c for c in code_cells(nb) if "SVGBackend" in c.source)
    displays = [o for o in plot_cell.outputs if o.output_type == "display_data"]
    assert [list(o.data) for o in displays] == [["image/svg+xml"]] * len(regions)
    for region, o in zip(regions, displays):
        svg = o.data["image/svg+xml"]
        root = ET.fromstring(svg)  # a whole, well-formed SVG document
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        assert f"{region}: temperature by depth" in svg
        # one marker per reading of the region
        n = sum(1 for r in the_csv(nb) if r["region"] == region)
        assert len(root.findall(".//{http://www.w3.org/2000/svg}circle")) == n
    results = [o.data["text/plain"] for o in plot_cell.outputs if o.output_type == "execute_result"]
    assert results == [f'"{len(regions)} figures"']
    # the figures are displays of their own, never folded into the cell's result
    assert all("image/svg+xml" not in o.get("data", {}) for o in plot_cell.outputs if o.output_type != "display_data")
