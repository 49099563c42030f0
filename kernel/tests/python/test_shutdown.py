"""A shutdown_request over ZeroMQ (the control channel, as Jupyter sends it): the shutdown_reply and
the request's final `status: idle` arrive, the process exits 0 before jupyter_client would kill it,
and the kernel removed its own temporary folders itself — evcxr's under TMPDIR once the engine ran
a cell, and a prelude folder it was still making under KELP_HOME — so nothing waits for a later
kernel's sweep."""

import contextlib
import os
import queue
import signal
import time
import uuid
from pathlib import Path

from conftest import run_cell, start_kernel

# jupyter_client kills a kernel that has not exited this long after its shutdown_request
# (KernelManager.shutdown_wait_time): a clean shutdown must be done by then.
JUPYTER_KILLS_AFTER = 5.0

# Session helpers whose compilation takes rustc several seconds (a constant evaluated at build
# time; `--cap-lints allow` lets it run): the prelude folder stays a temporary while it builds.
SLOW_PRELUDE = (
    "pub const KELP_SHUTDOWN_TEST_{tag}: u64 = {{ let mut i = 0u64; let mut s = 0u64; "
    "while i < 8_000_000 {{ s = s.wrapping_add(i); i += 1; }} s }};"
)


def shut_down(km, kc, restart=False):
    """Send shutdown_request on control; return (reply content, this request's iopub statuses,
    exit code, seconds from the request to the exit)."""
    msg = kc.session.msg("shutdown_request", {"restart": restart})
    msg_id = msg["header"]["msg_id"]
    sent = time.monotonic()
    kc.control_channel.send(msg)
    reply = None
    while reply is None:
        m = kc.control_channel.get_msg(timeout=JUPYTER_KILLS_AFTER)
        if m["parent_header"].get("msg_id") == msg_id:
            assert m["msg_type"] == "shutdown_reply", m
            reply = m["content"]
    process = km.provisioner.process
    code = process.wait(timeout=JUPYTER_KILLS_AFTER)
    took = time.monotonic() - sent
    statuses = []
    while True:
        try:
            m = kc.get_iopub_msg(timeout=1)
        except queue.Empty:
            break
        if m["parent_header"].get("msg_id") == msg_id and m["msg_type"] == "status":
            statuses.append(m["content"]["execution_state"])
    return reply, statuses, code, took


def assert_clean_shutdown(km, kc, tmp):
    """shutdown_request: replied ok, busy then idle, exit 0 before jupyter_client would kill the
    kernel, and nothing left under `tmp` (the kernel's TMPDIR)."""
    reply, statuses, code, took = shut_down(km, kc)
    assert reply == {"status": "ok", "restart": False}
    assert statuses == ["busy", "idle"], statuses
    assert code == 0, f"exit code {code}"
    assert took < JUPYTER_KILLS_AFTER, f"exited {took:.1f} s after the request"
    assert list(tmp.iterdir()) == [], f"left under TMPDIR: {[p.name for p in tmp.iterdir()]}"


def close(km, kc):
    kc.stop_channels()
    km.shutdown_kernel(now=True)


def kill_leftover_rustc(home):
    """rustc processes still building in `home` (the kernel's orphans, if any): killed, named."""
    killed = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if cmd and cmd[0].endswith(b"rustc") and any(str(home).encode() in a for a in cmd):
            os.kill(int(pid), signal.SIGKILL)
            killed.append(int(pid))
    return killed


def test_shutdown_replies_flushes_exits_0_and_removes_the_engines_temporary_folder(tmp_path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    km, kc = start_kernel(tmp_path / "home", cwd=tmp_path, TMPDIR=tmp)
    try:
        ran = run_cell(kc, "1 + 1")
        assert ran.reply["status"] == "ok" and ran.result_text == "2", ran.reply
        engine_dirs = [p.name for p in tmp.iterdir()]
        assert any(n.startswith(".tmp") for n in engine_dirs), f"evcxr made no folder under TMPDIR: {engine_dirs}"
        links = lambda: [p.name for p in (tmp_path / "home" / "std-src").iterdir() if p.name.startswith("kernel-")]  # noqa: E731
        assert len(links()) == 1, links()

        assert_clean_shutdown(km, kc, tmp)
        # and its link for rust-analyzer's std (kernel/src/std_src.rs) is gone
        assert links() == []
    finally:
        close(km, kc)


def test_shutdown_stops_a_running_cell_and_still_cleans_up(tmp_path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    km, kc = start_kernel(tmp_path / "home", cwd=tmp_path, TMPDIR=tmp)
    try:
        assert run_cell(kc, "1 + 1").result_text == "2"
        cell = kc.execute('println!("started"); std::thread::sleep(std::time::Duration::from_secs(600));')
        deadline = time.monotonic() + 120
        while True:
            assert time.monotonic() < deadline, "the long cell never started"
            with contextlib.suppress(queue.Empty):
                m = kc.get_iopub_msg(timeout=1)
                if m["parent_header"].get("msg_id") == cell and m["msg_type"] == "stream":
                    assert "started" in m["content"]["text"]
                    break

        assert_clean_shutdown(km, kc, tmp)
    finally:
        close(km, kc)


def test_shutdown_while_the_prelude_is_made_removes_its_temporary(tmp_path):
    home = tmp_path / "home"
    extra = SLOW_PRELUDE.format(tag=uuid.uuid4().hex)
    km, kc = start_kernel(home, cwd=tmp_path, TMPDIR=tmp_path, KELP_PRELUDE_EXTRA=extra)
    prelude = home / "prelude"
    try:
        deadline = time.monotonic() + 120
        while not (prelude.is_dir() and any(p.name.startswith(".tmp-") for p in prelude.iterdir())):
            assert time.monotonic() < deadline, "the kernel never started making its prelude"
            time.sleep(0.05)

        reply, statuses, code, took = shut_down(km, kc, restart=True)
        assert reply == {"status": "ok", "restart": True}
        assert statuses == ["busy", "idle"], statuses
        assert code == 0, f"exit code {code}"
        assert took < JUPYTER_KILLS_AFTER, f"exited {took:.1f} s after the request"
        left = [p.name for p in prelude.iterdir() if p.name.startswith(".tmp-")]
        assert left == [], f"the kernel left its prelude temporaries: {left}"
    finally:
        close(km, kc)
        kill_leftover_rustc(home)
