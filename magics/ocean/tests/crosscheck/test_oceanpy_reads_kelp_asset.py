"""An asset published by kelp is readable by ocean.py (PyPI ocean-lib 3.1.2) on the same chain.

ocean.py is pointed at kelp's devnet the way a user would point it at barge (the `ocean` fixture
in conftest.py). Every expectation is read through ocean.py's own
contract wrappers and ABIs and compared with what `kelp … --json` printed.
"""

import hashlib
import json

import requests
from ocean_lib.models.datatoken1 import Datatoken1
from ocean_lib.ocean.util import create_checksum
from web3 import Web3

from conftest import ASSET_NAME

checksum = Web3.to_checksum_address


def tx_of(devnet, label: str):
    hashes = [t["hash"] for t in devnet.published["txs"] if t["label"] == label]
    assert len(hashes) == 1, f"kelp printed {devnet.published['txs']}"
    return hashes[0]


def published_ddo(devnet) -> dict:
    """The DDO as kelp set it: the indexed one without the node's own `indexedMetadata` and
    `datatokens` fields, and with `nftAddress` in the lowercase kelp publishes (the node, like
    Ocean Node, serves it checksummed)."""
    ddo = dict(devnet.ddo)
    assert {"indexedMetadata", "datatokens"} <= ddo.keys()
    del ddo["indexedMetadata"], ddo["datatokens"]
    ddo["nftAddress"] = ddo["nftAddress"].lower()
    return ddo


def test_ocean_py_loads_kelps_address_file(devnet, ocean):
    a = devnet.up["addresses"]
    assert ocean.config["CHAIN_ID"] == devnet.up["chain_id"] == 8996
    assert ocean.config["NETWORK_NAME"] == "development"
    assert ocean.config["web3_instance"].provider.endpoint_uri.endswith(f":{devnet.env['KELP_DEVNET_PORT']}")
    assert ocean.data_nft_factory.address == checksum(a["ERC721Factory"])
    assert ocean.OCEAN_address == checksum(a["Ocean"])
    assert ocean.dispenser.address == checksum(a["Dispenser"])
    assert ocean.fixed_rate_exchange.address == checksum(a["FixedPrice"])
    # the contracts at those addresses answer ocean.py's ABIs
    assert ocean.OCEAN_token.decimals() == 18
    assert ocean.OCEAN_token.balanceOf(ocean.data_nft_factory.address) == 0
    assert ocean.OCEAN_token.totalSupply() > 0
    assert ocean.data_nft_factory.getCurrentNFTCount() >= 1


def test_names_and_symbols_match(devnet, ocean):
    nft = ocean.get_nft_token(checksum(devnet.published["nft"]))
    dt = ocean.get_datatoken(checksum(devnet.published["datatoken"]))
    assert isinstance(dt, Datatoken1)
    assert nft.name() == ASSET_NAME == devnet.published["name"] == devnet.ddo["metadata"]["name"]
    assert dt.name() == f"{ASSET_NAME} Datatoken"
    # kelp's factory transaction, decoded with ocean.py's ERC721Factory ABI, asked for exactly
    # the names and symbols the tokens now report
    w3 = ocean.config["web3_instance"]
    create = w3.eth.get_transaction(tx_of(devnet, "create NFT + datatoken + pricing"))
    assert create["to"] == ocean.data_nft_factory.address
    fn, args = ocean.data_nft_factory.contract.decode_function_input(create["input"])
    assert fn.fn_name == "createNftWithErc20WithDispenser"
    assert args["_NftCreateData"]["name"] == nft.name()
    assert args["_NftCreateData"]["symbol"] == nft.symbol()
    assert args["_ErcCreateData"]["strings"] == [dt.name(), dt.symbol()]
    assert nft.symbol() != dt.symbol()
    # the tokens are linked both ways
    assert dt.getERC721Address() == nft.address
    assert nft.getTokensList() == [dt.address]


def test_owner_matches(devnet, ocean):
    nft = ocean.get_nft_token(checksum(devnet.published["nft"]))
    dt = ocean.get_datatoken(checksum(devnet.published["datatoken"]))
    w3 = ocean.config["web3_instance"]
    publisher = w3.eth.get_transaction(tx_of(devnet, "create NFT + datatoken + pricing"))["from"]
    assert nft.ownerOf(1) == publisher == checksum(devnet.ddo["indexedMetadata"]["nft"]["owner"])
    assert devnet.ddo["metadata"]["author"] == publisher
    assert nft.balanceOf(publisher) == 1
    assert dt.getPaymentCollector() == publisher
    # --price free: a dispenser that may mint, as ocean.py's Dispenser wrapper reads it
    status = ocean.dispenser.status(dt.address)
    active, is_minter = status[0], status[2]
    assert active and is_minter


def test_on_chain_metadata_matches(devnet, ocean):
    nft = ocean.get_nft_token(checksum(devnet.published["nft"]))
    node = devnet.up["node_url"]
    provider_address = requests.get(node, timeout=10).json()["providerAddress"]
    decryptor_url, decryptor_address, state, has_metadata = nft.getMetaData()
    assert decryptor_url == node == devnet.ddo["services"][0]["serviceEndpoint"]
    assert decryptor_address == checksum(provider_address)
    assert state == 0 == devnet.ddo["indexedMetadata"]["nft"]["state"]
    assert has_metadata is True


def test_metadata_hash_matches(devnet, ocean):
    nft = ocean.get_nft_token(checksum(devnet.published["nft"]))
    w3 = ocean.config["web3_instance"]
    tx_hash = tx_of(devnet, "setMetaData")
    assert devnet.ddo["indexedMetadata"]["event"]["txid"] == tx_hash
    # kelp hashes the DDO's compact JSON (serde_json; key order as kelp prints it)
    plain = json.dumps(published_ddo(devnet), separators=(",", ":"), ensure_ascii=False).encode()
    expected = hashlib.sha256(plain).digest()
    events = nft.contract.events.MetadataCreated().process_receipt(w3.eth.get_transaction_receipt(tx_hash))
    assert len(events) == 1
    ev = events[0]["args"]
    assert ev["metaDataHash"] == expected
    assert ev["createdBy"] == nft.ownerOf(1)
    assert ev["decryptorUrl"] == devnet.up["node_url"]
    assert ev["flags"] == b"\x02"  # encrypted by the node
    assert ev["data"] and json.dumps(published_ddo(devnet)).encode() not in ev["data"]
    fn, args = nft.contract.decode_function_input(w3.eth.get_transaction(tx_hash)["input"])
    assert fn.fn_name == "setMetaData"
    assert args["_metaDataHash"] == expected
    # ocean.py's Aquarius client reads the same DDO back from the kelp node
    resolved = ocean.assets.resolve(devnet.published["did"])
    assert resolved is not None
    assert resolved.did == devnet.published["did"]
    assert resolved.nft_address.lower() == devnet.published["nft"]
    assert resolved.metadata["name"] == ASSET_NAME
    assert resolved.services[0].datatoken.lower() == devnet.published["datatoken"]


def test_did_is_sha256_of_checksum_address_and_chain_id(devnet, ocean):
    nft_address = checksum(devnet.published["nft"])
    chain_id = devnet.up["chain_id"]
    expected = "did:op:" + hashlib.sha256(f"{nft_address}{chain_id}".encode()).hexdigest()
    assert devnet.published["did"] == expected
    assert devnet.ddo["id"] == expected
    assert ocean.get_nft_token(nft_address).calculate_did() == expected
    assert expected == "did:op:" + create_checksum(nft_address + str(chain_id))
    # lower-case hex would give a different DID: the checksum form matters
    assert expected != "did:op:" + hashlib.sha256(f"{nft_address.lower()}{chain_id}".encode()).hexdigest()


# anvil's public development key #3 (well known, funded with OCEAN by `kelp devnet up`)
BUYER_KEY = "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6"


def test_fixed_price_exchange_is_read_and_used_by_ocean_py(devnet, ocean):
    from eth_account import Account

    priced = devnet.priced
    assert priced["already_published"] is False
    price = int(priced["price"]["Fixed"]["amount"], 16)
    assert price == 3 * 10**18
    dt = ocean.get_datatoken(checksum(priced["datatoken"]))
    exchanges = dt.get_exchanges()
    assert len(exchanges) == 1
    ex = exchanges[0]
    assert "0x" + bytes(ex.exchange_id).hex() == priced["exchange_id"]
    assert ex.FRE.address == checksum(devnet.up["addresses"]["FixedPrice"])
    d = ex.details
    publisher = ocean.get_nft_token(checksum(priced["nft"])).ownerOf(1)
    assert d.owner == publisher
    assert d.datatoken == dt.address
    assert d.base_token == ocean.OCEAN_address
    assert d.fixed_rate == price
    assert d.active and d.with_mint

    # a buyer pays through ocean.py's own exchange wrapper …
    buyer = Account.from_key(BUYER_KEY)
    OCEAN = ocean.OCEAN_token
    needed = ex.BT_needed(10**18, 0)
    assert needed >= price
    buyer_before, held_before = OCEAN.balanceOf(buyer.address), ex.details.bt_balance
    OCEAN.approve(ex.FRE.address, needed, {"from": buyer})
    ex.buy_DT(10**18, {"from": buyer})
    assert dt.balanceOf(buyer.address) == 10**18
    assert OCEAN.balanceOf(buyer.address) == buyer_before - needed
    assert ex.details.bt_balance == held_before + price

    # … and `kelp ocean collect` moves that OCEAN to the publisher
    publisher_before = OCEAN.balanceOf(publisher)
    collected = devnet.kelp("ocean", "collect", priced["did"])
    assert collected["amount"] == str(price)
    assert checksum(collected["to"]) == publisher
    assert OCEAN.balanceOf(publisher) == publisher_before + price
    assert ex.details.bt_balance == 0
