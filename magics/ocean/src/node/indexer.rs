//! The node's indexer: follows `MetadataCreated`/`MetadataUpdated` events of every data NFT on
//! the chain, decrypts the document (flags & 2, ECIES to this node), checks `metaDataHash` and
//! the DID, and keeps the DDO for the Aquarius-compatible routes. Indexed DDOs get Ocean's
//! extra fields `nft: {address, state, owner}` and `event: {tx, block, from, contract, datetime}`.

use super::routes::NodeState;
use crate::contracts::IERC721Template::{MetadataCreated, MetadataUpdated};
use crate::ddo;
use alloy::primitives::{Address, B256, Bytes};
use alloy::providers::Provider;
use alloy::rpc::types::{Filter, Log};
use alloy::sol_types::SolEvent;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

/// Poll interval (anvil mines at once, so short polls make publishing feel instant).
const POLL: Duration = Duration::from_millis(200);

/// Follow the chain forever (the caller aborts the task).
pub async fn run(s: Arc<NodeState>) {
    let mut next = s.config.addresses.start_block;
    loop {
        if let Ok(latest) = s.provider.get_block_number().await
            && latest >= next
        {
            let filter = Filter::new()
                .from_block(next)
                .to_block(latest)
                .event_signature(vec![MetadataCreated::SIGNATURE_HASH, MetadataUpdated::SIGNATURE_HASH]);
            if let Ok(logs) = s.provider.get_logs(&filter).await {
                for log in &logs {
                    index_log(&s, log).await;
                }
                next = latest + 1;
            }
        }
        tokio::time::sleep(POLL).await;
    }
}

struct Meta {
    by: Address,
    state: u8,
    flags: Bytes,
    data: Bytes,
    hash: B256,
    timestamp: u64,
}

async fn index_log(s: &NodeState, log: &Log) {
    let nft = log.address();
    let meta = if let Ok(e) = log.log_decode::<MetadataCreated>() {
        let d = e.inner.data;
        Meta {
            by: d.createdBy,
            state: d.state,
            flags: d.flags,
            data: d.data,
            hash: d.metaDataHash,
            timestamp: d.timestamp.to(),
        }
    } else if let Ok(e) = log.log_decode::<MetadataUpdated>() {
        let d = e.inner.data;
        Meta {
            by: d.updatedBy,
            state: d.state,
            flags: d.flags,
            data: d.data,
            hash: d.metaDataHash,
            timestamp: d.timestamp.to(),
        }
    } else {
        return;
    };
    let did = ddo::did(nft, s.config.chain_id);
    match decode_document(s, &meta, nft, &did) {
        Ok(mut doc) => {
            let datetime = chrono::DateTime::from_timestamp(meta.timestamp as i64, 0).map(|t| t.to_rfc3339());
            doc["nft"] = json!({"address": nft, "state": meta.state, "owner": meta.by});
            doc["event"] = json!({
                "tx": log.transaction_hash, "block": log.block_number, "from": meta.by,
                "contract": nft, "datetime": datetime,
            });
            s.index_errors.write().unwrap_or_else(|e| e.into_inner()).remove(&did);
            s.ddos.write().unwrap_or_else(|e| e.into_inner()).insert(did, doc);
        }
        Err(e) => {
            s.index_errors.write().unwrap_or_else(|e| e.into_inner()).insert(did, e);
        }
    }
}

fn decode_document(s: &NodeState, m: &Meta, nft: Address, did: &str) -> Result<Value, String> {
    let flags = m.flags.first().copied().unwrap_or(0);
    if flags & 1 != 0 {
        return Err("lzma-compressed documents are not supported by the kelp node".into());
    }
    let plain = if flags & 2 != 0 { s.decrypt(&m.data).map_err(|e| e.to_string())? } else { m.data.to_vec() };
    if !ddo::hash_matches(&plain, &m.hash.0) {
        return Err("DDO checksum does not match metaDataHash".into());
    }
    let doc: Value = serde_json::from_slice(&plain).map_err(|e| format!("DDO is not JSON: {e}"))?;
    if doc["id"].as_str() != Some(did) {
        return Err(format!("DDO id {} is not the NFT's DID {did}", doc["id"]));
    }
    if doc["nftAddress"].as_str().and_then(|a| a.parse::<Address>().ok()) != Some(nft) {
        return Err("DDO nftAddress is not the emitting NFT".into());
    }
    Ok(doc)
}

/// The query language of `POST /api/aquarius/assets/metadata/query` (a small subset of
/// Elasticsearch's): `{"query": {"match_all": {}}}`, `{"query": {"term"|"match": {"dotted.path":
/// value}}}` (case-insensitive equality; arrays match if one element does), and kelp's
/// `{"text": "words"}` (substring of name, description or tags). An empty body matches all.
pub fn matches_query(doc: &Value, body: &Value) -> bool {
    if let Some(text) = body["text"].as_str() {
        let t = text.to_lowercase();
        let m = &doc["metadata"];
        let hay =
            format!("{} {} {}", m["name"].as_str().unwrap_or(""), m["description"].as_str().unwrap_or(""), m["tags"]);
        if !hay.to_lowercase().contains(&t) {
            return false;
        }
    }
    let q = &body["query"];
    for kind in ["term", "match"] {
        if let Some(obj) = q[kind].as_object() {
            for (path, want) in obj {
                let got = path.split('.').fold(doc, |v, k| &v[k]);
                if !value_matches(got, want) {
                    return false;
                }
            }
        }
    }
    true
}

fn value_matches(got: &Value, want: &Value) -> bool {
    let norm = |v: &Value| v.as_str().map(str::to_lowercase).unwrap_or_else(|| v.to_string());
    match got {
        Value::Array(items) => items.iter().any(|i| value_matches(i, want)),
        _ => norm(got) == norm(want),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_subset() {
        let d = json!({"metadata": {"name": "Ocean Temps", "type": "dataset", "tags": ["climate", "sea"]}, "nft": {"owner": "0xAbC"}});
        assert!(matches_query(&d, &json!({})));
        assert!(matches_query(&d, &json!({"query": {"match_all": {}}})));
        assert!(matches_query(&d, &json!({"query": {"term": {"metadata.type": "dataset"}}})));
        assert!(!matches_query(&d, &json!({"query": {"term": {"metadata.type": "algorithm"}}})));
        assert!(matches_query(&d, &json!({"query": {"match": {"nft.owner": "0xabc"}}})));
        assert!(matches_query(&d, &json!({"query": {"term": {"metadata.tags": "sea"}}})));
        assert!(matches_query(&d, &json!({"text": "temps"})));
        assert!(!matches_query(&d, &json!({"text": "wind"})));
    }
}
