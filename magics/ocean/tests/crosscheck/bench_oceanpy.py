"""ocean.py's side of the Ocean publish bench (install/bench.d/40-ocean.sh via examples/ocean_bench.rs).

Publishes, on the devnet kelp's bench is running, the same kind of asset kelp publishes (an `ipfs`
file object with the same CID, free through a dispenser or fixed price in OCEAN) along ocean.py
3.1.2's own create + setMetaData path (`oceanpy_publish.publish`: the steps of
`OceanAssets.create_bundled` through ocean.py's wrappers; see that module for the transport
adaptations the kelp node needs).

Rows: `default` = flags 3 as ocean.py publishes, timed until setMetaData is mined (the kelp node
does not index lzma documents); `indexed` = compress_flag=False (flags 2), timed until ocean.py's
Aquarius client reads the DDO back from the node — the same end point as kelp's figure.
Transactions and gas are counted from the chain: every transaction the publishing account sent
between the first and last block of one publish, with its receipt's gasUsed.

Prints one JSON object on stdout: {"rows": [{label, mode, runs, wall_s: [...], txs, gas, flags}], …}.
Usage: python bench_oceanpy.py --rpc URL --address-file PATH --node URL --cid CID [--runs N]
"""

import argparse
import json
import os
import sys
import time

# anvil's public development key #5 (well known; funded with ETH and OCEAN by `kelp devnet up`).
# Account #0 is kelp's publisher in the same bench; a separate account keeps the nonces apart.
PUBLISHER_KEY = "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rpc", required=True)
    ap.add_argument("--address-file", required=True)
    ap.add_argument("--node", required=True)
    ap.add_argument("--cid", required=True)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()

    os.environ["ADDRESS_FILE"] = a.address_file
    from eth_account import Account
    from ocean_lib.example_config import get_config_dict
    from ocean_lib.models.dispenser import DispenserArguments
    from ocean_lib.models.fixed_rate_exchange import ExchangeArguments
    from ocean_lib.ocean.ocean import Ocean
    from ocean_lib.structures.file_objects import IpfsFile
    from oceanpy_publish import publish as oceanpy_publish
    from oceanpy_publish import use_signed_encrypt
    from web3 import Web3

    config = get_config_dict(a.rpc)
    config["METADATA_CACHE_URI"] = a.node  # Ocean(config) GETs it at construction
    config["PROVIDER_URL"] = a.node
    ocean = Ocean(config)
    w3 = config["web3_instance"]
    wallet = Account.from_key(PUBLISHER_KEY)
    use_signed_encrypt(wallet)

    def publish(name: str, pricing, compress: bool, wait_indexed: bool) -> dict:
        start_block = w3.eth.block_number
        t0 = time.perf_counter()
        _, _, ddo, flags = oceanpy_publish(ocean, wallet, a.node, name, [IpfsFile(a.cid)], pricing, compress)
        if wait_indexed:
            got = ocean.assets._aquarius.wait_for_ddo(ddo.did, timeout=60)
            if got is None or got.did != ddo.did:
                raise RuntimeError(f"the node did not index {ddo.did} within 60 s")
        wall = time.perf_counter() - t0
        txs, gas = 0, 0
        for n in range(start_block + 1, w3.eth.block_number + 1):
            for h in w3.eth.get_block(n)["transactions"]:
                if w3.eth.get_transaction(h)["from"] == wallet.address:
                    txs += 1
                    gas += w3.eth.get_transaction_receipt(h)["gasUsed"]
        return {"wall": wall, "txs": txs, "gas": gas, "flags": flags, "did": ddo.did}

    rows = []
    for label, make in [
        ("free", lambda: DispenserArguments()),
        ("fixed 2 OCEAN", lambda: ExchangeArguments(rate=Web3.to_wei(2, "ether"), base_token_addr=ocean.OCEAN_address, dt_decimals=18)),
    ]:
        for mode, compress, indexed in [("default", True, False), ("indexed", False, True)]:
            walls, last = [], None
            for i in range(a.runs):
                last = publish(f"oceanpy bench {label} {mode} {i}", make(), compress, indexed)
                walls.append(last["wall"])
            rows.append(
                {"label": label, "mode": mode, "runs": a.runs, "wall_s": walls, "txs": last["txs"],
                 "gas": last["gas"], "flags": last["flags"]}
            )
    json.dump({"publisher": wallet.address, "rows": rows}, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
