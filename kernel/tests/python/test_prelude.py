"""The kelp:: prelude over ZeroMQ: its cached folder under KELP_HOME (shared by kernels started
together, never stale after a change of content, still used after a restart) and its helpers
(rows from CSV/JSON files and CIDs, kelp::table, kelp::image, kelp::ipfs)."""

import pathlib
import threading

import pytest
from conftest import run_cell, start_kernel, stop_kernel


def start(home, **env):
    return start_kernel(home, cwd=home, **env)


def run(kc, code, timeout=600):
    """Execute `code`; returns (reply content, iopub messages of this execution)."""
    ran = run_cell(kc, code, timeout)
    return ran.reply, ran.messages


def result_text(seen):
    return "".join(m["content"]["data"].get("text/plain", "") for m in seen if m["msg_type"] == "execute_result")


def displays(seen):
    return [m["content"]["data"] for m in seen if m["msg_type"] == "display_data"]


def folders(home):
    return sorted(p.name for p in (pathlib.Path(home) / "prelude").iterdir())


def test_kernels_started_together_share_one_prelude_folder(tmp_path):
    kernels, errors = [], []

    def one():
        try:
            kernels.append(start(tmp_path))
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=one) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert not errors, errors
        for _, kc in kernels:  # both compile at once
            kc.execute('kelp::parse_csv("a\\n1\\n2\\n").unwrap().len()')
        for _, kc in kernels:
            reply = kc.get_shell_msg(timeout=600)
            assert reply["content"]["status"] == "ok", reply["content"]
        made = folders(tmp_path)
        assert len(made) == 1 and not made[0].startswith("."), made
        assert (tmp_path / "prelude" / made[0] / "prebuilt" / "libkelp_prebuilt.rlib").is_file()
    finally:
        for km, kc in kernels:
            stop_kernel(km, kc)


def test_other_prelude_content_never_uses_the_old_folder_and_a_restart_keeps_working(tmp_path):
    km, kc = start(tmp_path)
    try:
        reply, seen = run(kc, "kelp::parse_json(\"[[1,2]]\").unwrap().columns.len()")
        assert reply["status"] == "ok", reply
        assert result_text(seen) == "2"
        first = folders(tmp_path)
        km.restart_kernel(now=True)
        kc.wait_for_ready(timeout=120)
        reply, seen = run(kc, "kelp::parse_json(\"[[1,2,3]]\").unwrap().columns.len()")
        assert reply["status"] == "ok", reply
        assert result_text(seen) == "3"
        assert folders(tmp_path) == first, "the restarted kernel reuses the folder"
    finally:
        stop_kernel(km, kc)
    # A kelp with other prelude content (here: one more item) gets a folder of its own.
    km, kc = start(tmp_path, KELP_PRELUDE_EXTRA="pub const UPGRADE_MARK: u32 = 41;")
    try:
        reply, seen = run(kc, "kelp::UPGRADE_MARK + 1")
        assert reply["status"] == "ok", reply
        assert result_text(seen) == "42"
        assert len(folders(tmp_path)) == 2 and first[0] in folders(tmp_path)
    finally:
        stop_kernel(km, kc)


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    home = tmp_path_factory.mktemp("kelp-home")
    (home / "reefs.csv").write_text('site,depth_m\nA,5\n"B, north",12\n')
    (home / "reefs.json").write_text('[{"site": "A", "depth_m": 5}, {"site": "B", "temp_c": 11.8}]')
    # The smallest PNG: 1×1, one grey pixel.
    png = bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010800000000"
        "3a7e9b550000000a4944415478da63600000000200015d0d2c0a0000000049454e44ae426082"
    )
    (home / "dot.png").write_bytes(png)
    km, kc = start(home, KELP_IPFS_OFFLINE="1")
    try:
        yield kc, home
    finally:
        stop_kernel(km, kc)


def test_rows_from_csv_and_json_files(session):
    kc, _ = session
    reply, seen = run(kc, 'let reefs = kelp::read_rows("reefs.csv")?;\nreefs.column("site").unwrap().join("|")')
    assert reply["status"] == "ok", reply
    assert result_text(seen) == '"A|B, north"'
    reply, seen = run(kc, 'let j = kelp::read_rows("reefs.json")?;\nformat!("{:?} {}", j.columns, j.len())')
    assert reply["status"] == "ok", reply
    assert result_text(seen) == '"[\\"site\\", \\"depth_m\\", \\"temp_c\\"] 2"'


def test_table_is_one_scrolling_html_display_with_the_row_count(session):
    kc, _ = session
    reply, seen = run(kc, 'kelp::table(&kelp::read_rows("reefs.csv")?);')
    assert reply["status"] == "ok", reply
    shown = displays(seen)
    assert len(shown) == 1, seen
    html = shown[0]["text/html"]
    assert "2 rows × 2 columns" in html and "overflow:auto" in html and "<td>B, north</td>" in html


def test_image_shows_png_and_svg_and_refuses_other_bytes(session):
    kc, home = session
    reply, seen = run(kc, 'kelp::image(&std::fs::read("dot.png")?)?;\nkelp::image(b"<svg xmlns=\\"http://www.w3.org/2000/svg\\"/>")?;')
    assert reply["status"] == "ok", reply
    shown = displays(seen)
    import base64

    assert base64.b64decode(shown[0]["image/png"]) == (home / "dot.png").read_bytes()
    assert shown[1]["image/svg+xml"].startswith("<svg")
    reply, _ = run(kc, 'kelp::image(b"hello")?;')
    assert reply["status"] == "error"
    assert "not an SVG, PNG, JPEG or GIF image" in "\n".join(reply["traceback"]) + reply["evalue"]


def test_ipfs_reader_and_rows_from_a_cid(session):
    kc, _ = session
    reply, seen = run(kc, "let cid = %ipfs add reefs.csv\n")
    assert reply["status"] == "ok", reply
    reply, seen = run(
        kc,
        "use std::io::Read;\nlet mut text = String::new();\nkelp::ipfs::open(&cid)?.read_to_string(&mut text)?;\n"
        "let rows = kelp::read_rows(&cid)?;\n"
        "format!(\"{} {} {}\", text == std::fs::read_to_string(\"reefs.csv\")?, kelp::ipfs::bytes(&cid)?.len(), rows.len())",
    )
    assert reply["status"] == "ok", reply
    size = len(pathlib.Path(session[1], "reefs.csv").read_bytes())
    assert result_text(seen) == f'"true {size} 2"'


def test_a_missing_source_is_one_clear_error(session):
    kc, _ = session
    reply, _ = run(kc, 'kelp::read_rows("nope.csv")?;')
    assert reply["status"] == "error"
    text = reply["evalue"] + "\n".join(reply["traceback"])
    assert 'no file "nope.csv" here and it is not an IPFS CID' in text
    reply, _ = run(kc, 'kelp::ipfs::bytes("bafkreiaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")?;')
    assert reply["status"] == "error"
    assert "kelp ipfs get" in reply["evalue"] + "\n".join(reply["traceback"])
