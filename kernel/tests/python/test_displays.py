"""evcxr display blocks (`EVCXR_BEGIN_CONTENT <mime>` … `EVCXR_END_CONTENT`, as plotters,
plotly and petgraph_evcxr print them) printed while a cell runs: each becomes its own
display_data at that point of the output, and only the cell's final value is the
execute_result (issue #13, item 1). Over ZeroMQ against the installed `kelp` kernelspec."""

import hashlib

import pytest
from conftest import kernel, run_cell



@pytest.fixture(scope="module")
def kc(tmp_path_factory):
    with kernel(tmp_path_factory.mktemp("kelp-home")) as client:
        yield client


def run(kc, code, timeout=600):
    """Execute `code`; returns (reply content, the cell's shown iopub messages in order)."""
    ran = run_cell(kc, code, timeout)
    return ran.reply, ran.shown


def outline(shown):
    """Stdout text merged between displays: [("stdout", text) | (msg_type, {mime: data})]."""
    out = []
    for m in shown:
        if m["msg_type"] == "stream":
            if out and out[-1][0] == m["content"]["name"]:
                out[-1] = (out[-1][0], out[-1][1] + m["content"]["text"])
            else:
                out.append((m["content"]["name"], m["content"]["text"]))
        elif m["msg_type"] in ("display_data", "execute_result"):
            out.append((m["msg_type"], m["content"]["data"]))
        else:
            out.append((m["msg_type"], m["content"]))
    return out


def test_two_displays_in_order_with_stdout_and_one_result(kc):
    reply, shown = run(
        kc,
        'println!("before");\n'
        'println!("EVCXR_BEGIN_CONTENT text/html\\n<b>one</b>\\nEVCXR_END_CONTENT");\n'
        'println!("between");\n'
        'kelp::display("image/svg+xml", "<svg>two</svg>");\n'
        'println!("after");\n'
        "40 + 2\n",
    )
    assert reply["status"] == "ok", reply
    assert outline(shown) == [
        ("stdout", "before\n"),
        ("display_data", {"text/html": "<b>one</b>"}),
        ("stdout", "between\n"),
        ("display_data", {"image/svg+xml": "<svg>two</svg>"}),
        ("stdout", "after\n"),
        ("execute_result", {"text/plain": "42"}),
    ]


def test_kelp_display_helpers_and_json_displays(kc):
    # kelp::display_html and a JSON block printed by hand take the same path; JSON arrives as JSON.
    reply, shown = run(
        kc,
        'kelp::display_html("<p>a</p>");\n'
        'println!("EVCXR_BEGIN_CONTENT application/json\\n{{\\"n\\": [1, 2]}}\\nEVCXR_END_CONTENT");\n'
        'kelp::display_html("<p>b</p>")',
    )
    assert reply["status"] == "ok", reply
    assert outline(shown) == [
        ("display_data", {"text/html": "<p>a</p>"}),
        ("display_data", {"application/json": {"n": [1, 2]}}),
        ("display_data", {"text/html": "<p>b</p>"}),
        ("execute_result", {"text/plain": "()"}),
    ]


def test_a_value_with_evcxr_display_stays_the_result(kc):
    reply, _ = run(
        kc,
        "struct Fig(u32);\n"
        "impl Fig { pub fn evcxr_display(&self) {\n"
        '    println!("EVCXR_BEGIN_CONTENT text/html\\n<i>fig {}</i>\\nEVCXR_END_CONTENT", self.0);\n'
        "} }",
    )
    assert reply["status"] == "ok", reply
    reply, shown = run(kc, "let f = Fig(1);\nf.evcxr_display();\nFig(2)")
    assert reply["status"] == "ok", reply
    assert outline(shown) == [
        ("display_data", {"text/html": "<i>fig 1</i>"}),
        ("execute_result", {"text/html": "<i>fig 2</i>"}),
    ]
    # A figure per loop step: one display each, even with the loop as the last expression;
    # the variable shown last is still there (the value is shown through a reference).
    reply, shown = run(kc, "for i in 3..6 { Fig(i).evcxr_display() }")
    assert reply["status"] == "ok", reply
    figs = [d for kind, d in outline(shown) if kind == "display_data"]
    assert figs == [{"text/html": f"<i>fig {i}</i>"} for i in (3, 4, 5)]
    reply, shown = run(kc, "f.0")
    assert outline(shown) == [("execute_result", {"text/plain": "1"})]


def test_a_five_megabyte_svg_arrives_intact(kc):
    n = 120_000
    svg = '<svg xmlns="http://www.w3.org/2000/svg">\n' + "\n".join(
        f'<rect x="{i}" y="{i % 97}" width="1" height="1"/>' for i in range(n)
    ) + "\n</svg>"
    assert len(svg) > 5_000_000
    code = (
        'let mut svg = String::from("<svg xmlns=\\"http://www.w3.org/2000/svg\\">\\n");\n'
        f"for i in 0..{n} {{ svg.push_str(&format!(\"<rect x=\\\"{{i}}\\\" y=\\\"{{}}\\\" width=\\\"1\\\" "
        f'height=\\"1\\"/>\\n", i % 97)); }}\n'
        'svg.push_str("</svg>");\n'
        'println!("EVCXR_BEGIN_CONTENT image/svg+xml\\n{svg}\\nEVCXR_END_CONTENT");\n'
        'println!("sent");'
    )
    reply, shown = run(kc, code)
    assert reply["status"] == "ok", reply
    kinds = outline(shown)
    assert [k for k, _ in kinds] == ["display_data", "stdout"]
    got = kinds[0][1]["image/svg+xml"]
    assert hashlib.sha256(got.encode()).hexdigest() == hashlib.sha256(svg.encode()).hexdigest()
    assert kinds[1] == ("stdout", "sent\n")


def test_a_block_split_across_prints_and_flushes_is_one_display(kc):
    reply, shown = run(
        kc,
        "use std::io::Write as _;\n"
        'print!("EVCXR_BEGIN_CONT"); std::io::stdout().flush().unwrap();\n'
        'print!("ENT text/html\\n<p>pa"); std::io::stdout().flush().unwrap();\n'
        'print!("rts</p>\\n<p>two</p>\\nEVCXR_END"); std::io::stdout().flush().unwrap();\n'
        'println!("_CONTENT");',
    )
    assert reply["status"] == "ok", reply
    assert outline(shown) == [("display_data", {"text/html": "<p>parts</p>\n<p>two</p>"})]


def test_a_block_without_end_marker_is_shown_as_text(kc):
    reply, shown = run(
        kc, 'println!("EVCXR_BEGIN_CONTENT text/html\\n<p>never closed</p>");\nprintln!("done");', timeout=120
    )
    assert reply["status"] == "ok", reply
    assert outline(shown) == [("stdout", "EVCXR_BEGIN_CONTENT text/html\n<p>never closed</p>\ndone\n")]
    # The session goes on normally afterwards.
    reply, shown = run(kc, '"still here"')
    assert outline(shown) == [("execute_result", {"text/plain": '"still here"'})]
