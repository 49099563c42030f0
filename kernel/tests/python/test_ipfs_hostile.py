"""Hostile IPFS DAGs through the real kernel (security issue #12): a CAR with a 100,000-deep file
DAG is imported with `%ipfs car import`, then `%ipfs cat` and `%ipfs get` give a one-line error
and the kernel still answers `1 + 1`; a directory with a symlink and a file of the same name
writes nothing outside `-o`; and `kelp ipfs cat` of a ~1 MiB CAR whose file claims 4 GiB peaks
under 64 MiB of RSS (its own peak, from getrusage of a small parent).

The CARs are built here, block by block, as an attacker would (CIDv1, sha2-256)."""

import base64
import hashlib
import json
import os
import pathlib
import subprocess
import sys

import pytest
from conftest import kernel as kelp_kernel
from conftest import run_cell

MEASURE = (
    "import resource, subprocess, sys\n"
    "with open(sys.argv[1], 'wb') as f:\n"
    "    rc = subprocess.run(sys.argv[2:], stdout=f).returncode\n"
    "print(rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)
KELP = os.environ.get("KELP_BIN") or str(pathlib.Path.home() / ".cache/kelp/target/debug/kelp")


def varint(n):
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def field_bytes(num, b):
    return varint(num << 3 | 2) + varint(len(b)) + b


def field_varint(num, v):
    return varint(num << 3) + varint(v)


def cid(codec, block):
    return bytes([0x01, codec, 0x12, 0x20]) + hashlib.sha256(block).digest()


def cid_str(c):
    return "b" + base64.b32encode(c).decode().lower().rstrip("=")


def unixfs(kind, data=None, filesize=None, blocksizes=()):
    out = field_varint(1, kind)
    if data is not None:
        out += field_bytes(2, data)
    if filesize is not None:
        out += field_varint(3, filesize)
    for b in blocksizes:
        out += field_varint(4, b)
    return out


def pb_node(links, data):
    """links: [(cid bytes, name, tsize)]; canonical DAG-PB: links first, then data."""
    out = b""
    for c, name, tsize in links:
        out += field_bytes(2, field_bytes(1, c) + field_bytes(2, name.encode()) + field_varint(3, tsize))
    return out + field_bytes(1, data)


def write_car(path, root, blocks):
    header = (
        b"\xa2\x65roots\x81\xd8\x2a\x58" + bytes([len(root) + 1]) + b"\x00" + root + b"\x67version\x01"
    )
    with open(path, "wb") as f:
        f.write(varint(len(header)) + header)
        for c, b in blocks:
            f.write(varint(len(c) + len(b)) + c + b)


def raw(b):
    return cid(0x55, b), b


def dag(node):
    return cid(0x70, node), node


def deep_file_car(path, depth):
    c, b = raw(b"x")
    blocks = [(c, b)]
    for _ in range(depth):
        c, b = dag(pb_node([(c, "", 1)], unixfs(2, filesize=1, blocksizes=[1])))
        blocks.append((c, b))
    blocks.reverse()
    write_car(path, c, blocks)
    return cid_str(c)


def symlink_then_file_car(path, target):
    s = dag(pb_node([], unixfs(4, data=target.encode())))
    f = raw(b"written through the link")
    d = dag(pb_node([(s[0], "x", 10), (f[0], "x", 24)], unixfs(1)))
    write_car(path, d[0], [d, s, f])
    return cid_str(d[0])


def claim_4gib_car(path):
    block = bytes(ord("a") + i % 26 for i in range(1 << 20))
    leaf = raw(block)
    n = 4096
    root = dag(pb_node([(leaf[0], "", len(block))] * n, unixfs(2, filesize=n << 20, blocksizes=[1 << 20] * n)))
    write_car(path, root[0], [root, leaf])
    return cid_str(root[0])


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    home = tmp_path_factory.mktemp("kelp-home")
    work = tmp_path_factory.mktemp("work")
    with kelp_kernel(home, cwd=work) as kc:
        yield kc, work


def execute(kc, code, timeout=600):
    """(reply content, execute_result text/plain values, error messages) of one cell."""
    ran = run_cell(kc, code, timeout)
    return ran.reply, ran.results, ran.errors


def test_deep_car_cat_and_get_fail_in_one_line_and_the_kernel_lives(kernel):
    kc, work = kernel
    car = work / "deep.car"
    root = deep_file_car(car, 100_000)
    reply, _, _ = execute(kc, f"%ipfs car import {car}")
    assert reply["status"] == "ok", reply
    for line in (f"%ipfs cat {root}", f"%ipfs get {root} -o deep.out"):
        reply, _, errors = execute(kc, line)
        assert reply["status"] == "error", (line, reply)
        text = " ".join([reply.get("evalue", "")] + [e["evalue"] for e in errors])
        assert "deeper than 1024 levels" in text, (line, text)
        assert all("\n" not in e["evalue"] for e in errors), errors
    assert not (work / "deep.out").exists()
    reply, results, _ = execute(kc, "1 + 1")
    assert reply["status"] == "ok", reply
    assert results == ["2"]


def test_symlink_then_file_writes_nothing_outside_the_output(kernel, tmp_path):
    kc, work = kernel
    victim = tmp_path / "victim"
    car = work / "dup.car"
    root = symlink_then_file_car(car, str(victim))
    reply, _, _ = execute(kc, f"%ipfs car import {car}")
    assert reply["status"] == "ok", reply
    reply, _, errors = execute(kc, f"%ipfs get {root} -o dup.out")
    assert reply["status"] == "error", reply
    assert any('two entries named "x"' in e["evalue"] for e in errors), errors
    assert not os.path.lexists(victim)
    assert not os.path.lexists(work / "dup.out")
    assert [p.name for p in work.iterdir() if "dup.out" in p.name] == []


def test_cli_cat_of_a_4_gib_claim_peaks_under_64_mib(tmp_path):
    car = tmp_path / "big.car"
    root = claim_4gib_car(car)
    assert car.stat().st_size < 1_300_000
    env = dict(os.environ, KELP_HOME=str(tmp_path / "home"))
    imported = subprocess.run([KELP, "ipfs", "car", "import", str(car), "--json"], env=env, capture_output=True)
    assert imported.returncode == 0, imported.stderr
    out = tmp_path / "cat.json"
    # A fresh small interpreter runs kelp and reports RUSAGE_CHILDREN's peak: Linux keeps the
    # pre-exec peak of a forked child, so measuring straight from this (big) pytest process would
    # charge its memory to kelp. This way the figure is kelp's own peak, or the ~10 MiB
    # interpreter's if that were larger: never less than kelp's.
    measured = subprocess.run(
        [sys.executable, "-c", MEASURE, str(out), KELP, "ipfs", "cat", root, "--json"],
        env=env,
        capture_output=True,
        text=True,
    )
    returncode, peak_kib = map(int, measured.stdout.split())
    assert returncode == 0, measured.stderr
    j = json.loads(out.read_text())
    assert j["length"] == 4 << 30 and j["truncated"] is True
    assert len(j["text"]) == 1 << 20
    assert peak_kib < 64 * 1024, f"peak RSS of kelp ipfs cat: {peak_kib} KiB"
