"""std's sources for evcxr's rust-analyzer (issue #17, kernel/src/std_src.rs), over ZeroMQ: a
kernel sets RUST_SRC_PATH to a link under KELP_HOME that first points at a stand-in (empty core,
alloc and std) and, when a cell first binds a variable or asks for completions, at a folder that
links the toolchain's library crates without its Cargo workspace, so rust-analyzer reads
core/alloc/std alone and only when needed; variables of std types still keep their types from cell
to cell; KELP_STD_EAGER=1 reads std at start; a RUST_SRC_PATH the user set, or
KELP_STD_WORKSPACE=1, is left alone."""

import json
import pathlib
import subprocess

from conftest import kernel, run_cell


def value(kc, code):
    ran = run_cell(kc, code)
    assert ran.reply["status"] == "ok", (code, ran.reply, ran.stdout)
    return ran.result_text


def library():
    sysroot = subprocess.run(["rustc", "--print", "sysroot"], capture_output=True, text=True, check=True).stdout
    return pathlib.Path(sysroot.strip(), "lib/rustlib/src/rust/library")


# The idle engine's prelude attachment (which also points the link at std) must not come
# between the cells of these tests.
NO_IDLE = {"KELP_IDLE_ATTACH_MS": "600000", "RUST_SRC_PATH": None, "KELP_STD_WORKSPACE": None}


def figures(log):
    return json.loads(log.read_text()) if log.exists() else {}


def test_the_kernel_reads_std_without_its_workspace_and_std_types_persist(tmp_path):
    log = tmp_path / "startup.json"
    with kernel(tmp_path, KELP_STARTUP_LOG=log, KELP_STD_EAGER=None, **NO_IDLE) as kc:
        src = pathlib.Path(json.loads(value(kc, 'std::env::var("RUST_SRC_PATH").unwrap()')))
        assert src.parent == tmp_path / "std-src" and src.name.startswith("kernel-") and src.is_symlink(), src
        # A cell that binds no variable ran with the stand-in: std not read yet.
        assert src.readlink() == pathlib.Path("stand-in-1"), src.readlink()
        assert sorted(p.name for p in src.iterdir()) == ["alloc", "core", "reload", "std"]
        assert "std_read" not in figures(log), figures(log)
        # Types rust-analyzer must infer for evcxr to keep the variables: the first `let` has
        # the link pointed at std's folder first.
        ran = run_cell(
            kc,
            "let mut m = std::collections::HashMap::new();\n"
            'm.insert(String::from("k"), vec![1u8, 2]);\n'
            "let doubled: Vec<_> = (0..3u8).map(|x| u32::from(x) * 2).collect();\n"
            'let missing = std::fs::read_to_string("/nonexistent/k-e-l-p");\n'
            "let mut it = doubled.clone().into_iter().rev().peekable();",
        )
        assert ran.reply["status"] == "ok", (ran.reply, ran.stdout)
        assert figures(log)["std_read"] == "when first needed", figures(log)
        entries = sorted(p.name for p in src.iterdir())
        assert "core" in entries and "std" in entries and "alloc" in entries, entries
        assert "Cargo.toml" not in entries and "Cargo.lock" not in entries, entries
        lib = library()
        assert sorted(set(p.name for p in lib.iterdir()) - {"Cargo.toml", "Cargo.lock", "stdarch"}) == entries
        assert (src / "core").resolve() == (lib / "core").resolve()
        got = value(kc, 'format!("{} {:?} {} {:?}", m["k"].len(), doubled, missing.is_err(), it.peek())')
        assert got == '"2 [0, 2, 4] true Some(4)"', got


def test_two_kernels_in_one_home_point_links_of_their_own(tmp_path):
    link = 'std::env::var("RUST_SRC_PATH").unwrap()'
    with kernel(tmp_path, KELP_STD_EAGER=None, **NO_IDLE) as a:
        ran = run_cell(a, "let v = vec![String::from(\"x\")];")
        assert ran.reply["status"] == "ok", ran.reply
        a_src = pathlib.Path(json.loads(value(a, link)))
        with kernel(tmp_path, KELP_STD_EAGER=None, **NO_IDLE) as b:
            b_src = pathlib.Path(json.loads(value(b, link)))
            assert b_src != a_src and b_src.readlink() == pathlib.Path("stand-in-1"), (a_src, b_src)
            assert a_src.readlink() != pathlib.Path("stand-in-1")
            # a's rust-analyzer loads the workspace again (the prelude changes its Cargo.toml)
            # while b's link is at the stand-in: a still gets std's types.
            assert value(a, 'kelp::parse_csv("a\\n1\\n").unwrap().len() + v.len()') == "2"
            ran = run_cell(a, "let w: Vec<_> = v.iter().map(|s| s.len()).collect();\nlet n = w.iter().sum::<usize>();")
            assert ran.reply["status"] == "ok", ran.reply
            assert value(a, "n + w.len()") == "2"
    # (killed, not shut down: their links stay) the next kernel sweeps the links of gone ones.
    def links():
        return sorted(p.name for p in (tmp_path / "std-src").iterdir() if p.name.startswith("kernel-"))

    assert links() == sorted([a_src.name, b_src.name])
    with kernel(tmp_path, **NO_IDLE) as c:
        assert links() == [pathlib.Path(json.loads(value(c, link))).name]


def test_a_first_cell_that_fails_to_compile_leaves_std_read(tmp_path):
    with kernel(tmp_path, KELP_STD_EAGER=None, **NO_IDLE) as kc:
        ran = run_cell(kc, 'let x: u8 = "a";')
        assert ran.reply["status"] == "error" and "mismatched types" in ran.reply["evalue"], ran.reply
        assert "kelp_std_reload" not in ran.reply["evalue"], ran.reply["evalue"]
        ran = run_cell(kc, 'let m = std::collections::BTreeMap::from([(1u8, String::from("a"))]);')
        assert ran.reply["status"] == "ok", ran.reply
        assert value(kc, "m[&1].len() + m.len()") == "2"


def test_the_first_completion_reads_std(tmp_path):
    with kernel(tmp_path, KELP_STD_EAGER=None, **NO_IDLE) as kc:
        code = "let s = String::new();\ns.trim_"
        kc.complete(code, len(code))
        reply = kc.get_shell_msg(timeout=600)["content"]
        assert reply["status"] == "ok", reply
        names = {m.split("(")[0] for m in reply["matches"]}
        assert {"trim_start", "trim_end"} <= names, reply["matches"]


def test_eager_reads_std_at_start(tmp_path):
    with kernel(tmp_path, KELP_STD_EAGER="1", **NO_IDLE) as kc:
        src = pathlib.Path(json.loads(value(kc, 'std::env::var("RUST_SRC_PATH").unwrap()')))
        assert src.readlink() != pathlib.Path("stand-in-1"), src.readlink()
        assert (src / "core").resolve() == (library() / "core").resolve()


def test_a_users_rust_src_path_and_the_opt_out_are_kept(tmp_path):
    own = tmp_path / "my-src"
    own.mkdir()
    with kernel(tmp_path / "a", RUST_SRC_PATH=own) as kc:
        assert value(kc, 'std::env::var("RUST_SRC_PATH").unwrap()') == json.dumps(str(own))
    assert not (tmp_path / "a" / "std-src").exists()
    env = {"KELP_STD_WORKSPACE": "1", "RUST_SRC_PATH": None}
    with kernel(tmp_path / "b", **env) as kc:
        assert value(kc, 'std::env::var("RUST_SRC_PATH").is_err()') == "true"
    assert not (tmp_path / "b" / "std-src").exists()


SIMD = "use std::arch::x86_64::*;\nlet v = unsafe { _mm_set1_epi32(7) };"
LANES = "let w: [i32; 4] = unsafe { std::mem::transmute(v) };\nw"


def test_core_arch_is_left_out_unless_asked_for_and_the_error_says_what_to_do(tmp_path):
    with kernel(tmp_path / "a", RUST_SRC_PATH=None, KELP_STD_ARCH=None) as kc:
        src = pathlib.Path(json.loads(value(kc, 'std::env::var("RUST_SRC_PATH").unwrap()')))
        ran = run_cell(kc, SIMD)
        assert "stdarch" not in [p.name for p in src.iterdir()] and "core" in [p.name for p in src.iterdir()]
        assert ran.reply["status"] == "error", ran.reply
        text = ran.reply["evalue"]
        assert "Couldn't automatically determine type of variable `v`" in text, text
        assert "KELP_STD_ARCH=1" in text and "write the variable's type" in text, text
        # The type written: the cell compiles against the real std as always.
        assert value(kc, SIMD.replace("let v =", "let v: __m128i =")) == ""
        assert value(kc, LANES) == "[7, 7, 7, 7]"
    with kernel(tmp_path / "b", RUST_SRC_PATH=None, KELP_STD_ARCH="1") as kc:
        src = pathlib.Path(json.loads(value(kc, 'std::env::var("RUST_SRC_PATH").unwrap()')))
        assert value(kc, SIMD) == ""
        # (the link is read again now: the first `let` pointed it at std's folder)
        assert "stdarch" in [p.name for p in src.iterdir()]
        assert value(kc, LANES) == "[7, 7, 7, 7]"
