//! The Ocean magics' typed results: the committed schemas equal the types, the JSON of each is
//! the one the magics built by hand before (a public API: field names and nesting unchanged),
//! and every rendering is snapshotted (`snapshots/`). Results that need a chain and a signer
//! are built from realistic values (an anvil devnet's accounts and a real publish's shape);
//! `%wallet create|import` and `%devnet status|down` without a devnet run for real.

use super::devnet::{Down, Status, Up};
use super::ocean::{AssetPrice, AssetRow, Assets, Collect, Get, PriceOf, Pricing, Show};
use super::publish::Publish;
use super::wallet::{Keystore, Sent, Show as WalletShow, Switch, TokenBalance};
use super::{AddressBook, Tx};
use crate::addresses::OceanAddresses;
use crate::devnet::{DevnetPaths, DevnetState, DownReport, Status as DevnetStatus, UpReport};
use crate::journal::TxRecord;
use crate::publish::{AssetType, FileRef, Price, PublishSpec, Published};
use alloy::primitives::utils::format_ether;
use alloy::primitives::{Address, B256, U256, address, b256};
use kelp_magic::testing::Cell;
use kelp_magic::{Magic, MagicResult, assert_result_snapshot};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// anvil's first account (the devnet's publisher) and second (a consumer).
const PUBLISHER: Address = address!("f39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
const CONSUMER: Address = address!("70997970C51812dc3A010C7d01b50e20d4dc79C8");
const NFT: Address = address!("9d4454B023096f34B160D6B654540c56A1F81688");
const DATATOKEN: Address = address!("4C1f7d0f1BA1eF4E4A4E5f4a8A4F1e8d2c3B7a90");
const DID: &str = "did:op:5e1f8c2c4d3b2a1908f7e6d5c4b3a29180f7e6d5c4b3a2918f7e6d5c4b3a2918";
const CID: &str = "QmQRiXcmgocXXUZHXdndiE9LSKM45YJnCFsyjjPmg2p8MN";
const TX1: B256 = b256!("8a4c2e1f0b9d8c7a6f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0f9e");
const TX2: B256 = b256!("1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90a");
const TX3: B256 = b256!("c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00");

/// The committed schemas are the types' (KELP_UPDATE_SCHEMA=1 regenerates them).
#[test]
fn result_schemas_are_committed() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/schema/results");
    for (family, list) in super::schemas() {
        kelp_magic::testing::check_result_schemas(&dir, family, "kelp-ocean", &list);
    }
}

fn addresses(escrow: bool) -> OceanAddresses {
    OceanAddresses {
        chain_id: 8996,
        ocean: address!("5FbDB2315678afecb367f032d93F642f64180aa3"),
        opf_collector: address!("e7f1725E7734CE288F8367e1Bb143E90bb3F0512"),
        router: address!("9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0"),
        fixed_price: address!("Cf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9"),
        dispenser: address!("Dc64a140Aa3E981100a9becA4E685f962f0cF6C9"),
        erc721_factory: address!("5FC8d32690cc91D4c39d9d3abcBD16989F875707"),
        erc721_templates: [("1".to_string(), address!("0165878A594ca255338adfa4d48449f69242Eb8F"))].into(),
        erc20_templates: [
            ("1".to_string(), address!("a513E6E4b8f2a923D98304ec87F64353C4D5C853")),
            ("2".to_string(), address!("2279B7A0a67DB372996a5FaB50D91eAA73d2eBe6")),
        ]
        .into(),
        escrow: escrow.then(|| address!("8A791620dd6260079BF849Dc5567aDC3F2FdC318")),
        pool_template: None,
        start_block: 0,
    }
}

/// The schema-only [`AddressBook`] has exactly the wire type's fields.
#[test]
fn the_address_book_schema_is_the_wire_type() {
    for escrow in [false, true] {
        let wire = serde_json::to_value(addresses(escrow)).unwrap();
        let book: AddressBook = serde_json::from_value(wire.clone()).expect("every wire field is in AddressBook");
        assert_eq!(serde_json::to_value(&book).unwrap(), wire);
    }
}

fn txs() -> Vec<TxRecord> {
    vec![
        TxRecord { label: "createNftWithErc20WithFixedRate".into(), hash: TX1, gas: Some(4_812_331) },
        TxRecord { label: "setMetaData".into(), hash: TX2, gas: Some(311_204) },
    ]
}

fn published(ddo: Value, already: bool) -> Published {
    Published {
        did: DID.into(),
        nft: NFT,
        datatoken: DATATOKEN,
        exchange_id: Some(TX3),
        chain_id: 8996,
        txs: if already { vec![] } else { txs() },
        gas_total: if already { 0 } else { 5_123_535 },
        already,
        ddo,
    }
}

/// The JSON `%publish` built by hand before it was typed.
fn publish_json_before(network: &str, spec: &PublishSpec, p: &Published) -> Value {
    let txs: Vec<_> = p.txs.iter().map(|t| json!({"label": t.label, "hash": t.hash, "gas": t.gas})).collect();
    json!({
        "did": p.did, "nft": p.nft, "datatoken": p.datatoken, "exchange_id": p.exchange_id,
        "network": network, "chain_id": p.chain_id, "txs": txs, "gas_total": p.gas_total,
        "already_published": p.already, "file": spec.file, "price": spec.price, "name": spec.name,
        "type": spec.kind, "compute": p.ddo["services"][0]["compute"].clone(),
        "lineage": p.ddo["metadata"]["additionalInformation"]["kelp"].clone(),
    })
}

#[test]
fn publish_results() {
    let c = Cell::new([]);
    // A free dataset from a local file, with the lineage of the notebook it came from.
    let spec = PublishSpec::dataset("Reef temperatures", FileRef::Ipfs { hash: CID.into() }, Price::Free);
    let lineage = json!({"notebook": "reef.ipynb", "inputs": [{"cid": CID}], "outputs": [{"path": "temps.csv"}, {"path": "plot.png"}]});
    let ddo = json!({"services": [{"type": "access"}], "metadata": {"additionalInformation": {"kelp": lineage}}});
    let mut p = published(ddo, false);
    p.exchange_id = None;
    let r = Publish::of("development", &spec, &p);
    assert_eq!(r.json(), publish_json_before("development", &spec, &p));
    assert!(r.text().contains("lineage of reef.ipynb: 1 input(s), 2 output(s)"), "{}", r.text());
    assert_result_snapshot!("publish_free_dataset", &r.output(), c);

    // A priced compute-only dataset, published before (nothing sent), on a network given by URL.
    let mut spec = PublishSpec::dataset(
        "Reef <sensors>",
        FileRef::Url { url: "https://data.example.org/reef.csv".into() },
        Price::Fixed { amount: U256::from(2_500_000_000_000_000_000u128), token: addresses(false).ocean },
    );
    spec.kind = AssetType::Dataset;
    let compute = json!({"allowRawAlgorithm": false, "allowNetworkAccess": false,
        "publisherTrustedAlgorithms": [], "publisherTrustedAlgorithmPublishers": [PUBLISHER]});
    let p = published(json!({"services": [{"type": "compute", "compute": compute}]}), true);
    let r = Publish::of("http://127.0.0.1:8545", &spec, &p);
    assert_eq!(r.json(), publish_json_before("http://127.0.0.1:8545", &spec, &p));
    assert_eq!(r.json()["price"]["Fixed"]["amount"], "0x22b1c8c1227a0000");
    assert!(r.text().starts_with("published Reef <sensors> (already published: nothing sent) (compute-only)\n"));
    assert_result_snapshot!("publish_compute_priced_already", &r.output(), c);

    // An algorithm; the transactions a browser wallet sent have no gas.
    let mut spec = PublishSpec::dataset("mean.py", FileRef::Ipfs { hash: CID.into() }, Price::Free);
    spec.kind = AssetType::Algorithm;
    let mut p = published(json!({"services": [{"type": "access"}]}), false);
    p.txs[1].gas = None;
    let r = Publish::of("sepolia", &spec, &p);
    assert_eq!(r.json(), publish_json_before("sepolia", &spec, &p));
    assert!(r.text().contains("setMetaData: 0x") && r.text().contains("(gas ?)"));
    assert_result_snapshot!("publish_algorithm", &r.output(), c);

    // A URL with a key is not shown.
    let r = Publish::of("https://rpc.example.org/v1?apikey=s3cr3t", &spec, &p);
    assert!(!r.json().to_string().contains("s3cr3t"));
}

fn get() -> Get {
    Get {
        did: DID.into(),
        path: "/home/reef/work/5e1f8c2c4d3b2a19".into(),
        size: 1_048_576,
        sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into(),
        cid: Some(CID.into()),
        cid_verified: true,
        datatoken: DATATOKEN,
        acquired: "fixed-rate".into(),
        paid: Some(U256::from(1_000_000_000_000_000_000u128)),
        order_tx: TX3,
        txs: vec![
            Tx { label: "buyFromFreAndOrder".into(), hash: TX3, gas: Some(402_117) },
            Tx { label: "approve".into(), hash: TX1, gas: Some(46_221) },
        ],
        chain_id: 8996,
    }
}

#[test]
fn ocean_get_and_show() {
    let c = Cell::new([]);
    let g = get();
    // The JSON `%ocean get` built by hand before.
    let txs: Vec<_> = g.txs.iter().map(|t| json!({"label": t.label, "hash": t.hash, "gas": t.gas})).collect();
    let before = json!({"did": g.did, "path": g.path, "size": g.size, "sha256": g.sha256, "cid": g.cid, "cid_verified": g.cid.is_some(),
        "datatoken": g.datatoken, "acquired": g.acquired, "paid": g.paid.map(|p| p.to_string()),
        "order_tx": g.order_tx, "txs": txs, "chain_id": 8996});
    assert_eq!(g.json(), before);
    assert_eq!(g.json()["paid"], "1000000000000000000");
    assert_result_snapshot!("ocean_get", &g.output(), c);
    let held = Get { acquired: "held".into(), paid: None, cid: None, cid_verified: false, txs: vec![], ..get() };
    assert_eq!(held.json()["paid"], Value::Null);
    assert_result_snapshot!("ocean_get_held_url_file", &held.output(), c);

    let ddo = json!({"@context": ["https://w3id.org/did/v1"], "id": DID, "version": "4.1.0", "chainId": 8996,
        "nftAddress": NFT, "metadata": {"created": "2026-12-05T20:11:02Z", "type": "dataset", "name": "Reef temperatures",
        "author": "Reef Lab <lab@example.org>", "description": "Hourly sea temperatures, 2024", "license": "CC-BY-4.0"},
        "services": [{"id": "0", "type": "access", "datatokenAddress": DATATOKEN}]});
    let s = Show { ddo: ddo.clone(), did: DID.into() };
    assert_eq!(s.json(), ddo, "the DDO as is");
    assert_result_snapshot!("ocean_show", &s.output(), c);
}

/// An address as JSON has it (lowercase hex).
fn json_text(a: Address) -> String {
    json!(a).as_str().unwrap().to_string()
}

fn row(did: &str, name: &str, kind: &str, prices: Vec<AssetPrice>, orders: u64) -> AssetRow {
    AssetRow {
        did: Some(did.into()),
        name: Some(name.into()),
        kind: Some(kind.into()),
        nft: Some(json_text(NFT)),
        owner: Some(PUBLISHER),
        prices,
        orders,
    }
}

#[test]
fn ocean_assets() {
    let c = Cell::new([]);
    // Two DDOs as Ocean Node indexes them, through the rows the magic makes of them.
    let indexed = |did: &str, name: &str, kind: &str, price: &str, ty: &str| {
        json!({"id": did, "nftAddress": NFT, "metadata": {"name": name, "type": kind, "description": "reef"},
            "services": [{"datatokenAddress": DATATOKEN}],
            "indexedMetadata": {"nft": {"owner": PUBLISHER}, "stats": [{"serviceId": "0", "orders": "2",
                "prices": [{"type": ty, "price": price, "token": DATATOKEN}]}]}})
    };
    let algo = format!("did:op:{}", "7a".repeat(32));
    let found = [
        indexed(DID, "Reef temperatures", "dataset", "0", "dispenser"),
        indexed(&algo, "mean.py", "algorithm", "1.0", "fixedrate"),
    ];
    let rows = crate::magics::ocean::asset_rows(&found, Some(PUBLISHER), None);
    // The rows the magic built by hand before.
    let before: Vec<Value> = found
        .iter()
        .map(|d| json!({"did": d["id"], "name": d["metadata"]["name"], "type": d["metadata"]["type"],
            "nft": d["nftAddress"], "owner": crate::provider::wire::owner(d), "prices": crate::provider::wire::prices(d),
            "orders": crate::provider::wire::orders(d)}))
        .collect();
    let r = Assets { assets: rows };
    assert_eq!(r.json(), json!({"assets": before}));
    assert_eq!(
        r.assets[1],
        row(
            &algo,
            "mean.py",
            "algorithm",
            vec![AssetPrice {
                service_id: Some("0".into()),
                kind: Some("fixedrate".into()),
                price: "1.0".into(),
                token: Some(json_text(DATATOKEN))
            }],
            2
        )
    );
    assert_result_snapshot!("ocean_assets", &r.output(), c);
    let none = Assets { assets: crate::magics::ocean::asset_rows(&found, Some(CONSUMER), None) };
    assert_eq!(none.json(), json!({"assets": []}));
    assert_result_snapshot!("ocean_assets_none", &none.output(), c);
}

#[test]
fn ocean_collect_and_price() {
    let c = Cell::new([]);
    let amount = U256::from(3_000_000_000_000_000_000u128);
    let r = Collect { did: DID.into(), datatoken: DATATOKEN, amount, to: PUBLISHER, tx: Some(TX2) };
    let before =
        json!({"did": DID, "datatoken": DATATOKEN, "amount": amount.to_string(), "to": PUBLISHER, "tx": Some(TX2)});
    assert_eq!(r.json(), before);
    assert_result_snapshot!("ocean_collect", &r.output(), c);
    let nothing = Collect { amount: U256::ZERO, tx: None, ..r };
    assert_eq!(nothing.text(), "nothing to collect");
    assert_result_snapshot!("ocean_collect_nothing", &nothing.output(), c);

    // The JSON `%ocean price` built by hand before ("free", "fixed" or "none").
    let before = |kind: &str, amount: Option<U256>| json!({"did": DID, "datatoken": DATATOKEN, "pricing": kind, "amount": amount.map(|a| a.to_string()), "amount_ocean": amount.map(format_ether)});
    let q = U256::from(1_002_000_000_000_000_000u128);
    for (name, pricing, kind, amount) in [
        ("ocean_price_fixed", Pricing::Fixed, "fixed", Some(q)),
        ("ocean_price_free", Pricing::Free, "free", None),
        ("ocean_price_none", Pricing::NotForSale, "none", None),
    ] {
        let r = PriceOf::new(DID.into(), DATATOKEN, pricing, amount);
        assert_eq!(r.json(), before(kind, amount), "{name}");
        assert_result_snapshot!(name, &r.output(), c);
    }
}

#[test]
fn wallet_show_send_switch() {
    let c = Cell::new([]);
    let tokens = vec![
        TokenBalance { symbol: "OCEAN".into(), address: addresses(false).ocean, balance: "1999.0".into() },
        TokenBalance { symbol: "?".into(), address: DATATOKEN, balance: "1.0".into() },
    ];
    let r = WalletShow::new(PUBLISHER, "development", 8996, "9999.987654321".into(), tokens.clone());
    let before = json!({"address": PUBLISHER, "network": "development", "chain_id": 8996, "eth": "9999.987654321",
        "tokens": tokens.iter().map(|t| json!({"symbol": t.symbol, "address": t.address, "balance": t.balance})).collect::<Vec<_>>()});
    assert_eq!(r.json(), before);
    assert_result_snapshot!("wallet_show", &r.output(), c);

    let r = Sent { to: CONSUMER, amount: "1.5".into(), token: "OCEAN".into(), tx: TX1, gas: 34_513 };
    let before = json!({"to": CONSUMER, "amount": "1.5", "token": "OCEAN", "tx": TX1, "gas": 34_513});
    assert_eq!(r.json(), before);
    assert_result_snapshot!("wallet_send", &r.output(), c);

    let r = Switch::new("sepolia", 11_155_111, "https://ethereum-sepolia-rpc.publicnode.com");
    let before =
        json!({"network": "sepolia", "chain_id": 11_155_111, "rpc_url": "https://ethereum-sepolia-rpc.publicnode.com"});
    assert_eq!(r.json(), before);
    assert_result_snapshot!("wallet_switch", &r.output(), c);
    // An RPC URL's password and key stay out of the result.
    let r = Switch::new("https://me:pw@rpc.example.org/?key=s3cr3t", 1, "https://me:pw@rpc.example.org/?key=s3cr3t");
    let shown = format!("{:?}", r.output());
    assert!(!shown.contains("s3cr3t") && !shown.contains("pw@"), "{shown}");
}

/// `%wallet create` and `%wallet import` write a real keystore (no chain needed).
#[tokio::test]
async fn wallet_create_and_import() {
    let c = Cell::new([Arc::new(crate::magics::wallet::WalletMagic) as Arc<dyn Magic>]);
    c.env(crate::session::ENV_KEYSTORE_PASSWORD, Some("correct horse"));
    // anvil's account 3.
    let key = "7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6";
    c.env(crate::magics::wallet::ENV_IMPORT_KEY, Some(key));
    let out = c.ok("wallet import reef").await;
    let j = out.json().unwrap();
    assert_eq!(j["address"], "0x90f79bf6eb2c4f870365e785982e1f101e93b906");
    assert!(out.value.as_ref().unwrap().expr.contains("\"0x90F79bf6EB2c4f870365E785982E1f101E93b906\""));
    let ks = Keystore { name: "reef".into(), path: PathBuf::from(j["path"].as_str().unwrap()), address: CONSUMER };
    assert_eq!(serde_json::to_value(&ks).unwrap().as_object().unwrap().len(), 3);
    assert!(!format!("{out:?}").contains(key) && !format!("{out:?}").contains("correct horse"));
    assert_result_snapshot!("wallet_import", &out, c);
    let out = c.ok("wallet create spare").await;
    assert_result_snapshot!("wallet_create", &out, c);
}

fn paths() -> DevnetPaths {
    DevnetPaths::new(PathBuf::from("/home/reef/.kelp/ocean"))
}

fn state() -> DevnetState {
    DevnetState {
        rpc_url: "http://127.0.0.1:8545".into(),
        port: 8545,
        chain_id: 8996,
        anvil_pid: 41_207,
        node_pid: Some(41_233),
        node_url: Some("http://127.0.0.1:8001".into()),
        started: "2026-12-05T20:58:41Z".into(),
        fingerprint: Some("c3a1".into()),
    }
}

#[test]
fn devnet_up_status_down() {
    let c = Cell::new([]);
    let report = UpReport {
        state: state(),
        addresses: addresses(true),
        start: "cold",
        elapsed: Duration::from_millis(4_273),
        gas: vec![("ERC721Factory".into(), 5_912_004), ("Ocean".into(), 1_204_551), ("Router".into(), 2_480_112)],
    };
    let r = Up::of(&paths(), &report);
    // The JSON `%devnet up` built by hand before.
    let s = &report.state;
    let gas: serde_json::Map<String, Value> = report.gas.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
    let before = json!({"network": "development", "running": true, "start": report.start,
        "elapsed_ms": report.elapsed.as_millis() as u64, "rpc_url": s.rpc_url, "chain_id": s.chain_id,
        "anvil_pid": s.anvil_pid, "node_pid": s.node_pid, "node_url": s.node_url,
        "address_file": paths().address_file(), "addresses": report.addresses, "deploy_gas": gas});
    assert_eq!(r.json(), before);
    assert!(r.text().contains("(chain 8996, deployed the Ocean contracts, 4.27s)"), "{}", r.text());
    assert_result_snapshot!("devnet_up_cold", &r.output(), c);
    let warm = UpReport { start: "warm", gas: vec![], elapsed: Duration::from_millis(912), ..report.clone() };
    assert_result_snapshot!("devnet_up_warm", &Up::of(&paths(), &warm).output(), c);
    let running = UpReport { start: "running", gas: vec![], elapsed: Duration::from_millis(38), ..report.clone() };
    let r = Up::of(&paths(), &running);
    assert_eq!(r.json()["start"], "running");
    assert!(r.text().contains("already running, 0.04s"), "{}", r.text());

    let st = DevnetStatus { state: Some(state()), running: true, block: Some(57), addresses: Some(addresses(true)) };
    let r = Status::of(&paths(), &st);
    let before = json!({"network": "development", "running": st.running,
        "rpc_url": st.state.as_ref().map(|s| s.rpc_url.clone()), "chain_id": st.state.as_ref().map(|s| s.chain_id),
        "block": st.block, "anvil_pid": st.state.as_ref().map(|s| s.anvil_pid),
        "node_url": st.state.as_ref().and_then(|s| s.node_url.clone()), "address_file": paths().address_file(),
        "addresses": st.addresses});
    assert_eq!(r.json(), before);
    assert_eq!(r.running_url(), Some("http://127.0.0.1:8545"));
    assert_result_snapshot!("devnet_status_running", &r.output(), c);
    let exited = DevnetStatus { running: false, block: None, ..st };
    let r = Status::of(&paths(), &exited);
    assert_eq!(r.running_url(), None);
    assert_result_snapshot!("devnet_status_exited", &r.output(), c);

    for (name, was_running, saved, no_save) in [
        ("devnet_down_saved", true, true, false),
        ("devnet_down_no_save", true, false, true),
        ("devnet_down_no_fingerprint", true, false, false),
    ] {
        let r = Down::of(&DownReport { was_running, saved }, no_save);
        assert_eq!(r.json(), json!({"running": false, "was_running": was_running, "saved": saved}));
        assert_result_snapshot!(name, &r.output(), c);
    }
}

/// Without a devnet, `%devnet status` and `%devnet down` run for real.
#[tokio::test]
async fn devnet_without_a_devnet() {
    let c = Cell::new([Arc::new(crate::magics::devnet::DevnetMagic) as Arc<dyn Magic>]);
    let st = c.ok("devnet status").await;
    assert_eq!(st.json().unwrap()["running"], false);
    assert!(st.value.is_none());
    assert_result_snapshot!("devnet_status_none", &st, c);
    let down = c.ok("devnet down").await;
    assert_eq!(down.json().unwrap()["was_running"], false);
    assert_result_snapshot!("devnet_down_not_running", &down, c);
}
