"""Publishing with ocean.py (ocean-lib 3.1.2) against the kelp node, shared by the cross-check
tests and bench_oceanpy.py.

`publish` runs the steps of ocean.py's `OceanAssets.create_bundled`, each through ocean.py's
own wrappers: the factory call (`create_with_erc20_and_dispenser` / `…_and_fixed_rate`, one
transaction), `DDO` + `build_access_service` + `add_service` (the files object encrypted by the
node), `OceanAssets._encrypt_ddo` (flags 3 = lzma + encrypted by default, 2 without compression)
and `DataNFT.setMetaData` (one transaction).

Where the kelp node differs from the barge Provider/Aquarius ocean.py was written for, only the
transport is adapted, nothing on chain: the node's `encrypt` wants an Ocean Node request
signature, which ocean.py does not send, so `use_signed_encrypt` replaces `DataEncryptor.encrypt`
with a signed call; the node has no Aquarius `ddo/validate`, so no validator proof is attached
(kelp attaches none either); ocean.py's "already registered" lookup is skipped (it looks for an
Aquarius error text the node does not send).
"""

import json

import requests
from eth_account.messages import encode_defunct
from ocean_lib.assets.ddo import DDO
from ocean_lib.data_provider.data_encryptor import DataEncryptor
from ocean_lib.models.data_nft import DataNFTArguments
from ocean_lib.models.datatoken_base import DatatokenArguments
from ocean_lib.models.dispenser import DispenserArguments
from ocean_lib.ocean.ocean_assets import OceanAssets
from web3 import Web3


def use_signed_encrypt(wallet) -> None:
    """Make ocean.py's `DataEncryptor.encrypt` sign its request the Ocean Node way:
    personal_sign(keccak256(address + nonce + "encrypt")) with nonce = the node's last + 1."""

    def signed_encrypt(objects_to_encrypt, provider_uri, chain_id):
        if isinstance(objects_to_encrypt, dict):
            payload = json.dumps(objects_to_encrypt, separators=(",", ":")).encode()
        elif isinstance(objects_to_encrypt, str):
            payload = objects_to_encrypt.encode()
        else:
            payload = objects_to_encrypt
        base = provider_uri.rstrip("/")
        last = requests.get(f"{base}/api/services/nonce", params={"userAddress": wallet.address}, timeout=30)
        nonce = int(last.json()["nonce"]) + 1
        digest = Web3.keccak(text=f"{wallet.address}{nonce}encrypt")
        sig = wallet.sign_message(encode_defunct(primitive=digest)).signature.hex()
        sig = sig if sig.startswith("0x") else "0x" + sig
        r = requests.post(
            f"{base}/api/services/encrypt",
            params={"chainId": chain_id, "nonce": nonce, "consumerAddress": wallet.address, "signature": sig},
            data=payload,
            headers={"Content-type": "application/octet-stream"},
            timeout=30,
        )
        if r.status_code != 200:  # Ocean Node v3 answers 200 (octet-stream)
            raise RuntimeError(f"encrypt: HTTP {r.status_code} {r.text[:200]}")
        return r

    DataEncryptor.encrypt = staticmethod(signed_encrypt)


def publish(ocean, wallet, node_url: str, name: str, files: list, pricing, compress: bool = True):
    """Publish like `create_bundled`; returns (data_nft, datatoken, ddo, flags)."""
    tx = {"from": wallet}
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
    ddo.add_service(dt.build_access_service(service_id="0", service_endpoint=node_url, files=files))
    document, flags, ddo_hash = OceanAssets._encrypt_ddo(ddo, node_url, True, compress)
    nft.setMetaData(0, node_url, wallet.address.encode("utf-8"), flags, document, ddo_hash, [], tx)
    return nft, dt, ddo, flags[0]
