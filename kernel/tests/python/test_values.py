"""A cell's final value shown in one compile (issue #17): evcxr compiles `(E).evcxr_display()`
first and, for any type without one (`1 + 1`), compiles the cell again with `{:?}`; kelp's
marking shows `{:?}` or the type's own `evcxr_display` in the same compile, and falls back to
evcxr's showing where that cannot compile. Each check compares with what evcxr shows. Over
ZeroMQ against the installed `kelp` kernelspec; the engine's phases come from KELP_STARTUP_LOG."""

import json

import pytest
from conftest import kernel, run_cell

FIG = (
    "#[derive(Debug)]\n"
    "pub struct Fig(u32);\n"
    "impl Fig { pub fn evcxr_display(&self) {\n"
    '    println!("EVCXR_BEGIN_CONTENT text/html\\n<i>fig {}</i>\\nEVCXR_END_CONTENT", self.0);\n'
    "} }"
)


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    home = tmp_path_factory.mktemp("kelp-home")
    log = home / "startup.json"
    with kernel(home, KELP_STARTUP_LOG=str(log)) as kc:
        yield kc, log


def shown(kc, code):
    ran = run_cell(kc, code)
    assert ran.reply["status"] == "ok", (code, ran.reply, ran.stdout)
    return [(m["msg_type"], m["content"].get("data", m["content"].get("text"))) for m in ran.shown]


def test_debug_values_are_shown_as_evcxr_shows_them_after_one_compile(session):
    kc, log = session
    # The first two cells are the ones whose phases the start-up log keeps.
    assert shown(kc, "1 + 1") == [("execute_result", {"text/plain": "2"})]
    assert shown(kc, 'let s = String::from("a\\"b");\n(s.clone(), vec![Some(1.5), None])') == [
        ("execute_result", {"text/plain": '("a\\"b", [Some(1.5), None])'})
    ]
    phases = json.loads(log.read_text())
    assert "cell1.final_compile" in phases and "cell2.final_compile" in phases, phases
    # evcxr names the recompile after its failed `evcxr_display` attempt "Fallback".
    assert not [k for k in phases if k.endswith(".fallback")], phases
    # The value was shown through a reference: the variable is still there.
    assert shown(kc, "s.len()") == [("execute_result", {"text/plain": "3"})]


def test_a_types_own_evcxr_display_wins_over_debug_also_through_a_reference(session):
    kc, _ = session
    assert shown(kc, FIG) == []
    assert shown(kc, "Fig(2)") == [("execute_result", {"text/html": "<i>fig 2</i>"})]
    assert shown(kc, "let f = Fig(3);\n&f") == [("execute_result", {"text/html": "<i>fig 3</i>"})]


def test_where_the_one_compile_cannot_work_evcxr_shows_the_value_or_its_error(session):
    kc, _ = session
    # A trait of the notebook's with its own `evcxr_display`, in scope beside kelp's.
    assert shown(kc, "#[derive(Debug)]\npub struct Map(u8);\npub trait Draw { fn evcxr_display(&self); }") == []
    assert shown(
        kc, 'impl Draw for Map { fn evcxr_display(&self) { println!("EVCXR_BEGIN_CONTENT text/html\\nmap\\nEVCXR_END_CONTENT") } }'
    ) == []
    assert shown(kc, "Map(1)") == [("execute_result", {"text/html": "map"})]
    # Neither Debug nor evcxr_display: evcxr's own error.
    ran = run_cell(kc, "pub struct Opaque;\nOpaque")
    assert ran.reply["status"] == "error", ran.reply
    assert "doesn't implement `Debug`" in ran.reply["evalue"], ran.reply["evalue"]
    assert "__Kelp" not in ran.reply["evalue"], ran.reply["evalue"]


def test_after_fmt_evcxr_formats_every_value(tmp_path):
    with kernel(tmp_path) as kc:
        out = shown(kc, ":fmt {:#?}\nvec![1, 2]")
        assert out == [("execute_result", {"text/plain": "Output format: {:#?}\n[\n    1,\n    2,\n]"})], out
        assert shown(kc, "(7,)") == [("execute_result", {"text/plain": "(\n    7,\n)"})]
