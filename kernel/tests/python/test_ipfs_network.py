"""The kernel as an IPFS peer (issue #11): a real `kelp` kernel, started here with jupyter_client,
turns its libp2p node on from cells (`%ipfs config listen …`, `%ipfs config network on`), adds a
64 MiB file, and a Helia peer (magics/ipfs/tests/helia/peer.mjs: js-libp2p TCP + Noise + Yamux,
Bitswap) fetches it by CID from the kernel's listen address: same size, same sha256. `%ipfs config
network off` closes the node's port while the kernel lives on; on `shutdown_request` the kernel stops
its node and exits 0 with its port closed.

Needs the Helia npm packages install/setup.d/30-ipfs.sh puts in install/.tools/helia (or
KELP_HELIA_MODULES); missing, the test fails saying so."""

import hashlib
import json
import os
import pathlib
import shutil
import subprocess
import time

import pytest
import conftest
from conftest import port_open, run_cell

ROOT = pathlib.Path(__file__).resolve().parents[3]
HELIA_SCRIPTS = ROOT / "magics/ipfs/tests/helia"
HELIA_MODULES = pathlib.Path(os.environ.get("KELP_HELIA_MODULES") or ROOT / "install/.tools/helia/node_modules")
SIZE = 64 << 20


def seeded(seed, size):
    """sha256(seed:n) blocks, as the Rust Bitswap tests generate them (incompressible, reproducible)."""
    out = bytearray()
    n = 0
    while len(out) < size:
        out += hashlib.sha256(f"{seed}:{n}".encode()).digest()
        n += 1
    return bytes(out[:size])


def start_kernel(tmp_path):
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    km, kc = conftest.start_kernel(
        home,
        cwd=work,
        drop_prefixes=("KELP_IPFS_",),
        KELP_IPFS_GATEWAYS="http://127.0.0.1:9",
        KELP_IPFS_GATEWAY_TIMEOUT="2",
    )
    return km, kc, work


def execute(kc, code, timeout=600):
    """(reply content, application/json of its results/displays, error contents) of one cell."""
    ran = run_cell(kc, code, timeout)
    assert ran.reply["status"] == "ok" and not ran.errors, f"{code!r}: {ran.reply} {ran.errors}"
    return ran.jsons


def helia_fetch(tmp_path, addr, cid):
    """Helia (peer.mjs MODE=fetch) reads `cid` over Bitswap from the peer at `addr`: its JSON line."""
    assert (HELIA_MODULES / "helia").is_dir(), f"Helia is not installed at {HELIA_MODULES}: run ./install/setup --test"
    d = tmp_path / "helia"
    d.mkdir()
    for f in HELIA_SCRIPTS.glob("*.mjs"):
        shutil.copy(f, d / f.name)
    (d / "node_modules").symlink_to(HELIA_MODULES)
    env = dict(os.environ, MODE="fetch", PEER=addr, CID=cid, TIMEOUT_MS="240000")
    out = subprocess.run(["node", "peer.mjs"], cwd=d, env=env, capture_output=True, text=True, timeout=300)
    try:
        return json.loads(out.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        pytest.fail(f"peer.mjs fetch said {out.stdout!r} {out.stderr[-2000:]!r}")


def tcp_listen(node):
    addr = next(a for a in node["listen"] if "/tcp/" in a)
    assert addr.startswith("/ip4/127.0.0.1/tcp/") and addr.endswith("/p2p/" + node["peer_id"]), node
    return addr, int(addr.split("/")[4])


def test_helia_fetches_64_mib_from_the_kernels_node_and_shutdown_stops_it(tmp_path):
    km, kc, work = start_kernel(tmp_path)
    proc = km.provisioner.process
    try:
        data = seeded("kernel-node", SIZE)
        (work / "data.bin").write_bytes(data)
        execute(kc, "%ipfs config listen /ip4/127.0.0.1/tcp/0")
        [shown] = execute(kc, "%ipfs config network on")
        assert shown["network"] is True
        addr, port = tcp_listen(shown["node"])
        [added] = execute(kc, "%ipfs add data.bin --cid-version 1")
        got = helia_fetch(tmp_path, addr, added["cid"])
        assert got.get("size") == SIZE, got
        assert got.get("sha256") == hashlib.sha256(data).hexdigest(), got
        # Helia stayed connected to the kernel's node; a Rust-free cell still runs at once.
        [again] = execute(kc, "%ipfs config show")
        assert again["node"]["peer_id"] == shown["node"]["peer_id"]

        # Off: the port closes, the kernel lives; on again: a new node (new port) serves.
        execute(kc, "%ipfs config network off")
        assert not port_open(port), "network off closed the node's port"
        [shown] = execute(kc, "%ipfs config network on")
        addr, port = tcp_listen(shown["node"])
        assert port_open(port)
    finally:
        kc.stop_channels()
        started = time.monotonic()
        km.shutdown_kernel(now=False)
    # shutdown_request (not a kill): the kernel stopped its node and exited by itself.
    assert proc.wait(timeout=30) == 0, f"the kernel exited with {proc.returncode}"
    assert time.monotonic() - started < 10
    assert not port_open(port), "the node's port is closed after shutdown"
