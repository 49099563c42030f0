"""The kernel bounds its queue of execute_requests (security issue #12, item 9), against the real
kelp binary over ZeroMQ with jupyter_client.

A first cell waits in `kelp::input` (no answer is ever sent), so the executor is held and the
number of queued cells is exact, not a matter of timing. Then a flood of trivial magic cells: the
first `max_queued` wait, every one beyond gets an immediate `KernelBusy` error reply (with the
busy/error/idle iopub sequence), other requests are still answered, an interrupt aborts what was
queued, and afterwards `1 + 1` is 2. Timeouts here are hang guards, never assertions on speed."""

import queue
import time
import uuid
from collections import defaultdict

import pytest
from conftest import kernel

HANG = 600  # seconds; the first Rust cell compiles the session's helper crate
FLOOD_CELL = "%env KELP_FLOOD=1"
DEFAULT_MAX_QUEUED = 1000


def busy_message(n):
    return f"kelp is busy: {n} cells are already queued; wait for them or interrupt the kernel"


@pytest.fixture
def small(tmp_path_factory):
    with kernel(tmp_path_factory.mktemp("kelp-home"), KELP_MAX_QUEUED=40) as kc:
        yield Session(kc)


@pytest.fixture
def default(tmp_path_factory):
    with kernel(tmp_path_factory.mktemp("kelp-home"), KELP_MAX_QUEUED=None) as kc:
        yield Session(kc)


class Session:
    """A client that keeps reading shell, iopub, control and stdin while it floods, so neither side
    blocks on full socket buffers, and files every message under its parent's msg_id."""

    def __init__(self, kc):
        self.kc = kc
        self.replies = {}
        self.iopub = defaultdict(list)
        self.control = {}
        self.stdin = []

    def pump(self, timeout=0.0):
        kc = self.kc
        for get, keep in (
            (kc.get_shell_msg, lambda m: self.replies.__setitem__(m["parent_header"]["msg_id"], m)),
            (kc.get_iopub_msg, lambda m: self.iopub[m["parent_header"].get("msg_id")].append(m)),
            (kc.get_control_msg, lambda m: self.control.__setitem__(m["parent_header"]["msg_id"], m)),
            (kc.get_stdin_msg, self.stdin.append),
        ):
            while True:
                try:
                    keep(get(timeout=timeout))
                except queue.Empty:
                    break
                timeout = 0

    def wait(self, done, what):
        deadline = time.monotonic() + HANG
        while not done():
            if time.monotonic() > deadline:
                pytest.fail(f"hang guard: no {what} within {HANG} s")
            self.pump(timeout=0.05)

    def reply(self, msg_id, what):
        self.wait(lambda: msg_id in self.replies, what)
        return self.replies[msg_id]

    def idle(self, msg_id):
        done = lambda: any(  # noqa: E731
            m["msg_type"] == "status" and m["content"]["execution_state"] == "idle" for m in self.iopub[msg_id]
        )
        self.wait(done, f"idle status for {msg_id}")
        return self.iopub[msg_id]

    def send_shell(self, msg_type, content):
        msg = self.kc.session.msg(msg_type, content)
        self.kc.shell_channel.send(msg)
        return msg["header"]["msg_id"]

    def hold_executor(self):
        """Run a cell that waits for an input_reply that never comes: the executor is held."""
        held = self.kc.execute('let _hold = kelp::input("held by the backpressure test");', allow_stdin=True,
                               stop_on_error=False)
        self.wait(lambda: any(m["parent_header"]["msg_id"] == held for m in self.stdin), "input_request")
        return held

    def flood(self, n):
        ids = []
        for i in range(n):
            ids.append(self.kc.execute(FLOOD_CELL))
            if i % 50 == 49:
                self.pump()
        return ids

    def interrupt(self):
        msg = self.kc.session.msg("interrupt_request", {})
        self.kc.control_channel.send(msg)
        self.wait(lambda: msg["header"]["msg_id"] in self.control, "interrupt_reply")
        return self.control[msg["header"]["msg_id"]]

    def one_plus_one(self):
        msg_id = self.kc.execute("1 + 1")
        reply = self.reply(msg_id, "reply to 1 + 1")["content"]
        results = [m["content"]["data"]["text/plain"] for m in self.idle(msg_id) if m["msg_type"] == "execute_result"]
        return reply, results


def check_refused(s, rejected, bound):
    for msg_id in rejected:
        reply = s.replies[msg_id]
        assert reply["msg_type"] == "execute_reply"
        c = reply["content"]
        assert c["status"] == "error", c
        assert (c["ename"], c["evalue"]) == ("KernelBusy", busy_message(bound))
        assert len(c["traceback"]) == 1 and busy_message(bound) in c["traceback"][0]
        assert isinstance(c["execution_count"], int) and c["payload"] == [] and c["user_expressions"] == {}


def test_flood_beyond_a_lowered_bound_is_refused_and_the_kernel_stays_usable(small):
    s, bound, extra = small, 40, 25
    held = s.hold_executor()
    ids = s.flood(bound + extra)
    queued, rejected = ids[:bound], ids[bound:]
    s.wait(lambda: all(i in s.replies for i in rejected), "replies to the refused cells")
    assert not any(i in s.replies for i in queued), "a queued cell was answered while the executor is held"
    check_refused(s, rejected, bound)
    for msg_id in rejected:  # the iopub sequence of a failed cell, so a frontend shows why
        seq = [(m["msg_type"], m["content"].get("execution_state", m["content"].get("ename"))) for m in s.idle(msg_id)]
        assert seq == [("status", "busy"), ("error", "KernelBusy"), ("status", "idle")], seq
        [err] = [m for m in s.iopub[msg_id] if m["msg_type"] == "error"]
        assert err["content"]["evalue"] == busy_message(bound)

    # While the queue is full, everything else is still answered.
    info = s.reply(s.kc.kernel_info(), "kernel_info_reply")
    assert info["content"]["implementation"] == "kelp"
    comp = s.reply(s.kc.complete("%lsm", 4), "complete_reply")["content"]
    assert comp["status"] == "ok" and "%lsmagic" in comp["matches"]
    insp = s.reply(s.kc.inspect("%env", 4), "inspect_reply")["content"]
    assert insp["status"] == "ok" and insp["found"] is True
    assert s.reply(s.kc.is_complete("1 + 1"), "is_complete_reply")["content"]["status"] == "complete"
    comm_id = uuid.uuid4().hex
    s.send_shell("comm_open", {"comm_id": comm_id, "target_name": "kelp.kernel", "data": {}})
    s.send_shell("comm_msg", {"comm_id": comm_id, "data": {"request": "status"}})
    answers = lambda: [  # noqa: E731
        m["content"]["data"] for ms in s.iopub.values() for m in ms
        if m["msg_type"] == "comm_msg" and m["content"]["comm_id"] == comm_id
    ]
    s.wait(lambda: answers(), "the kelp.kernel comm's status answer")
    status = answers()[0]
    assert (status["execution_state"], status["queued"], status["max_queued"]) == ("busy", bound, bound)
    control_info = s.kc.session.msg("kernel_info_request", {})
    s.kc.control_channel.send(control_info)
    s.wait(lambda: control_info["header"]["msg_id"] in s.control, "kernel_info_reply on control")

    # An interrupt stops the held cell and aborts every queued one (the held cell had
    # stop_on_error=False, so the abort comes from the interrupt itself).
    assert s.interrupt()["content"]["status"] == "ok"
    held_reply = s.reply(held, "reply to the held cell")["content"]
    # The interrupt kills the Rust child before releasing its input, so the held cell reports it
    # (not the next cell: see the `1 + 1` below).
    assert (held_reply["status"], held_reply["ename"]) == ("error", "Interrupted"), held_reply
    s.wait(lambda: all(i in s.replies for i in queued), "replies to the queued cells")
    assert {s.replies[i]["content"]["status"] for i in queued} == {"aborted"}

    reply, results = s.one_plus_one()
    assert reply["status"] == "ok", reply
    assert results == ["2"]


def test_the_default_bound_holds_against_a_large_flood(default):
    s, extra = default, 2000
    held = s.hold_executor()
    ids = s.flood(DEFAULT_MAX_QUEUED + extra)
    queued, rejected = ids[:DEFAULT_MAX_QUEUED], ids[DEFAULT_MAX_QUEUED:]
    s.wait(lambda: all(i in s.replies for i in rejected), "replies to the refused cells")
    assert not any(i in s.replies for i in queued)
    check_refused(s, rejected, DEFAULT_MAX_QUEUED)
    assert s.reply(s.kc.kernel_info(), "kernel_info_reply")["content"]["status"] == "ok"

    assert s.interrupt()["content"]["status"] == "ok"
    assert s.reply(held, "reply to the held cell")["content"]["ename"] == "Interrupted"
    s.wait(lambda: all(i in s.replies for i in queued), "replies to the queued cells")
    assert {s.replies[i]["content"]["status"] for i in queued} == {"aborted"}
    reply, results = s.one_plus_one()
    assert reply["status"] == "ok" and results == ["2"], (reply, results)


MAX_ASSISTS = 32


def test_completion_flood_while_a_cell_runs_is_bounded(small):
    """complete/inspect wait for the engine while Rust runs; past 32 waiting, more are refused
    at once instead of piling up. (The 40 requests are sent in milliseconds, far inside the
    30 s after which a waiting completion gives up, so exactly the last 8 are refused.)"""
    s = small
    held = s.hold_executor()
    code = "std::collections::HashM"
    ids = [s.kc.complete(code, len(code)) for _ in range(MAX_ASSISTS + 7)] + [s.kc.inspect("Vec::new", 3)]
    accepted, refused = ids[:MAX_ASSISTS], ids[MAX_ASSISTS:]
    s.wait(lambda: all(i in s.replies for i in refused), "replies to the refused completions")
    for msg_id in refused:
        reply = s.replies[msg_id]
        assert reply["msg_type"] in ("complete_reply", "inspect_reply")
        c = reply["content"]
        assert (c["status"], c["ename"]) == ("error", "KernelBusy"), c
        assert c["evalue"].startswith(f"kelp is busy: {MAX_ASSISTS} completion/inspection requests are already waiting")
    assert s.replies[ids[-1]]["msg_type"] == "inspect_reply"
    assert s.reply(s.kc.kernel_info(), "kernel_info_reply")["content"]["status"] == "ok"

    assert s.interrupt()["content"]["status"] == "ok"
    assert s.reply(held, "reply to the held cell")["content"]["ename"] == "Interrupted"
    s.wait(lambda: all(i in s.replies for i in accepted), "replies to the accepted completions")
    assert {s.replies[i]["content"]["status"] for i in accepted} == {"ok"}
    # The bound frees up as they finish: a completion is answered again.
    comp = s.reply(s.kc.complete("%lsm", 4), "complete_reply")["content"]
    assert comp["status"] == "ok" and "%lsmagic" in comp["matches"]
    reply, results = s.one_plus_one()
    assert reply["status"] == "ok" and results == ["2"], (reply, results)
