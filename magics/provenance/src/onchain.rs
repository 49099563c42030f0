//! `kelp verify --network`'s look at what a notebook recorded on a chain: every transaction
//! (`Item::Tx`) is looked up on its chain by JSON-RPC (`eth_getTransactionReceipt`: mined and
//! succeeded, or reverted, or unknown there) and every Ocean asset (`Item::Did`) is resolved at an
//! Ocean node (`GET /api/aquarius/assets/ddo/<did>`: indexed, and not end-of-life, deprecated or
//! revoked).
//!
//! A re-run that publishes makes new DIDs and transactions, so these are never compared with the
//! re-run's; this check says whether the ones the notebook cites still stand. Where to ask:
//! `KELP_RPC_URL` and `KELP_OCEAN_NODE_URL`, then the devnet of `KELP_HOME` (its `devnet.json`);
//! an RPC is used for the chain id it answers `eth_chainId` with. Answers are hostile: bounded in
//! size and time, and anything off-shape is a line in the report, never a panic.

use crate::status::InputStatus;
use kelp_magic::Item;
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

/// The most of an answer read from an RPC or a node.
const MAX_ANSWER: usize = 4 << 20;
/// How long one request may take.
const TIMEOUT: Duration = Duration::from_secs(15);

/// One recorded chain fact and what the chain or the node says of it now.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct FactRow {
    /// A transaction (`tx`) or an Ocean asset (`did`).
    #[schemars(with = "crate::record_schema::ItemSchema")]
    pub fact: Item,
    #[serde(flatten)]
    pub status: InputStatus,
    /// The cells whose records name it.
    pub cells: BTreeSet<usize>,
}

/// Where to ask: RPC URLs and Ocean node URLs, in the order they are tried.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Endpoints {
    pub rpc: Vec<String>,
    pub nodes: Vec<String>,
}

impl Endpoints {
    /// `KELP_RPC_URL` / `KELP_OCEAN_NODE_URL` (through `env`), then the devnet recorded in
    /// `home/ocean/devnet/devnet.json`.
    pub fn discover(env: impl Fn(&str) -> Option<String>, home: &Path) -> Self {
        let mut e = Endpoints::default();
        e.rpc.extend(env("KELP_RPC_URL").filter(|s| !s.trim().is_empty()));
        e.nodes.extend(env("KELP_OCEAN_NODE_URL").filter(|s| !s.trim().is_empty()));
        let devnet = std::fs::read(home.join("ocean/devnet/devnet.json"))
            .ok()
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok());
        if let Some(d) = devnet {
            e.rpc.extend(d["rpc_url"].as_str().map(str::to_string));
            e.nodes.extend(d["node_url"].as_str().map(str::to_string));
        }
        e.rpc.dedup();
        e.nodes.dedup();
        e
    }
}

/// The transactions and DIDs named by `records` (cell number, record items), each once.
pub fn facts<'a>(cells: impl IntoIterator<Item = (usize, &'a [Item])>) -> BTreeMap<String, (Item, BTreeSet<usize>)> {
    let mut out: BTreeMap<String, (Item, BTreeSet<usize>)> = BTreeMap::new();
    for (cell, items) in cells {
        for it in items.iter().filter(|i| matches!(i, Item::Tx { .. } | Item::Did { .. })) {
            out.entry(it.label()).or_insert_with(|| (it.clone(), BTreeSet::new())).1.insert(cell);
        }
    }
    out
}

/// Check every fact at `ends` (a scratch runtime on its own thread: callers are blocking code).
pub fn check(facts: BTreeMap<String, (Item, BTreeSet<usize>)>, ends: &Endpoints) -> Vec<FactRow> {
    if facts.is_empty() {
        return vec![];
    }
    std::thread::scope(|s| {
        s.spawn(|| {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build();
            match rt {
                Ok(rt) => rt.block_on(check_async(&facts, ends)),
                Err(e) => not_checked(&facts, &format!("cannot start a runtime: {e}")),
            }
        })
        .join()
        .unwrap_or_else(|_| not_checked(&facts, "the chain check failed"))
    })
}

fn not_checked(facts: &BTreeMap<String, (Item, BTreeSet<usize>)>, why: &str) -> Vec<FactRow> {
    facts
        .values()
        .map(|(f, cells)| FactRow {
            fact: f.clone(),
            status: InputStatus::NotChecked { reason: why.into() },
            cells: cells.clone(),
        })
        .collect()
}

async fn check_async(facts: &BTreeMap<String, (Item, BTreeSet<usize>)>, ends: &Endpoints) -> Vec<FactRow> {
    let http = match reqwest::Client::builder().timeout(TIMEOUT).build() {
        Ok(c) => c,
        Err(e) => return not_checked(facts, &format!("no HTTP client: {e}")),
    };
    // Which chain each RPC serves.
    let mut chains: BTreeMap<u64, String> = BTreeMap::new();
    let mut rpc_errors = vec![];
    for url in &ends.rpc {
        match rpc(&http, url, "eth_chainId", json!([])).await.and_then(|v| hex_u64(&v, "eth_chainId")) {
            Ok(id) => {
                chains.entry(id).or_insert_with(|| url.clone());
            }
            Err(e) => rpc_errors.push(format!("{url}: {e}")),
        }
    }
    let mut rows = vec![];
    for (fact, cells) in facts.values() {
        let status = match fact {
            Item::Tx { hash, chain_id } => match chains.get(chain_id) {
                Some(url) => tx_status(&http, url, hash).await,
                None => InputStatus::NotChecked {
                    reason: if ends.rpc.is_empty() {
                        format!("no RPC for chain {chain_id}: set KELP_RPC_URL or start the devnet")
                    } else {
                        format!(
                            "no RPC for chain {chain_id} (asked {}): set KELP_RPC_URL to one",
                            if rpc_errors.is_empty() { ends.rpc.join(", ") } else { rpc_errors.join("; ") }
                        )
                    },
                },
            },
            Item::Did { did } => did_status(&http, &ends.nodes, did).await,
            _ => continue,
        };
        rows.push(FactRow { fact: fact.clone(), status, cells: cells.clone() });
    }
    rows
}

/// A transaction's receipt: mined with status 1 is ok; status 0 reverted; none is missing.
async fn tx_status(http: &reqwest::Client, url: &str, hash: &str) -> InputStatus {
    let well_formed = hash.len() == 66 && hash.starts_with("0x") && hash[2..].bytes().all(|b| b.is_ascii_hexdigit());
    if !well_formed {
        return InputStatus::Changed { detail: format!("`{hash}` is not a transaction hash (0x and 64 hex digits)") };
    }
    match rpc(http, url, "eth_getTransactionReceipt", json!([hash])).await {
        Err(e) => InputStatus::NotChecked { reason: format!("the RPC at {url} failed: {e}") },
        Ok(Value::Null) => InputStatus::Missing { detail: format!("no such transaction on the chain at {url}") },
        Ok(r) => {
            let block = hex_u64(&r["blockNumber"], "blockNumber").ok();
            match (r["status"].as_str(), block) {
                (Some("0x1"), Some(_)) => InputStatus::Ok,
                (Some("0x0"), b) => InputStatus::Changed {
                    detail: format!(
                        "the transaction reverted (block {})",
                        b.map(|b| b.to_string()).unwrap_or_default()
                    ),
                },
                (_, None) => InputStatus::Missing { detail: "the transaction is not mined".into() },
                (s, _) => InputStatus::Changed { detail: format!("unexpected receipt status {s:?}") },
            }
        }
    }
}

/// An asset's DDO at the first node that knows it: states 1–3 (end-of-life, deprecated,
/// revoked) are changes; 0, 4 (ordering disabled) and 5 (unlisted) still stand.
async fn did_status(http: &reqwest::Client, nodes: &[String], did: &str) -> InputStatus {
    if nodes.is_empty() {
        return InputStatus::NotChecked {
            reason: "no Ocean node to ask: set KELP_OCEAN_NODE_URL or start the devnet".into(),
        };
    }
    let mut unknown = vec![];
    let mut failed = vec![];
    for node in nodes {
        let url = format!("{}/api/aquarius/assets/ddo/{did}", node.trim_end_matches('/'));
        match get_json(http, &url).await {
            Ok(None) => unknown.push(node.clone()),
            Err(e) => failed.push(format!("{node}: {e}")),
            Ok(Some(ddo)) => {
                if ddo["id"].as_str() != Some(did) {
                    return InputStatus::Changed { detail: format!("{node} answered another asset ({})", ddo["id"]) };
                }
                let state = ddo["indexedMetadata"]["nft"]["state"].as_u64().or_else(|| ddo["nft"]["state"].as_u64());
                return match state {
                    Some(s @ 1..=3) => InputStatus::Changed {
                        detail: format!(
                            "the asset is {} (state {s}) at {node}",
                            ["", "end-of-life", "deprecated", "revoked"][s as usize]
                        ),
                    },
                    _ => InputStatus::Ok,
                };
            }
        }
    }
    if unknown.is_empty() {
        InputStatus::NotChecked { reason: format!("no Ocean node answered: {}", failed.join("; ")) }
    } else {
        InputStatus::Missing { detail: format!("not indexed at {}", unknown.join(", ")) }
    }
}

/// A JSON-RPC call's `result` (an error answer or a non-JSON body is an error line).
async fn rpc(http: &reqwest::Client, url: &str, method: &str, params: Value) -> Result<Value, String> {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let resp = http.post(url).json(&body).send().await.map_err(|e| e.to_string())?;
    let status = resp.status();
    let bytes = read_bounded(resp).await?;
    let v: Value =
        serde_json::from_slice(&bytes).map_err(|_| format!("{method}: HTTP {status}, not a JSON-RPC answer"))?;
    if let Some(e) = v.get("error") {
        return Err(format!("{method}: {}", e["message"].as_str().unwrap_or("error")));
    }
    v.get("result").cloned().ok_or_else(|| format!("{method}: no result in the answer"))
}

/// A JSON document, `None` on 404.
async fn get_json(http: &reqwest::Client, url: &str) -> Result<Option<Value>, String> {
    let resp = http.get(url).send().await.map_err(|e| e.to_string())?;
    let status = resp.status();
    if status == reqwest::StatusCode::NOT_FOUND {
        return Ok(None);
    }
    let bytes = read_bounded(resp).await?;
    if !status.is_success() {
        return Err(format!("HTTP {status}: {}", String::from_utf8_lossy(&bytes[..bytes.len().min(200)])));
    }
    serde_json::from_slice(&bytes).map(Some).map_err(|_| format!("HTTP {status} but not JSON"))
}

async fn read_bounded(mut resp: reqwest::Response) -> Result<Vec<u8>, String> {
    let mut out = vec![];
    while let Some(chunk) = resp.chunk().await.map_err(|e| e.to_string())? {
        if out.len() + chunk.len() > MAX_ANSWER {
            return Err(format!("the answer is over {} MiB", MAX_ANSWER >> 20));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

fn hex_u64(v: &Value, what: &str) -> Result<u64, String> {
    v.as_str()
        .and_then(|s| s.strip_prefix("0x"))
        .and_then(|h| u64::from_str_radix(h, 16).ok())
        .ok_or_else(|| format!("{what} is not a hex number: {v}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_are_named_once_with_their_cells() {
        let tx = Item::Tx { hash: format!("0x{}", "ab".repeat(32)), chain_id: 8996 };
        let did = Item::did("did:op:01");
        let a = [tx.clone(), Item::cid("bafy")];
        let b = [tx.clone(), did.clone()];
        let f = facts([(1, &a[..]), (3, &b[..])]);
        assert_eq!(f.len(), 2, "{f:?}");
        assert_eq!(f[&tx.label()].1, BTreeSet::from([1, 3]));
        assert_eq!(f[&did.label()].1, BTreeSet::from([3]));
    }

    #[test]
    fn endpoints_from_env_then_the_devnet() {
        let home = tempfile::tempdir().unwrap();
        assert_eq!(Endpoints::discover(|_| None, home.path()), Endpoints::default());
        std::fs::create_dir_all(home.path().join("ocean/devnet")).unwrap();
        std::fs::write(
            home.path().join("ocean/devnet/devnet.json"),
            r#"{"rpc_url":"http://127.0.0.1:8545","node_url":"http://127.0.0.1:8001","chain_id":8996}"#,
        )
        .unwrap();
        let env = |k: &str| (k == "KELP_RPC_URL").then(|| "http://rpc.example".to_string());
        let e = Endpoints::discover(env, home.path());
        assert_eq!(e.rpc, vec!["http://rpc.example", "http://127.0.0.1:8545"]);
        assert_eq!(e.nodes, vec!["http://127.0.0.1:8001"]);
    }

    #[test]
    fn nothing_to_ask_is_not_checked_with_how_to_fix() {
        let tx = Item::Tx { hash: format!("0x{}", "cd".repeat(32)), chain_id: 11155111 };
        let did = Item::did("did:op:02");
        let items = [tx, did];
        let rows = check(facts([(2, &items[..])]), &Endpoints::default());
        assert_eq!(rows.len(), 2);
        for r in &rows {
            let InputStatus::NotChecked { reason } = &r.status else { panic!("{r:?}") };
            assert!(reason.contains("KELP_RPC_URL") || reason.contains("KELP_OCEAN_NODE_URL"), "{reason}");
        }
    }
}
