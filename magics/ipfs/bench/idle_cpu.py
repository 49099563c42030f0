"""Idle kernel CPU with the IPFS node off and on (issue #11: the node "must never slow a cell").

A real `kelp` kernel (the installed `kelp` kernelspec) is started with jupyter_client and left
idle for --secs seconds three times: with the network off; with `%ipfs config network on` and no
peer; and with a Helia peer (magics/ipfs/tests/helia/peer.mjs serving 1 MiB) dialled through
`%ipfs config peers`, connected the whole time (Identify, Ping and Yamux keep-alives flow).
Printed for each: CPU seconds (user + system) of the kernel process, the share of one core, and
the CPU of its child processes (the Rust engine) over the same span, so the node's own cost is
the difference between the rows. A benchmark, not a test: it prints figures and asserts only
that each state was reached (node up or down, peer connected).

Usage: python idle_cpu.py [--secs N]   (magics/ipfs/bench/fetch.sh runs it)
"""

import argparse
import json
import os
import pathlib
import queue
import shutil
import subprocess
import tempfile
import time

import psutil
from jupyter_client.manager import start_new_kernel

ROOT = pathlib.Path(__file__).resolve().parents[3]
MODULES = pathlib.Path(os.environ.get("KELP_HELIA_MODULES") or ROOT / "install/.tools/helia/node_modules")


def cell_json(kc, code):
    """The application/json of a magic cell's result (fails on an error)."""
    msg_id = kc.execute(code)
    out, err = None, None
    while True:
        try:
            msg = kc.get_iopub_msg(timeout=120)
        except queue.Empty:
            raise SystemExit(f"no answer to {code!r}")
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        t = msg["msg_type"]
        if t in ("execute_result", "display_data") and "application/json" in msg["content"]["data"]:
            out = msg["content"]["data"]["application/json"]
        if t == "error":
            err = msg["content"]
        if t == "status" and msg["content"]["execution_state"] == "idle":
            break
    if err:
        raise SystemExit(f"{code!r} failed: {err['evalue']}")
    return out


def cpu(proc):
    """(kernel process CPU s, its children's CPU s)."""
    t = proc.cpu_times()
    kids = 0.0
    for c in proc.children(recursive=True):
        try:
            ct = c.cpu_times()
            kids += ct.user + ct.system
        except psutil.Error:
            pass
    return t.user + t.system, kids


def settle(proc, limit=180):
    """Wait until the kernel is quiet (the engine's background start-up done): two 1 s spans in a
    row under 10 ms of CPU each, at most `limit` seconds."""
    quiet, end = 0, time.monotonic() + limit
    while quiet < 2 and time.monotonic() < end:
        before = sum(cpu(proc))
        time.sleep(1)
        quiet = quiet + 1 if sum(cpu(proc)) - before < 0.01 else 0


def idle(proc, secs):
    time.sleep(3)  # let the state settle (dials, identify) before measuring
    k0, c0 = cpu(proc)
    t0 = time.monotonic()
    time.sleep(secs)
    k1, c1 = cpu(proc)
    return k1 - k0, c1 - c0, time.monotonic() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--secs", type=float, default=30.0, help="idle span measured per state")
    a = ap.parse_args()
    assert (MODULES / "helia").is_dir(), f"Helia is missing at {MODULES}: run ./install/setup"
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        for f in (ROOT / "magics/ipfs/tests/helia").glob("*.mjs"):
            shutil.copy(f, tmp / f.name)
        (tmp / "node_modules").symlink_to(MODULES)
        env = dict(os.environ, SEED="idle", FILE_MB="1", DIR_ENTRIES="0")
        helia = subprocess.Popen(["node", "peer.mjs"], cwd=tmp, env=env, stdout=subprocess.PIPE, text=True)
        km = None
        try:
            peer = json.loads(helia.stdout.readline())
            home = tmp / "home"
            home.mkdir()
            kenv = {k: v for k, v in os.environ.items() if not k.startswith("KELP_IPFS_")}
            kenv["KELP_HOME"] = str(home)
            km, kc = start_new_kernel(kernel_name="kelp", startup_timeout=120, cwd=str(tmp), env=kenv)
            proc = psutil.Process(km.provisioner.process.pid)
            settle(proc)
            rows = []
            shown = cell_json(kc, "%ipfs config network off")
            assert "node" not in shown, shown
            rows.append(("network off", idle(proc, a.secs)))
            shown = cell_json(kc, "%ipfs config network on")
            assert shown["node"]["connected"] == 0, shown
            rows.append(("network on, no peer", idle(proc, a.secs)))
            shown = cell_json(kc, f"%ipfs config peers {peer['addrs'][0]}")
            rows.append(("on, 1 Helia peer connected", idle(proc, a.secs)))
            shown = cell_json(kc, "%ipfs config show")
            assert shown["node"]["connected"] == 1, f"the Helia peer was not connected throughout: {shown}"
            kc.stop_channels()
        finally:
            if km is not None:
                km.shutdown_kernel(now=False)
            helia.kill()
            helia.wait()
    print()
    print(f"{'kelp kernel idle (' + format(a.secs, 'g') + ' s)':32} {'kernel CPU':>11} {'of 1 core':>10} {'children':>9}")
    for name, (k, c, span) in rows:
        print(f"{name:32} {k:10.3f}s {100 * k / span:9.2f}% {c:8.3f}s")


if __name__ == "__main__":
    main()
