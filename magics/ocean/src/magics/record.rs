//! Provenance records of `%publish` and `%ocean get` (issue #14): the file or CID published and
//! the DID it became, the DID consumed and the file written, and every transaction with its
//! chain id. Both need a chain and a signer, so a re-run cannot reproduce them offline: their
//! records say so (`uncheckable`). Read from the call's arguments and JSON result only.

use kelp_magic::{Item, Magic, MagicCall, MagicContext, Output, Record, parse_matches, source_item};
use serde_json::Value;
use std::path::Path;

/// The record of a `%publish` result.
pub fn publish(call: &MagicCall, ctx: &MagicContext, out: &Output) -> Option<Record> {
    let m = parse_matches(super::publish::PublishMagic.command(), call).ok()?;
    let j = out.json()?;
    let mut r = Record::magic()
        .read(source_item(&ctx.cwd, m.get_one::<String>("source")?))
        .uncheckable("publishing on Ocean needs a chain and a signer");
    if let Some(cid) = j["file"]["hash"].as_str() {
        r = r.read(Item::cid(cid));
    }
    r = r.wrote(Item::did(j["did"].as_str()?));
    Some(with_txs(r, j))
}

/// The record of an `%ocean` result (`get` only; lookups record nothing).
pub fn ocean(call: &MagicCall, ctx: &MagicContext, out: &Output) -> Option<Record> {
    if call.args.first().map(String::as_str) != Some("get") {
        return None;
    }
    let j = out.json()?;
    let mut r = Record::magic()
        .read(Item::did(j["did"].as_str()?))
        .uncheckable("ordering an Ocean datatoken needs a chain and a signer");
    if let Some(cid) = j["cid"].as_str() {
        r = r.read(Item::cid(cid));
    }
    r = r.wrote(Item::file(&ctx.cwd, Path::new(j["path"].as_str()?)));
    Some(with_txs(r, j))
}

/// Every `txs[].hash` (and `order_tx`) of the result, on the result's `chain_id`.
fn with_txs(r: Record, j: &Value) -> Record {
    let Some(chain_id) = j["chain_id"].as_u64() else { return r };
    let hashes = j["txs"].as_array().into_iter().flatten().filter_map(|t| t["hash"].as_str());
    hashes
        .chain(j["order_tx"].as_str())
        .filter(|h| h.starts_with("0x"))
        .fold(r, |r, h| r.wrote(Item::Tx { hash: h.to_string(), chain_id }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kelp_magic::{Config, RecordingSink, sha256_hex};
    use serde_json::json;

    #[test]
    fn publish_and_get_record_files_dids_and_txs() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("data.csv"), b"a,b\n").unwrap();
        let ctx = MagicContext::new(d.path(), Config::at(d.path().join("h")), RecordingSink::new());
        let did = format!("did:op:{}", "ab".repeat(32));
        let call = MagicCall::from_line("publish data.csv --name x", None).unwrap();
        let out = Output::text("published").with_json(json!({"did": did, "chain_id": 8996,
            "file": {"type": "ipfs", "hash": "QmX"}, "txs": [{"label": "nft", "hash": "0x01", "gas": 1}]}));
        let r = publish(&call, &ctx, &out).unwrap();
        let file = Item::Path { path: "data.csv".into(), sha256: Some(sha256_hex(b"a,b\n")) };
        assert_eq!(r.reads, vec![file.clone(), Item::cid("QmX")]);
        assert_eq!(r.writes, vec![Item::did(&did), Item::Tx { hash: "0x01".into(), chain_id: 8996 }]);
        assert!(r.uncheckable.is_some());

        let call = MagicCall::from_line(&format!("ocean get {did} -o data.csv"), None).unwrap();
        let out = Output::text("got").with_json(json!({"did": did, "path": d.path().join("data.csv"),
            "cid": null, "chain_id": 8996, "order_tx": "0x02", "txs": []}));
        let r = ocean(&call, &ctx, &out).unwrap();
        assert_eq!(r.reads, vec![Item::did(&did)]);
        assert_eq!(r.writes, vec![file, Item::Tx { hash: "0x02".into(), chain_id: 8996 }]);
        let show = MagicCall::from_line(&format!("ocean show {did}"), None).unwrap();
        assert!(ocean(&show, &ctx, &out).is_none(), "lookups record nothing");
    }
}
