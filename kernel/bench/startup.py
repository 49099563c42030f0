"""Kernel start-up benchmark: kelp beside evcxr_jupyter, measured in the same run.

Prints, for each kernel, the median over --runs of:
  start → kernel_info_reply
  start → first magic-cell reply   (kelp: `%lsmagic`; evcxr_jupyter has no magics: `:version`)
  first trivial Rust cell (`1 + 1`), timed from its request, and start → its result
  second and tenth trivial Rust cell
  memory of the kernel's process tree (RSS, MiB) after the first Rust cell
and, for kelp, where the engine's start-up went (its KELP_STARTUP_LOG figures: evcxr's context,
the prelude made alongside and attached, the first cells with evcxr's compile/execution phases).
kelp's runs share one KELP_HOME, so the first run makes the prelude cache and later runs use it.

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

import psutil

from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpec


def tree_rss_mib(pid: int) -> float:
    """Resident memory of a process and all its descendants, MiB."""
    proc = psutil.Process(pid)
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total / 2**20


def run_once(spec_dir: pathlib.Path, magic: str, home: str, log: pathlib.Path | None) -> dict:
    spec = KernelSpec.from_resource_dir(str(spec_dir))
    km = KernelManager()
    km.kernel_name = spec_dir.name  # set first: changing the name forgets the spec
    km._kernel_spec = spec  # noqa: SLF001 - use a spec from a directory, not the search path
    env = dict(os.environ, KELP_HOME=home)
    if log:
        env["KELP_STARTUP_LOG"] = str(log)
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
        times = []
        for i in range(10):
            t = time.perf_counter()
            r = kc.execute(f"{i + 1} + 1", reply=True, timeout=600)
            times.append(time.perf_counter() - t)
            assert r["content"]["status"] == "ok", r
            if i == 0:
                t_first_result = time.perf_counter() - t0
                rss = tree_rss_mib(km.provisioner.process.pid)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    return {
        "kernel_info": t_info,
        "first_magic_cell": t_magic,
        "first_rust_cell": times[0],
        "start_to_first_result": t_first_result,
        "second_rust_cell": times[1],
        "tenth_rust_cell": times[9],
        "rss_mib_after_first_cell": rss,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kelp-spec", required=True, type=pathlib.Path)
    ap.add_argument("--evcxr-spec", type=pathlib.Path)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    kernels = [("kelp", a.kelp_spec, "%lsmagic")]
    if a.evcxr_spec:
        kernels.append(("evcxr_jupyter 0.22", a.evcxr_spec, ":version"))
    results, breakdown = {}, []
    for name, spec, magic in kernels:
        runs = []
        with tempfile.TemporaryDirectory() as shared:
            for _ in range(a.runs):
                with tempfile.TemporaryDirectory() as own:
                    log = pathlib.Path(shared, "startup.json") if name == "kelp" else None
                    runs.append(run_once(spec, magic, shared if name == "kelp" else own, log))
                    if log and log.exists():
                        breakdown.append(json.loads(log.read_text()))
                        log.unlink()
        results[name] = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    cols = list(next(iter(results.values())).keys())
    print(f"{'kernel':<22}" + "".join(f"{c:>26}" for c in cols) + "   (seconds / MiB, median of %d runs)" % a.runs)
    for name, r in results.items():
        print(f"{name:<22}" + "".join(f"{r[c]:>26.3f}" for c in cols))
    if breakdown:
        print("kelp engine start-up, per run (s; prelude_cached: made by an earlier kernel):")
        keys = sorted({k for b in breakdown for k in b})
        for k in keys:
            print(f"  {k:<34}" + "".join(f"{str(b.get(k, '-')):>12.12}" for b in breakdown))
    print(json.dumps({"medians": results, "kelp_breakdown": breakdown}))


if __name__ == "__main__":
    main()
