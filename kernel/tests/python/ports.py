"""Loopback ports for tests (standard library only, so every test tree can use it: the kernel's
Python tests, kelp-provenance's, and the ocean.py cross-check in its own virtualenv)."""

import socket


def port_open(port, host="127.0.0.1"):
    """Whether something accepts TCP connections on `host:port`."""
    with socket.socket() as s:
        s.settimeout(2)
        return s.connect_ex((host, port)) == 0


def free_port(start=27_519, stop=28_019, step=11):
    """A free loopback port from a range below the ephemeral ports (away from 8545 and from the
    ports the kernel's own sockets get), so a process started later can bind it."""
    for port in range(start, stop, step):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {start}..{stop}")
