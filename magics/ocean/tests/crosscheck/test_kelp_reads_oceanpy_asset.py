"""The other direction: an asset published by ocean.py (ocean-lib 3.1.2) on kelp's devnet, along
ocean.py's own create + setMetaData path (oceanpy_publish.py), is indexed by the kelp node, shown
by `kelp ocean show` exactly as ocean.py wrote it, priced and consumed by `kelp ocean get`: the
downloaded bytes are the file behind the CID ocean.py published, and the order is on chain, as
ocean.py's own datatoken ABI reads it.

ocean.py publishes here with compress_flag=False (flags 2, node-encrypted): its default, flags 3
(lzma + encrypted), is not indexed by the kelp node yet.
"""

from eth_account import Account
from ocean_lib.models.dispenser import DispenserArguments
from ocean_lib.structures.file_objects import IpfsFile
from web3 import Web3
from web3.logs import DISCARD

from oceanpy_publish import publish, use_signed_encrypt

# anvil's public development key #6 (well known, funded by `kelp devnet up`); kelp publishes
# with #0 and the fixed-price test buys with #3.
PUBLISHER_KEY = "0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e"
NAME = "ocean.py Plankton Counts"


def test_kelp_indexes_shows_prices_and_consumes_an_oceanpy_asset(devnet, ocean):
    wallet = Account.from_key(PUBLISHER_KEY)
    use_signed_encrypt(wallet)
    node = devnet.up["node_url"]
    cid = devnet.published["file"]["hash"]  # the CSV kelp added to its block store
    nft, dt, ddo, flags = publish(ocean, wallet, node, NAME, [IpfsFile(cid)], DispenserArguments(), compress=False)
    assert flags == 2
    indexed = ocean.assets._aquarius.wait_for_ddo(ddo.did, timeout=60)
    assert indexed is not None and indexed.did == ddo.did

    # kelp shows the DDO ocean.py hashed and set, plus the node's own indexedMetadata/datatokens
    shown = devnet.kelp("ocean", "show", ddo.did)
    node_fields = ("indexedMetadata", "datatokens", "nftAddress")
    assert {k: v for k, v in shown.items() if k not in node_fields} == {
        k: v for k, v in ddo.as_dictionary().items() if k != "nftAddress"
    }
    assert shown["nftAddress"].lower() == ddo.nft_address.lower()
    assert Web3.to_checksum_address(shown["indexedMetadata"]["nft"]["owner"]) == wallet.address == nft.ownerOf(1)
    assert shown["metadata"]["name"] == NAME
    assert devnet.kelp("ocean", "price", ddo.did)["pricing"] == "free"

    # a second account gets it through kelp: dispenser, startOrder, download, CID check
    out = devnet.home / "from-oceanpy.csv"
    got = devnet.kelp("ocean", "get", ddo.did, "-o", str(out), "--account", "2")
    assert out.read_bytes() == devnet.data
    assert (got["cid"], got["cid_verified"], got["acquired"]) == (cid, True, "dispenser")
    assert Web3.to_checksum_address(got["datatoken"]) == dt.address

    # the order, as ocean.py's datatoken ABI decodes kelp's transaction
    w3 = ocean.config["web3_instance"]
    receipt = w3.eth.get_transaction_receipt(got["order_tx"])
    orders = dt.contract.events.OrderStarted().process_receipt(receipt, errors=DISCARD)
    consumer = Account.from_key("0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a").address
    assert len(orders) == 1
    assert orders[0]["args"]["consumer"] == consumer  # anvil's public development key #2
    assert orders[0]["args"]["payer"] == consumer
    assert orders[0]["args"]["serviceIndex"] == 0
