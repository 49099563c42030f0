"""Warm engines over ZeroMQ (KELP_WARM_ENGINE=1): a second kernel takes the spare the first one
started (a fresh session, without the first kernel's relay secret), the spare's socket is private,
and a restart still runs Rust when the spare it would take was killed."""

import json
import os
import pathlib
import queue
import shutil
import signal
import stat
import tempfile
import time

import pytest
from jupyter_client.manager import start_new_kernel


def run(kc, code, timeout=600):
    """Execute `code`; returns (reply content, text/plain of its execute_result)."""
    msg_id = kc.execute(code)
    reply = kc.get_shell_msg(timeout=timeout)
    while reply["parent_header"].get("msg_id") != msg_id:
        reply = kc.get_shell_msg(timeout=timeout)
    text = ""
    while True:
        try:
            msg = kc.get_iopub_msg(timeout=10)
        except queue.Empty:
            break
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "execute_result":
            text += msg["content"]["data"].get("text/plain", "")
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
    return reply["content"], text


def wait_for(path_glob, home, timeout=300):
    end = time.time() + timeout
    while time.time() < end:
        found = list((home / "engines").glob(path_glob))
        if found:
            return found[0]
        time.sleep(0.1)
    pytest.fail(f"no {path_glob} under {home}/engines after {timeout} s")


def spare_pids(home):
    pids = []
    for lock in (home / "engines").glob("*.lock"):
        text = lock.read_text().strip()
        if text.isdigit() and pathlib.Path("/proc", text).exists():
            pids.append(int(text))
    return pids


@pytest.fixture
def home():
    # A short path: the socket's path must fit a sockaddr_un.
    d = pathlib.Path(tempfile.mkdtemp(prefix="kw", dir="/tmp"))
    yield d
    for pid in spare_pids(d):
        os.kill(pid, signal.SIGKILL)
    shutil.rmtree(d, ignore_errors=True)


def start(home, log, **env):
    env = dict(os.environ, KELP_HOME=str(home), KELP_WARM_ENGINE="1", KELP_WARM_IDLE_SECS="300",
               KELP_STARTUP_LOG=str(log), **env)
    return start_new_kernel(kernel_name="kelp", startup_timeout=120, env=env, cwd=str(home))


def startup(log, key, timeout=300):
    end = time.time() + timeout
    while time.time() < end:
        if log.exists():
            figures = json.loads(log.read_text() or "{}")
            if key in figures:
                return figures
        time.sleep(0.1)
    pytest.fail(f"{log} never had {key}")


def test_a_second_kernel_takes_the_spare_and_a_restart_works_when_the_spare_died(home):
    km1, kc1 = start(home, home / "k1.json", KELP_RELAY_SECRET="s3cret-of-kernel-one")
    km2 = kc2 = None
    try:
        reply, text = run(kc1, "let a = 40;\na + 2")
        assert reply["status"] == "ok" and text == "42", reply
        assert "warm_engine" not in startup(home / "k1.json", "engine_ready"), "the first kernel had no spare to take"
        sock = wait_for("*.sock", home)
        assert stat.S_IMODE(sock.stat().st_mode) == 0o600
        assert stat.S_IMODE((home / "engines").stat().st_mode) == 0o700

        km2, kc2 = start(home, home / "k2.json")
        figures = startup(home / "k2.json", "engine_ready")
        assert figures.get("warm_engine") is True, figures
        reply, text = run(kc2, "1 + 1")
        assert reply["status"] == "ok" and text == "2", reply
        # A fresh session: not the first kernel's variables, not its relay secret.
        reply, _ = run(kc2, "a + 1")
        assert reply["status"] == "error", reply
        reply, text = run(kc2, 'std::env::var("KELP_RELAY_SECRET").is_err()')
        assert reply["status"] == "ok" and text == "true", (reply, text)
        reply, text = run(kc2, "let s = String::from(\"warm\");\ns.len() + 1")
        assert reply["status"] == "ok" and text == "5", reply

        # The second kernel started the next spare; kill it, then restart: the restarted kernel
        # finds a socket nobody answers and starts its own engine.
        wait_for("*.sock", home)
        pids = spare_pids(home)
        assert pids, "a spare's lock names a live process"
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        (home / "k2.json").unlink()
        km2.restart_kernel(now=True)
        kc2.wait_for_ready(timeout=120)
        reply, text = run(kc2, "1 + 1")
        assert reply["status"] == "ok" and text == "2", reply
        figures = startup(home / "k2.json", "engine_ready")
        assert "warm_engine" not in figures, figures
    finally:
        for km, kc in ((km1, kc1), (km2, kc2)):
            if km:
                kc.stop_channels()
                km.shutdown_kernel(now=True)


def test_a_kernel_with_another_environment_does_not_take_the_spare(home):
    km1, kc1 = start(home, home / "k1.json")
    km2 = kc2 = None
    try:
        reply, text = run(kc1, "1 + 1")
        assert reply["status"] == "ok" and text == "2", reply
        wait_for("*.sock", home)
        km2, kc2 = start(home, home / "k2.json", KELP_PRELUDE_EXTRA="pub const MARK: u32 = 6;")
        reply, text = run(kc2, "kelp::MARK + 1")
        assert reply["status"] == "ok" and text == "7", reply
        assert "warm_engine" not in startup(home / "k2.json", "engine_ready")
    finally:
        for km, kc in ((km1, kc1), (km2, kc2)):
            if km:
                kc.stop_channels()
                km.shutdown_kernel(now=True)
