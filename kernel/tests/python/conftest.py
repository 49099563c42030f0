"""Helpers shared by the kernel's Python tests (one copy, used by every test file here).

- `start_kernel` / `stop_kernel` / `kernel`: a real kelp kernel through jupyter_client, with its own
  KELP_HOME (and working directory when asked);
- `run_cell`: execute one cell, answer its input requests, and collect this cell's iopub messages
  until it goes idle; the returned `Ran` reads them as results, displays, JSON, stdout and errors;
- `free_port` / `port_open`: loopback ports.
"""

import contextlib
import os
import queue
import time

from jupyter_client.manager import start_new_kernel
from ports import free_port, port_open  # noqa: F401 (re-exported to the tests)

STARTUP_TIMEOUT = 120
SHOWN = {"stream", "display_data", "execute_result", "error"}


def kernel_env(home, base=None, drop_prefixes=(), **env):
    """The environment of a test kernel: `base` (default os.environ) without the variables named by
    `drop_prefixes`, with KELP_HOME=home and `env` (a value of None removes the variable)."""
    out = {k: v for k, v in (os.environ if base is None else base).items() if not k.startswith(tuple(drop_prefixes))}
    out["KELP_HOME"] = str(home)
    for k, v in env.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = str(v)
    return out


def start_kernel(home, cwd=None, drop_prefixes=(), **env):
    """(manager, client) of a started kelp kernel; see `kernel_env` for the environment."""
    kw = {"cwd": str(cwd)} if cwd is not None else {}
    return start_new_kernel(
        kernel_name="kelp",
        startup_timeout=STARTUP_TIMEOUT,
        env=kernel_env(home, drop_prefixes=drop_prefixes, **env),
        **kw,
    )


def stop_kernel(km, kc):
    kc.stop_channels()
    km.shutdown_kernel(now=True)


@contextlib.contextmanager
def kernel(home, cwd=None, **env):
    """A started kernel's client for the `with` block; the kernel is shut down after it."""
    km, kc = start_kernel(home, cwd=cwd, **env)
    try:
        yield kc
    finally:
        stop_kernel(km, kc)


class Ran:
    """One executed cell: its execute_reply content, its iopub messages, the input requests seen."""

    def __init__(self, reply, messages, asked):
        self.reply, self.messages, self.asked = reply, messages, asked

    def of(self, *types):
        return [m for m in self.messages if m["msg_type"] in types]

    @property
    def shown(self):
        """What a notebook shows: streams, displays, results and errors, in order."""
        return [m for m in self.messages if m["msg_type"] in SHOWN]

    @property
    def results(self):
        """text/plain of each execute_result."""
        return [m["content"]["data"].get("text/plain") for m in self.of("execute_result")]

    @property
    def result(self):
        """text/plain of the last execute_result, or None."""
        return self.results[-1] if self.results else None

    @property
    def result_text(self):
        return "".join(r or "" for r in self.results)

    @property
    def displays(self):
        return [m["content"]["data"] for m in self.of("display_data")]

    @property
    def jsons(self):
        """application/json of each result and display that has one."""
        return [
            m["content"]["data"]["application/json"]
            for m in self.of("execute_result", "display_data")
            if "application/json" in m["content"]["data"]
        ]

    @property
    def errors(self):
        return [m["content"] for m in self.of("error")]

    def stream(self, name=None):
        """Text of the cell's streams (`name`: only stdout or stderr)."""
        return "".join(
            m["content"]["text"] for m in self.of("stream") if name is None or m["content"]["name"] == name
        )

    @property
    def stdout(self):
        return self.stream("stdout")


def run_cell(kc, code, timeout=600, idle_timeout=60, answers=None, allow_stdin=False):
    """Execute `code` on `kc`; answer each input_request from `answers` (consumed in order).
    Waits up to `timeout` s for the reply, then up to `idle_timeout` s for the cell's idle status."""
    allow_stdin = allow_stdin or answers is not None
    msg_id = kc.execute(code, allow_stdin=allow_stdin)
    answers, asked, reply = list(answers or []), [], None
    deadline = time.monotonic() + timeout
    while reply is None:
        if time.monotonic() > deadline:
            raise TimeoutError(f"no execute_reply within {timeout} s for {code[:80]!r}")
        if allow_stdin:
            with contextlib.suppress(queue.Empty):
                req = kc.get_stdin_msg(timeout=0.05)
                if req["parent_header"].get("msg_id") == msg_id and req["msg_type"] == "input_request":
                    asked.append(req["content"])
                    kc.input(answers.pop(0))
        with contextlib.suppress(queue.Empty):
            msg = kc.get_shell_msg(timeout=0.05 if allow_stdin else 1)
            if msg["parent_header"].get("msg_id") == msg_id:
                reply = msg["content"]
    messages = []
    deadline = time.monotonic() + idle_timeout
    while time.monotonic() < deadline:
        try:
            msg = kc.get_iopub_msg(timeout=1)
        except queue.Empty:
            continue
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        messages.append(msg)
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
    return Ran(reply, messages, asked)
