"""Running the `kelp` binary for the kelp side panel and the file-browser commands.

This module owns how the server extension calls `kelp … --json`: which binary (`$KELP_BIN`, else the
`kelp` kernelspec's argv[0], else `kelp` on PATH), with which arguments (a list, never a shell; every
value a person typed is checked here first and passed as `--flag=value` so it can never be read as
another option), for how long (a bounded timeout, then the process is killed), and what comes back
(the JSON value kelp printed, or a `PanelError` with one line taken from kelp's own error).

It also checks the inputs the panel routes accept (`check_*`): a file in the Lab's root directory,
a DID, a job id, a network name or URL, the publish form's fields and a compute job's inputs.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
from typing import Any

#: Ocean networks kelp knows by name (magics/ocean network.rs), plus the local devnet.
NETWORKS = (
    "devnet",
    "mainnet",
    "sepolia",
    "polygon",
    "optimism",
    "optimism_sepolia",
    "base",
    "oasis_sapphire",
    "oasis_sapphire_testnet",
)
#: Seconds a read (wallet, assets, jobs, pins) may take.
READ_TIMEOUT = 60.0
#: Seconds an action that waits for the person's wallet approvals (publish, compute, get) may take.
ACTION_TIMEOUT = 900.0
#: kelp's stdout beyond this is refused (a listing this large is not for a side panel).
MAX_OUTPUT = 16 << 20

_DID = re.compile(r"did:op:[0-9a-f]{64}")
_JOB = re.compile(r"[A-Za-z0-9_\-]{1,128}")
_URL = re.compile(r"https?://[A-Za-z0-9.\-_~:/?#\[\]@!$&'()*+,;=%]{1,2040}")
_CID = re.compile(r"(Qm[1-9A-HJ-NP-Za-km-z]{44}|b[a-z2-7]{8,200})")
#: A subcommand word (`ipfs`, `c2d`, `ls`); job ids (32 hex), paths, DIDs and flags are not.
_WORD = re.compile(r"[a-z][a-z0-9]{1,7}")
_PRICE = re.compile(r"free|[0-9]{1,30}(\.[0-9]{1,18})?(:(OCEAN|0x[0-9a-fA-F]{40}))?")


class PanelError(Exception):
    """A refusal or a failure, with the HTTP status and the one line the person reads."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def find_kelp() -> str | None:
    """The kelp binary: `$KELP_BIN`, else the `kelp` kernelspec's argv[0], else `kelp` on PATH."""
    env = os.environ.get("KELP_BIN")
    if env and os.access(env, os.X_OK):
        return env
    try:
        from jupyter_client.kernelspec import KernelSpecManager

        argv0 = KernelSpecManager().get_kernel_spec("kelp").argv[0]
        if os.access(argv0, os.X_OK):
            return argv0
    except Exception:  # no such kernelspec, or an unreadable one: try PATH
        pass
    return shutil.which("kelp")


def _what(args: list[str]) -> str:
    """The subcommand of `args` (`kelp ipfs add`, `kelp c2d logs`): its leading words, no paths or values."""
    words = []
    for arg in args[:3]:
        if not _WORD.fullmatch(arg):
            break
        words.append(arg)
    return "kelp " + " ".join(words)


def _error_line(stderr: bytes, args: list[str]) -> str:
    """kelp's own error line (its last non-empty stderr line, without the `kelp: error: ` prefix)."""
    lines = [ln.strip() for ln in stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("kelp: error:")]
    line = (errors or lines or ["exited without saying why"])[-1]
    line = line.removeprefix("kelp: error:").strip()
    return f"{_what(args)} failed: {line[:500]}"


class Kelp:
    """Runs `kelp ARGS --json` in `cwd` with the server's environment (the kernels' own)."""

    def __init__(self, cwd: str, binary: str | None = None):
        self.cwd = cwd
        self._binary = binary

    def binary(self) -> str:
        found = self._binary or find_kelp()
        if not found:
            raise PanelError(503, "the kelp binary was not found: set KELP_BIN or run ./install/build")
        self._binary = found
        return found

    async def json(self, args: list[str], timeout: float = READ_TIMEOUT) -> Any:
        binary = self.binary()
        try:
            proc = await asyncio.create_subprocess_exec(
                binary,
                *args,
                "--json",
                cwd=self.cwd,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=dict(os.environ),
            )
        except OSError as err:
            raise PanelError(503, f"could not run {binary} ({err.strerror}): set KELP_BIN or run ./install/build")
        try:
            out, err = await asyncio.wait_for(proc.communicate(), timeout)
        except asyncio.TimeoutError:
            proc.kill()
            await proc.wait()
            raise PanelError(504, f"{_what(args)} did not finish within {timeout:.0f} s; try again")
        except asyncio.CancelledError:  # the browser went away: do not leave kelp running
            proc.kill()
            await proc.wait()
            raise
        if proc.returncode != 0:
            raise PanelError(502, _error_line(err, args))
        if len(out) > MAX_OUTPUT:
            raise PanelError(502, f"{_what(args)} printed more than {MAX_OUTPUT} bytes")
        value = parse_output(out)
        if value is None:
            raise PanelError(502, f"{_what(args)} did not print JSON (is {binary} a kelp binary?)")
        return value


def parse_output(out: bytes) -> Any:
    """The JSON value kelp printed, or None: with --json, kelp prints its result's JSON and
    nothing else on stdout (progress and notes go to stderr)."""
    try:
        return json.loads(out.decode("utf-8", "replace"))
    except ValueError:
        return None


def _text(body: dict, key: str, limit: int, required: bool = True) -> str | None:
    value = body.get(key)
    if value is None or value == "":
        if required:
            raise PanelError(400, f"{key} is missing; send a non-empty string")
        return None
    if not isinstance(value, str):
        raise PanelError(400, f"{key} must be a string, got {type(value).__name__}")
    if len(value) > limit:
        raise PanelError(400, f"{key} is longer than {limit} characters; shorten it")
    if any(ord(c) < 32 and c not in "\n\t" for c in value):
        raise PanelError(400, f"{key} contains control characters; send plain text")
    return value


def check_body(body: Any, allowed: set[str]) -> dict:
    if not isinstance(body, dict):
        raise PanelError(400, "body must be a JSON object")
    extra = sorted(set(body) - allowed)
    if extra:
        raise PanelError(400, f"unknown field {extra[0]!r}; allowed: {', '.join(sorted(allowed))}")
    return body


def check_path(root: str, body: dict, key: str = "path") -> str:
    """The absolute path of `body[key]`, a Lab contents path that must exist inside `root`."""
    rel = _text(body, key, 4096)
    if "\0" in rel or rel.startswith("/") or "\\" in rel or ".." in rel.split("/"):
        raise PanelError(400, f"{key} must be a path inside the Lab's root directory (no '..', not absolute), got {rel!r}")
    base = os.path.realpath(root)
    full = os.path.realpath(os.path.join(base, rel))
    if full != base and not full.startswith(base + os.sep):
        raise PanelError(400, f"{key} {rel!r} leads outside the Lab's root directory (a symlink?); pick a file inside it")
    if not os.path.exists(full):
        raise PanelError(400, f"{key} {rel!r} does not exist; pick an existing file or folder")
    return full


def check_did(value: Any, key: str = "did") -> str:
    if not isinstance(value, str) or not _DID.fullmatch(value):
        raise PanelError(400, f"{key} must be an Ocean DID (did:op: and 64 lower-case hex digits), got {str(value)[:80]!r}")
    return value


def check_job(value: str) -> str:
    if not _JOB.fullmatch(value):
        raise PanelError(400, "job id must be letters, digits, '-' or '_' (as `kelp c2d list` shows)")
    return value


def check_cid(value: Any) -> str:
    if not isinstance(value, str) or not _CID.fullmatch(value):
        raise PanelError(400, f"not a CID: {str(value)[:80]!r}")
    return value


def check_network(value: Any) -> str:
    """A network name of `NETWORKS` or an http(s) RPC URL (default devnet)."""
    if value is None or value == "":
        return "devnet"
    if isinstance(value, str) and (value in NETWORKS or _URL.fullmatch(value)):
        return value
    raise PanelError(400, f"network must be one of {', '.join(NETWORKS)} or an http(s) RPC URL, got {str(value)[:80]!r}")


def publish_args(root: str, body: Any) -> list[str]:
    """`kelp publish` arguments for the file browser's "Publish to Ocean…" form."""
    fields = {"path", "name", "type", "price", "license", "description", "network"}
    body = check_body(body, fields)
    path = check_path(root, body)
    name = _text(body, "name", 256).strip()
    if not name:
        raise PanelError(400, "name is blank; give the asset a name")
    kind = body.get("type") or "dataset"
    if kind not in ("dataset", "algorithm"):
        raise PanelError(400, f"type must be dataset or algorithm, got {str(kind)[:40]!r}")
    price = _text(body, "price", 80, required=False) or "free"
    if not _PRICE.fullmatch(price.strip()):
        raise PanelError(400, f"price must be 'free', N (OCEAN) or N:TOKEN_ADDRESS, got {price[:80]!r}")
    args = ["publish", path, f"--name={name}", f"--type={kind}", f"--price={price.strip()}"]
    for key, limit in (("license", 256), ("description", 8192)):
        value = _text(body, key, limit, required=False)
        if value:
            args.append(f"--{key}={value}")
    args += [f"--network={check_network(body.get('network'))}", "--signer=browser"]
    return args


def _source(root: str, body: dict, key: str) -> str:
    """A job input: an Ocean DID, or a file/folder in the Lab (absolute path)."""
    value = body.get(key)
    if isinstance(value, str) and value.startswith("did:"):
        return check_did(value, key)
    return check_path(root, body, key)


def compute_args(root: str, body: Any) -> list[str]:
    """`kelp c2d start` arguments for "Compute on…": a dataset and an algorithm, each a DID or a
    file in the Lab (two DIDs run on the asset's Ocean node, two files in the local sandbox)."""
    body = check_body(body, {"dataset", "algorithm", "network"})
    dataset = _source(root, body, "dataset")
    algorithm = _source(root, body, "algorithm")
    if os.path.isdir(algorithm):
        raise PanelError(400, "the algorithm must be a file (a script) or a published algorithm's DID, not a folder")
    network = check_network(body.get("network"))
    return ["c2d", "start", f"--dataset={dataset}", f"--algorithm={algorithm}", f"--network={network}", "--signer=browser"]
