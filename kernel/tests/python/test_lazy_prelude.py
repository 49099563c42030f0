"""The kelp:: prelude attached lazily, over ZeroMQ (issue #17): attaching it makes evcxr's
rust-analyzer reload the workspace and std, so a first cell that does not name `kelp` runs without
it; an idle engine then attaches it (the cell's variables kept), and a first cell, completion or
inspection that names `kelp` attaches it before it is answered. The start-up log
(KELP_STARTUP_LOG) says when the prelude was attached."""

import json
import pathlib
import time

from conftest import run_cell, start_kernel, stop_kernel


def start(home):
    log = pathlib.Path(home, "startup.json")
    km, kc = start_kernel(home, cwd=home, KELP_STARTUP_LOG=str(log))
    return km, kc, log


def figures(log):
    return json.loads(log.read_text()) if log.exists() else {}


def wait_attached(log, timeout=120):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        f = figures(log)
        if "prelude_attached_at" in f:
            return f
        time.sleep(0.1)
    raise TimeoutError(f"the prelude was not attached within {timeout} s: {figures(log)}")


def test_a_first_cell_without_kelp_runs_before_the_prelude_and_an_idle_engine_attaches_it(tmp_path):
    km, kc, log = start(tmp_path)
    try:
        ran = run_cell(kc, "let x: u32 = 41;\nx + 1")
        assert ran.reply["status"] == "ok", ran.reply
        assert ran.result_text == "42"
        assert "prelude_attach" not in figures(tmp_path / "startup.json"), "the first cell waited for the prelude"
        f = wait_attached(log)
        assert f["prelude_attached_after_cells"] == 1, f
        # The variable of the cell before the attach is still there, and the helpers work.
        ran = run_cell(kc, 'kelp::parse_csv("a\\n1\\n2\\n").unwrap().len() + x as usize')
        assert ran.reply["status"] == "ok", ran.reply
        assert ran.result_text == "43"
    finally:
        stop_kernel(km, kc)


def test_a_first_cell_naming_kelp_gets_the_prelude_first(tmp_path):
    km, kc, log = start(tmp_path)
    try:
        ran = run_cell(kc, 'kelp::parse_json("[[1,2,3]]").unwrap().columns.len()')
        assert ran.reply["status"] == "ok", ran.reply
        assert ran.result_text == "3"
        f = figures(log)
        assert f.get("prelude_attached_after_cells") == 0, f
    finally:
        stop_kernel(km, kc)


def test_the_first_completion_of_kelp_attaches_the_prelude_and_is_right(tmp_path):
    km, kc, log = start(tmp_path)
    try:
        code = "kelp::parse_c"
        kc.complete(code, len(code))
        reply = kc.get_shell_msg(timeout=300)
        assert reply["msg_type"] == "complete_reply", reply
        content = reply["content"]
        assert content["status"] == "ok", content
        assert any(m.startswith("parse_csv") for m in content["matches"]), content["matches"]
        assert content["cursor_start"] == len("kelp::"), content
        f = figures(log)
        assert f.get("prelude_attached_after_cells") == 0, f
    finally:
        stop_kernel(km, kc)


def test_an_idle_engine_never_attaches_the_prelude_over_a_variable_of_the_notebooks_own_type(tmp_path):
    # Attaching rebuilds the session's crate under a new identity, so evcxr would drop `p`
    # ("The type of the variable p was redefined"); an idle engine waits instead.
    km, kc, log = start(tmp_path)
    try:
        ran = run_cell(kc, "pub struct Point(u32);\nlet p = Point(5);\np.0")
        assert ran.reply["status"] == "ok", ran.reply
        time.sleep(3)  # six idle spells
        ran = run_cell(kc, "p.0 + 1")
        assert ran.reply["status"] == "ok", (ran.reply, ran.stdout)
        assert ran.result_text == "6"
        assert "prelude_attached_at" not in figures(log), figures(log)
        # A cell naming kelp still gets the prelude.
        ran = run_cell(kc, 'kelp::parse_csv("a\\n1\\n").unwrap().len()')
        assert ran.reply["status"] == "ok", ran.reply
        assert ran.result_text == "1"
    finally:
        stop_kernel(km, kc)
