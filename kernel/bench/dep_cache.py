"""`:dep` benchmark: how long a cell that adds plotters (SVG backend only) takes.

Prints, in seconds (timed from the cell's request to its reply, after a `1 + 1` cell has
started the engine):
  kelp, first kernel      a fresh KELP_HOME: plotters is compiled and stored in the cache
  kelp, second kernel     another kernel process, same KELP_HOME: plotters comes from the cache
  evcxr_jupyter 0.22      a fresh kernel, as installed (its own cache is off unless configured)

Usage: python dep_cache.py --kelp-spec DIR [--evcxr-spec DIR]
A benchmark, not a test: it prints figures and asserts only that the cells succeed.
"""

import argparse
import json
import os
import pathlib
import tempfile
import time

from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpec

DEP = ':dep plotters = { version = "=0.3.7", default-features = false, features = ["svg_backend", "line_series"] }'
USE = "plotters::style::RGBColor(1, 2, 3).0"


def time_dep(spec_dir: pathlib.Path, home: str) -> float:
    spec = KernelSpec.from_resource_dir(str(spec_dir))
    km = KernelManager()
    km.kernel_name = spec_dir.name  # set first: changing the name forgets the spec
    km._kernel_spec = spec  # noqa: SLF001 - use a spec from a directory, not the search path
    km.start_kernel(env=dict(os.environ, KELP_HOME=home), cwd=home)
    kc = km.client()
    kc.start_channels()
    try:
        r = kc.execute("1 + 1", reply=True, timeout=600)
        assert r["content"]["status"] == "ok", r
        t0 = time.perf_counter()
        r = kc.execute(f"{DEP}\n{USE}", reply=True, timeout=1800)
        took = time.perf_counter() - t0
        assert r["content"]["status"] == "ok", r
        return took
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kelp-spec", required=True, type=pathlib.Path)
    ap.add_argument("--evcxr-spec", type=pathlib.Path)
    a = ap.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as home:
        results["kelp, first kernel"] = time_dep(a.kelp_spec, home)
        results["kelp, second kernel (cache)"] = time_dep(a.kelp_spec, home)
    if a.evcxr_spec:
        with tempfile.TemporaryDirectory() as home:
            results["evcxr_jupyter 0.22"] = time_dep(a.evcxr_spec, home)
    print(f"{':dep plotters (svg_backend, line_series)':<44}{'seconds':>10}")
    for name, t in results.items():
        print(f"{name:<44}{t:>10.2f}")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
