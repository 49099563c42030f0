"""ocean.py's side of the Ocean publish bench (install/bench.d/40-ocean.sh via examples/ocean_bench.rs).

Publishes, on the devnet kelp's bench is running, the same kind of asset kelp publishes (an `ipfs`
file object with the same CID, free through a dispenser or fixed price in OCEAN) along ocean.py
3.1.2's own path — the steps of `OceanAssets.create_bundled`, each through ocean.py's wrappers:

1. `DataNFTFactoryContract.create_with_erc20_and_dispenser` / `…_and_fixed_rate` (one factory tx);
2. `DDO` + `Datatoken.build_access_service` + `DDO.add_service` (files encrypted by the node);
3. `OceanAssets._encrypt_ddo` (ocean.py's default: lzma-compressed, then node-encrypted, flags 3);
4. `DataNFT.setMetaData` (one tx).

Where the kelp node differs from the barge Provider/Aquarius ocean.py was written for, the script
adapts the transport only (nothing on chain): the node's `encrypt` wants an Ocean Node request
signature (ocean.py sends none), so `DataEncryptor.encrypt` is replaced by a signed call; the node
has no Aquarius `ddo/validate`, so no validator proof is attached (kelp attaches none either); the
"already registered" lookup is skipped (its Aquarius message check does not fit the node's 404).

Rows: `default` = flags 3 as ocean.py publishes, timed until setMetaData is mined (the kelp node
does not index lzma documents); `indexed` = compress_flag=False (flags 2), timed until ocean.py's
Aquarius client reads the DDO back from the node — the same end point as kelp's figure.
Transactions and gas are counted from the chain: every transaction the publishing account sent
between the first and last block of one publish, with its receipt's gasUsed.

Prints one JSON object on stdout: {"rows": [{label, runs, wall_s: [...], txs, gas, flags}], …}.
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
    import requests
    from eth_account import Account
    from eth_account.messages import encode_defunct
    from ocean_lib.assets.ddo import DDO
    from ocean_lib.data_provider.data_encryptor import DataEncryptor
    from ocean_lib.example_config import get_config_dict
    from ocean_lib.models.data_nft import DataNFTArguments
    from ocean_lib.models.datatoken_base import DatatokenArguments
    from ocean_lib.models.dispenser import DispenserArguments
    from ocean_lib.models.fixed_rate_exchange import ExchangeArguments
    from ocean_lib.ocean.ocean import Ocean
    from ocean_lib.ocean.ocean_assets import OceanAssets
    from ocean_lib.structures.file_objects import IpfsFile
    from web3 import Web3

    config = get_config_dict(a.rpc)
    config["METADATA_CACHE_URI"] = a.node  # Ocean(config) GETs it at construction
    config["PROVIDER_URL"] = a.node
    ocean = Ocean(config)
    w3 = config["web3_instance"]
    wallet = Account.from_key(PUBLISHER_KEY)
    tx = {"from": wallet}

    def signed_encrypt(objects_to_encrypt, provider_uri, chain_id):
        """ocean.py's DataEncryptor.encrypt with an Ocean Node request signature added:
        personal_sign(keccak256(address + nonce + "encrypt")), nonce = the node's + 1."""
        if isinstance(objects_to_encrypt, dict):
            payload = json.dumps(objects_to_encrypt, separators=(",", ":")).encode()
        elif isinstance(objects_to_encrypt, str):
            payload = objects_to_encrypt.encode()
        else:
            payload = objects_to_encrypt
        base = provider_uri.rstrip("/")
        nonce = requests.get(f"{base}/api/services/nonce", params={"userAddress": wallet.address}, timeout=30)
        nonce = int(nonce.json()["nonce"]) + 1
        digest = Web3.keccak(text=f"{wallet.address}{nonce}encrypt")
        sig = wallet.sign_message(encode_defunct(primitive=digest)).signature.hex()
        if not sig.startswith("0x"):
            sig = "0x" + sig
        r = requests.post(
            f"{base}/api/services/encrypt",
            params={"chainId": chain_id, "nonce": nonce, "consumerAddress": wallet.address, "signature": sig},
            data=payload,
            headers={"Content-type": "application/octet-stream"},
            timeout=30,
        )
        if r.status_code != 201:
            raise RuntimeError(f"encrypt: HTTP {r.status_code} {r.text[:200]}")
        return r

    DataEncryptor.encrypt = staticmethod(signed_encrypt)

    def publish(name: str, pricing, compress: bool, wait_indexed: bool) -> dict:
        files = [IpfsFile(a.cid)]
        start_block = w3.eth.block_number
        t0 = time.perf_counter()
        nft_args = DataNFTArguments(name, name)
        dt_args = DatatokenArguments(f"{name}: DT1", files=files)
        if isinstance(pricing, DispenserArguments):
            nft, dt = ocean.data_nft_factory.create_with_erc20_and_dispenser(nft_args, dt_args, pricing, tx)
        else:
            nft, dt, _ = ocean.data_nft_factory.create_with_erc20_and_fixed_rate(nft_args, dt_args, pricing, tx)
        ddo = DDO()
        ddo.did = nft.calculate_did()
        ddo.chain_id = ocean.config["CHAIN_ID"]
        ddo.metadata = OceanAssets.default_metadata(name, tx)
        ddo.nft_address = nft.address
        ddo.add_service(dt.build_access_service(service_id="0", service_endpoint=a.node, files=files))
        document, flags, ddo_hash = OceanAssets._encrypt_ddo(ddo, a.node, True, compress)
        nft.setMetaData(0, a.node, wallet.address.encode("utf-8"), flags, document, ddo_hash, [], tx)
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
        return {"wall": wall, "txs": txs, "gas": gas, "flags": flags[0], "did": ddo.did}

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
