//! The node's indexer: follows `MetadataCreated`/`MetadataUpdated` events of every data NFT on
//! the chain, decrypts the document (flags & 2, ECIES to this node), checks `metaDataHash` and
//! the DID, and keeps the DDO for the Aquarius-compatible routes. Indexed DDOs get Ocean Node
//! v3's extra fields: `nftAddress` checksummed, `datatokens[{address, name, serviceId, symbol}]`
//! and `indexedMetadata{event{block, contract, datetime, from, txid}, nft{address, created,
//! name, owner, state, symbol, tokenURI}, purgatory{state}, stats[{datatokenAddress, name,
//! orders, prices[{contract, price, token, type, exchangeId?}], serviceId, symbol}]}` (prices as
//! decimal text: "0" for a dispenser, the rate for a fixed-rate exchange).
//!
//! `stats[].orders` counts, as Ocean Node's OrderStarted and OrderReused event processors do,
//! every `OrderStarted` and `OrderReused` event the service's datatoken emitted: the indexer
//! follows those events with the metadata ones, in chain order, keeps a count per datatoken and
//! writes it into every indexed DDO whose stats name that datatoken (a later metadata update
//! keeps the count).

use crate::state::NodeState;
use alloy::primitives::{Address, B256, Bytes, U256};
use alloy::providers::Provider;
use alloy::rpc::types::{Filter, Log};
use alloy::sol_types::SolEvent;
use kelp_ocean_wire::contracts::IERC20Template::{OrderReused, OrderStarted};
use kelp_ocean_wire::contracts::IERC721Template::{MetadataCreated, MetadataUpdated};
use kelp_ocean_wire::contracts::{IERC20Template, IERC721Template, IFixedRateExchange};
use kelp_ocean_wire::ddo;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// Poll interval (anvil mines at once, so short polls make publishing feel instant).
const POLL: Duration = Duration::from_millis(200);

/// Orders seen per datatoken (`OrderStarted` + `OrderReused` it emitted).
type Orders = HashMap<Address, u64>;

/// Follow the chain forever (the caller aborts the task).
pub async fn run(s: Arc<NodeState>) {
    let mut next = s.config.addresses.start_block;
    let mut orders = Orders::new();
    loop {
        if let Ok(latest) = s.provider.get_block_number().await
            && latest >= next
        {
            let filter = Filter::new().from_block(next).to_block(latest).event_signature(vec![
                MetadataCreated::SIGNATURE_HASH,
                MetadataUpdated::SIGNATURE_HASH,
                OrderStarted::SIGNATURE_HASH,
                OrderReused::SIGNATURE_HASH,
            ]);
            if let Ok(logs) = s.provider.get_logs(&filter).await {
                for log in &logs {
                    if is_order(log) {
                        count_order(&s, &mut orders, log.address());
                    } else {
                        index_log(&s, log, &orders).await;
                    }
                }
                next = latest + 1;
            }
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Whether `log` is a datatoken's `OrderStarted` or `OrderReused`.
fn is_order(log: &Log) -> bool {
    log.log_decode::<OrderStarted>().is_ok() || log.log_decode::<OrderReused>().is_ok()
}

/// One more order of datatoken `dt`, written into the stats of every indexed DDO naming it.
fn count_order(s: &NodeState, orders: &mut Orders, dt: Address) {
    let n = orders.entry(dt).or_default();
    *n += 1;
    let mut ddos = s.ddos.write().unwrap_or_else(|e| e.into_inner());
    for doc in ddos.values_mut() {
        set_orders(doc, dt, *n);
    }
}

/// Set `orders` of the stats entry of datatoken `dt` in `doc`, if it has one.
fn set_orders(doc: &mut Value, dt: Address, n: u64) {
    let Some(stats) = doc.pointer_mut("/indexedMetadata/stats").and_then(Value::as_array_mut) else { return };
    for stat in stats {
        if stat["datatokenAddress"].as_str().and_then(|a| a.parse::<Address>().ok()) == Some(dt) {
            stat["orders"] = json!(n);
        }
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

async fn index_log(s: &NodeState, log: &Log, orders: &Orders) {
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
            let time = chrono::DateTime::from_timestamp(meta.timestamp as i64, 0).unwrap_or_default();
            let datetime = time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            let created = time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            let nft_c = nft.to_checksum(None);
            let event = json!({
                "block": log.block_number, "contract": nft_c, "datetime": datetime,
                "from": meta.by.to_checksum(None), "txid": log.transaction_hash,
            });
            let (nft_meta, datatokens, stats) = on_chain(s, nft, &doc, meta.state, created, orders).await;
            doc["nftAddress"] = json!(nft_c);
            doc["datatokens"] = json!(datatokens);
            doc["indexedMetadata"] =
                json!({"event": event, "nft": nft_meta, "purgatory": {"state": false}, "stats": stats});
            s.index_errors.write().unwrap_or_else(|e| e.into_inner()).remove(&did);
            s.ddos.write().unwrap_or_else(|e| e.into_inner()).insert(did, doc);
        }
        Err(e) => {
            s.index_errors.write().unwrap_or_else(|e| e.into_inner()).insert(did, e);
        }
    }
}

/// What the indexer reads from the chain for a DDO: the NFT's `{address, created, name, owner,
/// state, symbol, tokenURI}`, then per service its datatoken and its stats with prices.
async fn on_chain(
    s: &NodeState,
    nft: Address,
    doc: &Value,
    state: u8,
    created: String,
    orders: &Orders,
) -> (Value, Vec<Value>, Vec<Value>) {
    let p = &s.provider;
    let n = IERC721Template::new(nft, p);
    let owner = n.ownerOf(U256::from(1)).call().await.map(|o| o.to_checksum(None)).unwrap_or_default();
    let name = n.name().call().await.unwrap_or_default();
    let symbol = n.symbol().call().await.unwrap_or_default();
    let uri = ITokenUri::new(nft, p).tokenURI(U256::from(1)).call().await.unwrap_or_default();
    let nft_meta = json!({"address": nft.to_checksum(None), "created": created, "name": name, "owner": owner,
        "state": state, "symbol": symbol, "tokenURI": uri});
    let (mut datatokens, mut stats) = (Vec::new(), Vec::new());
    for svc in doc["services"].as_array().map(Vec::as_slice).unwrap_or_default() {
        let Some(dt) = svc["datatokenAddress"].as_str().and_then(|a| a.parse::<Address>().ok()) else { continue };
        let t = IERC20Template::new(dt, p);
        let name = t.name().call().await.unwrap_or_default();
        let symbol = t.symbol().call().await.unwrap_or_default();
        let address = svc["datatokenAddress"].as_str().unwrap_or_default().to_lowercase();
        let service_id = svc["id"].clone();
        datatokens.push(json!({"address": address, "name": name, "serviceId": service_id, "symbol": symbol}));
        let mut prices = Vec::new();
        for d in t.getDispensers().call().await.unwrap_or_default() {
            prices.push(json!({"contract": d.to_checksum(None), "price": "0", "token": dt.to_checksum(None), "type": "dispenser"}));
        }
        for f in t.getFixedRates().call().await.unwrap_or_default() {
            let ex = IFixedRateExchange::new(f.contractAddress, p).getExchange(f.id).call().await;
            if let Ok(ex) = ex {
                let rate = alloy::primitives::utils::format_units(ex.fixedRate, 18).unwrap_or_default();
                prices.push(json!({"contract": f.contractAddress.to_checksum(None), "exchangeId": f.id,
                    "price": trim_decimal(&rate), "token": ex.baseToken.to_checksum(None), "type": "fixedrate"}));
            }
        }
        let ordered = orders.get(&dt).copied().unwrap_or(0);
        stats.push(json!({"datatokenAddress": address, "name": name, "orders": ordered, "prices": prices,
            "serviceId": service_id, "symbol": symbol}));
    }
    (nft_meta, datatokens, stats)
}

/// "1.000000000000000000" → "1.0", as ethers' formatUnits writes it.
fn trim_decimal(t: &str) -> String {
    match t.split_once('.') {
        Some((int, frac)) => {
            let frac = frac.trim_end_matches('0');
            format!("{int}.{}", if frac.is_empty() { "0" } else { frac })
        }
        None => t.to_string(),
    }
}

alloy::sol! {
    #[sol(rpc)]
    interface ITokenUri {
        function tokenURI(uint256 tokenId) external view returns (string);
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

#[cfg(test)]
mod tests {
    #[test]
    fn an_order_is_counted_on_the_stats_of_its_datatoken_only() {
        let dt: super::Address = "0xe082b26cef079a095147f35c9647ec97c2401b83".parse().unwrap();
        let mut doc = serde_json::json!({"indexedMetadata": {"stats": [
            {"datatokenAddress": "0xe082b26cef079a095147f35c9647ec97c2401b83", "orders": 0},
            {"datatokenAddress": "0x0db1d0cfcba97f7dc5af76cfec1a646c33cd9297", "orders": 0}]}});
        super::set_orders(&mut doc, dt, 2);
        assert_eq!(doc["indexedMetadata"]["stats"][0]["orders"], 2);
        assert_eq!(doc["indexedMetadata"]["stats"][1]["orders"], 0);
        let mut bare = serde_json::json!({"id": "did:op:x"});
        super::set_orders(&mut bare, dt, 1);
        assert_eq!(bare, serde_json::json!({"id": "did:op:x"}));
    }

    #[test]
    fn prices_are_written_like_ethers() {
        assert_eq!(super::trim_decimal("1.000000000000000000"), "1.0");
        assert_eq!(super::trim_decimal("2.500000000000000000"), "2.5");
    }
}
