"""A devnet and one free publish made by the `kelp` binary, for the ocean.py cross-check.

The `devnet` session fixture starts `kelp devnet up` under a temporary KELP_HOME on an unusual loopback
port, publishes a small CSV with `kelp publish … --json` (free, and again at 3 OCEAN), reads the indexed DDO with
`kelp ocean show --json`, and always ends with `kelp devnet down` (then kills whatever
devnet.json still records, so a failed run leaves no anvil or node behind).

The `ocean` fixture points ocean.py at that devnet the way a user would point it at barge: chain
id 8996 ("development"), ADDRESS_FILE = the address.json `kelp devnet up` wrote, and the kelp
local node as both metadata cache (Aquarius) and provider.

Configuration (environment; defaults suit a clone set up by ./install/setup):
KELP_BIN (the kelp binary; else $CARGO_TARGET_DIR/debug/kelp, else ~/.cache/kelp/target/debug/kelp),
KELP_ANVIL and KELP_OCEAN_ARTIFACTS (else install/.tools/chain/node_modules/…).
Nothing here skips: a missing binary, anvil or a devnet that does not start fails the session.
"""

import dataclasses
import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[4]
CHAIN = ROOT / "install" / ".tools" / "chain" / "node_modules"
sys.path.insert(0, str(ROOT / "kernel" / "tests" / "python"))
from ports import free_port  # noqa: E402 (the tests' one port helper, standard library only)
ASSET_NAME = "Kelp Crosscheck Plankton Counts"
CSV = b"station,depth_m,count\nA1,5,120\nA1,20,87\nB7,5,301\n"


def kelp_bin() -> pathlib.Path:
    if os.environ.get("KELP_BIN"):
        return pathlib.Path(os.environ["KELP_BIN"])
    target = os.environ.get("CARGO_TARGET_DIR") or str(pathlib.Path.home() / ".cache" / "kelp" / "target")
    return pathlib.Path(target) / "debug" / "kelp"


def unusual_port() -> int:
    """A free loopback port below the ephemeral range and away from 8545/8030/5000."""
    return free_port(27_345, 27_845, 7)


@dataclasses.dataclass
class Devnet:
    home: pathlib.Path
    env: dict
    up: dict
    published: dict
    ddo: dict
    priced: dict
    data: bytes

    def kelp(self, *args: str) -> dict:
        return run_kelp(self.env, *args)


def run_kelp(env: dict, *args: str) -> dict:
    p = subprocess.run([str(kelp_bin()), *args, "--json"], env=env, capture_output=True, timeout=300)
    if p.returncode != 0:
        raise AssertionError(f"kelp {' '.join(args)} failed ({p.returncode}): {p.stderr.decode(errors='replace')}")
    return json.loads(p.stdout)


def stop(env: dict, home: pathlib.Path) -> None:
    try:
        subprocess.run([str(kelp_bin()), "devnet", "down"], env=env, capture_output=True, timeout=60)
    finally:
        state = home / "ocean" / "devnet" / "devnet.json"
        if state.exists():  # `down` failed or was never reached: kill what it records
            s = json.loads(state.read_text())
            for pid in (s.get("anvil_pid"), s.get("node_pid")):
                if pid:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass


@pytest.fixture(scope="session")
def devnet(tmp_path_factory) -> Devnet:
    exe = kelp_bin()
    if not exe.is_file():
        pytest.fail(f"kelp binary not found at {exe}: run ./install/build or set KELP_BIN", pytrace=False)
    home = tmp_path_factory.mktemp("kelp-home")
    env = dict(os.environ)
    env["KELP_HOME"] = str(home)
    env.setdefault("KELP_ANVIL", str(CHAIN / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"))
    env.setdefault("KELP_OCEAN_ARTIFACTS", str(CHAIN / "@oceanprotocol" / "contracts"))
    for var in ("KELP_PRIVATE_KEY", "KELP_NETWORK", "KELP_KEYSTORE", "KELP_RPC_URL"):
        env.pop(var, None)  # the devnet's account #0, nothing from the caller's session
    env["KELP_DEVNET_PORT"] = str(unusual_port())
    try:
        up = run_kelp(env, "devnet", "up")
        data_dir = home / "data"
        data_dir.mkdir()
        (data_dir / "plankton.csv").write_bytes(CSV)
        published = run_kelp(
            env, "publish", str(data_dir / "plankton.csv"), "--name", ASSET_NAME, "--price", "free"
        )
        ddo = run_kelp(env, "ocean", "show", published["did"])
        priced = run_kelp(
            env, "publish", str(data_dir / "plankton.csv"), "--name", f"{ASSET_NAME} (priced)", "--price", "3"
        )
        yield Devnet(home=home, env=env, up=up, published=published, ddo=ddo, priced=priced, data=CSV)
    finally:
        stop(env, home)
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def ocean(devnet):
    from ocean_lib.example_config import get_config_dict
    from ocean_lib.ocean.ocean import Ocean

    os.environ["ADDRESS_FILE"] = devnet.up["address_file"]
    config = get_config_dict(devnet.up["rpc_url"])
    # Ocean(config) GETs the metadata cache URL at construction: the kelp node answers it.
    config["METADATA_CACHE_URI"] = devnet.up["node_url"]
    config["PROVIDER_URL"] = devnet.up["node_url"]
    return Ocean(config)
