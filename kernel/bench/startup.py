"""Kernel start-up benchmark: kelp beside evcxr_jupyter, measured in the same run.

Prints, for each kernel, the median over --runs of:
  start → kernel_info_reply
  start → first magic-cell reply   (kelp: `%lsmagic`; evcxr_jupyter has no magics: `:version`)
  first trivial Rust cell (`1 + 1`), timed from its request
  second trivial Rust cell (`2 + 2`)

Usage: python startup.py --kelp-spec DIR [--evcxr-spec DIR] [--runs N]
(each DIR holds a kernel.json). A benchmark, not a test: it prints figures and asserts nothing
about speed.
"""

import argparse
import json
import os
import pathlib
import statistics
import tempfile
import time

from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpec


def run_once(spec_dir: pathlib.Path, magic: str) -> dict:
    spec = KernelSpec.from_resource_dir(str(spec_dir))
    km = KernelManager()
    km.kernel_name = spec_dir.name  # set first: changing the name forgets the spec
    km._kernel_spec = spec  # noqa: SLF001 - use a spec from a directory, not the search path
    with tempfile.TemporaryDirectory() as home:
        env = dict(os.environ, KELP_HOME=home)
        t0 = time.perf_counter()
        km.start_kernel(env=env, cwd=home)
        kc = km.client()
        kc.start_channels()
        try:
            kc.kernel_info(reply=False)
            kc.get_shell_msg(timeout=120)
            t_info = time.perf_counter() - t0
            kc.execute(magic, reply=True, timeout=600)
            t_magic = time.perf_counter() - t0
            t1 = time.perf_counter()
            r1 = kc.execute("1 + 1", reply=True, timeout=600)
            t_first = time.perf_counter() - t1
            t2 = time.perf_counter()
            r2 = kc.execute("2 + 2", reply=True, timeout=600)
            t_second = time.perf_counter() - t2
            assert r1["content"]["status"] == "ok" and r2["content"]["status"] == "ok", (r1, r2)
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=True)
    return {"kernel_info": t_info, "first_magic_cell": t_magic, "first_rust_cell": t_first, "second_rust_cell": t_second}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kelp-spec", required=True, type=pathlib.Path)
    ap.add_argument("--evcxr-spec", type=pathlib.Path)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    kernels = [("kelp", a.kelp_spec, "%lsmagic")]
    if a.evcxr_spec:
        kernels.append(("evcxr_jupyter 0.22", a.evcxr_spec, ":version"))
    results = {}
    for name, spec, magic in kernels:
        runs = [run_once(spec, magic) for _ in range(a.runs)]
        results[name] = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    cols = list(next(iter(results.values())).keys())
    print(f"{'kernel':<22}" + "".join(f"{c:>20}" for c in cols) + "   (seconds, median of %d runs)" % a.runs)
    for name, r in results.items():
        print(f"{name:<22}" + "".join(f"{r[c]:>20.3f}" for c in cols))
    print(json.dumps(results))


if __name__ == "__main__":
    main()
