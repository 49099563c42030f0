"""Kernel start-up benchmark: kelp beside evcxr_jupyter, measured in the same run.

Prints, for each kernel, the median over --runs of:
  start → kernel_info_reply
  start → first magic-cell reply   (kelp: `%lsmagic`; evcxr_jupyter has no magics: `:version`)
  first trivial Rust cell (`1 + 1`), timed from its request, and start → its result
  second and tenth trivial Rust cell
  memory of the kernel's process tree (RSS, MiB) after the first Rust cell
  CPU seconds the kernel process itself (not cargo/rustc) used until that result: less sensitive
  to other load than the times; most of it is evcxr's rust-analyzer reading the standard library
  start → the result of a first cell that binds variables (`let v = vec![..]; ..`), in a kernel
  of its own: evcxr asks rust-analyzer for their types, so this one waits for std to be read
  (kelp reads it only then; also with KELP_STD_EAGER=1, which reads it at start)
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
                cpu = psutil.Process(km.provisioner.process.pid).cpu_times()
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
        "cpu_s_to_first_result": cpu.user + cpu.system,
    }


LET_CELL = "let v = vec![1u8, 2, 3];\nlet m: std::collections::HashMap<u8, usize> = Default::default();\nv.len() + m.len()"


def let_first_once(spec_dir: pathlib.Path, home: str, **env_extra) -> float:
    """Start → the result of LET_CELL as the kernel's first cell (checked: "3")."""
    spec = KernelSpec.from_resource_dir(str(spec_dir))
    km = KernelManager()
    km.kernel_name = spec_dir.name
    km._kernel_spec = spec  # noqa: SLF001
    t0 = time.perf_counter()
    km.start_kernel(env=dict(os.environ, KELP_HOME=home, **env_extra), cwd=home)
    kc = km.client()
    kc.start_channels()
    try:
        msgs = []
        r = kc.execute_interactive(LET_CELL, timeout=600, output_hook=msgs.append)
        t = time.perf_counter() - t0
        assert r["content"]["status"] == "ok", r
        shown = [m["content"]["data"]["text/plain"] for m in msgs if m["msg_type"] == "execute_result"]
        assert shown == ["3"], shown
        return t
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def wait_for_spare(home: str, timeout: float = 300) -> float:
    """Seconds until a spare engine is offered under `home` (its socket appears)."""
    t = time.perf_counter()
    while not list(pathlib.Path(home, "engines").glob("*.sock")):
        if time.perf_counter() - t > timeout:
            raise TimeoutError(f"no spare engine under {home} after {timeout} s")
        time.sleep(0.05)
    return time.perf_counter() - t


def first_result(km: KernelManager, t0: float) -> float:
    kc = km.client()
    kc.start_channels()
    try:
        r = kc.execute("1 + 1", reply=True, timeout=600)
        assert r["content"]["status"] == "ok", r
        return time.perf_counter() - t0
    finally:
        kc.stop_channels()


def warm_runs(spec_dir: pathlib.Path) -> dict:
    """Cold first kernel, second kernel, restart, with warm engines on (see the module docs)."""
    spec = KernelSpec.from_resource_dir(str(spec_dir))
    out = {}
    with tempfile.TemporaryDirectory(dir="/tmp", prefix="kb") as home:
        env = dict(os.environ, KELP_HOME=home, KELP_WARM_ENGINE="1", KELP_WARM_IDLE_SECS="120")
        managers = []
        try:
            for name in ("cold_first_kernel", "second_kernel"):
                km = KernelManager()
                km.kernel_name = spec_dir.name
                km._kernel_spec = spec  # noqa: SLF001
                managers.append(km)
                t0 = time.perf_counter()
                km.start_kernel(env=env, cwd=home)
                out[name] = first_result(km, t0)
                out[f"spare_offered_after_{name}"] = wait_for_spare(home)
            t0 = time.perf_counter()
            managers[1].restart_kernel(now=True)
            out["after_restart"] = first_result(managers[1], t0)
        finally:
            for km in managers:
                km.shutdown_kernel(now=True)
            for lock in pathlib.Path(home, "engines").glob("*.lock"):
                pid = lock.read_text().strip()
                if pid.isdigit():
                    try:
                        os.kill(int(pid), 9)
                    except OSError:
                        pass
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kelp-spec", required=True, type=pathlib.Path)
    ap.add_argument("--evcxr-spec", type=pathlib.Path)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    kernels = [("kelp", a.kelp_spec, "%lsmagic")]
    if a.evcxr_spec:
        kernels.append(("evcxr_jupyter 0.22", a.evcxr_spec, ":version"))
    results, breakdown, per_run = {}, [], {}
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
            variants = [("", {})] + ([(" (KELP_STD_EAGER=1)", {"KELP_STD_EAGER": "1"})] if name == "kelp" else [])
            for suffix, extra in variants:
                for r in runs:
                    with tempfile.TemporaryDirectory() as own:
                        r["start_to_let_cell_result" + suffix.replace(" (KELP_STD_EAGER=1)", "_eager")] = let_first_once(
                            spec, shared if name == "kelp" else own, **extra
                        )
        results[name] = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        per_run[name] = [r["start_to_first_result"] for r in runs]
    cols = [k for k in next(iter(results.values())) if all(k in r for r in results.values())]
    print(f"{'kernel':<22}" + "".join(f"{c:>26}" for c in cols) + "   (seconds / MiB, median of %d runs)" % a.runs)
    for name, r in results.items():
        print(f"{name:<22}" + "".join(f"{r[c]:>26.3f}" for c in cols))
    for name, r in results.items():
        for k in [k for k in r if k not in cols]:
            print(f"{name:<22}{k:>40}{r[k]:>10.3f}")
    print("start → first `1 + 1` result, per run (s; kelp's first run makes its caches):")
    for name, runs in per_run.items():
        print(f"  {name:<22}" + "".join(f"{t:>10.3f}" for t in runs))
    if breakdown:
        print("kelp engine start-up, per run (s; prelude_cached: made by an earlier kernel):")
        keys = sorted({k for b in breakdown for k in b})
        for k in keys:
            print(f"  {k:<34}" + "".join(f"{str(b.get(k, '-')):>12.12}" for b in breakdown))
    warm = [warm_runs(a.kelp_spec) for _ in range(a.runs)]
    print("kelp with warm engines (KELP_WARM_ENGINE=1), start → first `1 + 1` result, per run (s):")
    for k in warm[0]:
        print(f"  {k:<40}" + "".join(f"{w[k]:>10.3f}" for w in warm) + f"   median {statistics.median(w[k] for w in warm):.3f}")
    print(json.dumps({"medians": results, "kelp_breakdown": breakdown, "kelp_warm": warm}))


if __name__ == "__main__":
    main()
