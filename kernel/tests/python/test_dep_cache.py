"""The `:dep` compile cache (issue #13, item 2): on by default under `$KELP_HOME/cache/evcxr`, a
second kernel process with the same KELP_HOME reuses the first one's `:dep` builds, `:cache`
shows what is there and `:clear_cache` empties it. Over ZeroMQ against the installed kernelspec.

A crates.io crate is used (fnv 1.0.7): evcxr never caches crates given by a local path."""

import pathlib
import re

import pytest
from conftest import run_cell, start_kernel

DEP = ':dep fnv = "=1.0.7"'
USE = "let mut m: fnv::FnvHashMap<u32, u32> = Default::default();\nm.insert(1, 2);\nm[&1] * 21"


def run(kc, code, timeout=900):
    """Execute `code`; returns (reply content, the cell's text/plain result or None, stdout)."""
    ran = run_cell(kc, code, timeout)
    return ran.reply, ran.result, ran.stream()


def fnv_entries(home: pathlib.Path):
    """Cache entries (folders) made for fnv's rustc command line, with their hit counts."""
    found = {}
    for entry in (home / "cache" / "evcxr").glob("*"):
        meta = entry / "meta"
        if meta.exists() and "--crate-name\nfnv\n" in meta.read_text():
            found[entry.name] = int((entry / "hits").read_text())
    return found


def cache_numbers(text):
    """(entries, size in MiB, hits) from `:cache`'s answer (sizes under a MiB are shown in KiB)."""
    m = re.search(r"entries: (\d+), size: ([\d.]+) (KiB|MiB) of [\d.]+ MiB, hits: (\d+)", text or "")
    assert m, text
    size = float(m.group(2)) / (1024 if m.group(3) == "KiB" else 1)
    return int(m.group(1)), size, int(m.group(4))


@pytest.fixture()
def home(tmp_path):
    return tmp_path / "kelp-home"


def test_a_second_kernel_reuses_the_first_kernels_dep_build(home):
    km, kc = start_kernel(home)
    try:
        reply, result, _ = run(kc, f"{DEP}\n{USE}")
        assert reply["status"] == "ok", reply
        assert result == "42"
        first = fnv_entries(home)
        # fnv's compiled library is in the cache, not used yet
        assert len(first) == 1 and list(first.values()) == [0], first
        entry = home / "cache" / "evcxr" / next(iter(first))
        assert any(p.name.startswith("libfnv") for p in entry.iterdir()), list(entry.iterdir())
        reply, shown, _ = run(kc, ":cache")
        assert reply["status"] == "ok", reply
        assert str(home / "cache" / "evcxr") in shown
        entries, size, hits = cache_numbers(shown)
        assert entries >= 1 and size > 0 and hits == 0
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)

    km, kc = start_kernel(home)
    try:
        reply, result, _ = run(kc, f"{DEP}\n{USE}")
        assert reply["status"] == "ok", reply
        assert result == "42"
        # the second process took fnv from the cache instead of compiling it again
        assert fnv_entries(home) == {name: 1 for name in first}
        _, shown, _ = run(kc, ":cache")
        assert cache_numbers(shown)[2] >= 1
        # clearing empties it (and says so); the session goes on
        reply, shown, _ = run(kc, ":clear_cache")
        assert reply["status"] == "ok", reply
        assert shown.startswith("deleted "), shown
        assert fnv_entries(home) == {}
        _, shown, _ = run(kc, ":cache")
        assert cache_numbers(shown)[:2] == (0, 0.0)
        reply, result, _ = run(kc, "m.len()")
        assert (reply["status"], result) == ("ok", "1")
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def test_cache_off_and_a_bad_setting(home):
    km, kc = start_kernel(home, KELP_DEP_CACHE_MB="0")
    try:
        reply, result, _ = run(kc, f"{DEP}\n{USE}")
        assert (reply["status"], result) == ("ok", "42")
        assert fnv_entries(home) == {}
        _, shown, _ = run(kc, ":cache")
        assert "off" in shown
        reply, _, _ = run(kc, ":cache lots")
        assert reply["status"] == "error"
        assert reply["evalue"] == ":cache takes a whole number of MiB (0 turns the cache off), not 'lots'"
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
