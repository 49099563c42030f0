#!/usr/bin/env python3
"""Unit tests of install/modcycles.py on tiny fixture crates (run by install/test.d/10-rust-lint.sh)."""

import contextlib
import io
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import modcycles  # noqa: E402


def crate(root: Path, name: str, files: dict[str, str]) -> None:
    (root / name).mkdir(parents=True)
    (root / name / "Cargo.toml").write_text(f'[package]\nname = "{name}"\n')
    for rel, text in files.items():
        p = root / name / "src" / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)


def run(root: Path, *extra: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = modcycles.main([*extra, str(root)])
    return code, out.getvalue() + err.getvalue()


class ModCycles(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.root = Path(self.tmp.name)

    def tearDown(self):
        self.tmp.cleanup()

    def test_a_cycle_through_a_nested_file_fails_and_is_printed(self):
        crate(self.root, "cyc", {
            "lib.rs": "pub mod a;\npub mod b;\n",
            "a.rs": "use crate::b::helper;\n",
            "b/mod.rs": "mod inner;\n",
            "b/inner.rs": "pub fn f() { crate::a::g() }\n",
        })
        code, text = run(self.root)
        self.assertEqual(code, 1)
        self.assertIn("import cycle: cyc: a -> b -> a (a.rs: crate::b, b/inner.rs: crate::a)", text)

    def test_braces_and_super_climbs_count_comments_and_strings_do_not(self):
        crate(self.root, "grp", {
            "lib.rs": "mod a;\nmod b;\nmod c;\n",
            "a.rs": "use crate::{c::X, b};\n",
            "b/x.rs": "use super::super::a::Y;\n",
            "c.rs": "// crate::a\nconst S: &str = \"crate::a\";\nfn t() { let _ = r#\"crate::b\"#; }\n",
        })
        code, text = run(self.root)
        self.assertEqual(code, 1)
        self.assertIn("grp: a -> b -> a (a.rs: crate::b, b/x.rs: super::super::a)", text)
        self.assertNotIn("c ->", text)

    def test_no_cycle_passes_and_test_modules_super_stays_in_the_file(self):
        crate(self.root, "ok", {
            "lib.rs": "mod a;\nmod b;\n",
            "a.rs": "use crate::b;\n#[cfg(test)]\nmod tests {\n    use super::*;\n}\n",
            "b.rs": "pub fn f() {}\n#[cfg(test)]\nmod tests {\n    use super::f;\n}\n",
            "bin/tool.rs": "use crate::a;\n",
        })
        self.assertEqual(run(self.root), (0, ""))

    def test_unit_test_files_may_use_any_modules_test_support(self):
        crate(self.root, "tst", {
            "lib.rs": "mod fetch;\nmod testing;\n",
            "fetch/mod.rs": "#[cfg(test)]\nmod tests;\n",
            "fetch/tests.rs": "use crate::testing::origin;\n",
            "testing.rs": "use crate::fetch::Policy;\n",
        })
        self.assertEqual(run(self.root), (0, ""))

    def test_an_allowed_cycle_is_listed_not_fatal(self):
        crate(self.root, "cyc", {"lib.rs": "", "a.rs": "use crate::b;\n", "b.rs": "use crate::a;\n"})
        code, text = run(self.root, "--allow", "cyc:a,b=issue #15")
        self.assertEqual(code, 0)
        self.assertIn("known cycle (issue #15): cyc: a -> b -> a", text)
        code, _ = run(self.root, "--allow", "other:a,b=issue #15")
        self.assertEqual(code, 1)

    def test_an_allowance_for_a_cycle_that_is_gone_fails(self):
        crate(self.root, "fixed", {"lib.rs": "", "a.rs": "use crate::b;\n", "b.rs": "pub fn f() {}\n"})
        code, text = run(self.root, "--allow", "fixed:a,b=issue #15")
        self.assertEqual(code, 1)
        self.assertIn("stale allowance (issue #15): fixed:a,b is no longer a cycle", text)


if __name__ == "__main__":
    unittest.main()
