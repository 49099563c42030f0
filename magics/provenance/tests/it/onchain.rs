//! `kelp verify --network`'s chain check: transactions looked up on a real anvil (a mined one,
//! a reverted one, an unknown hash, one on a chain nobody serves), DIDs resolved at a replay of a
//! real Ocean Node v3.1.0's recorded answers (`shared/ocean-node-v3.1.0/transcripts.jsonl`: an
//! indexed asset, an unknown DID, an unlisted asset in state 5) and at a node that is down.

use kelp_magic::Item;
use kelp_provenance::onchain::{Endpoints, FactRow, check, facts};
use kelp_provenance::verify::InputStatus;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

struct Anvil(Child, String);

impl Drop for Anvil {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A real anvil (`KELP_ANVIL`, else the repo's install/.tools copy) on a free port.
fn anvil() -> Anvil {
    let bin = std::env::var("KELP_ANVIL")
        .map(PathBuf::from)
        .unwrap_or_else(|_| repo().join("install/.tools/chain/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"));
    assert!(bin.exists(), "{} is missing: run ./install/setup (or set KELP_ANVIL)", bin.display());
    let port = free_port();
    let child = Command::new(&bin)
        .args(["--port", &port.to_string(), "--chain-id", "8996", "--silent"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let a = Anvil(child, format!("http://127.0.0.1:{port}"));
    for _ in 0..200 {
        if rpc(&a.1, "eth_chainId", json!([])).is_some() {
            return a;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("anvil did not answer at {}", a.1);
}

/// A blocking JSON-RPC call on a runtime of its own (`None` when anvil is not up yet).
fn rpc(url: &str, method: &str, params: Value) -> Option<Value> {
    let url = url.to_string();
    let method = method.to_string();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
            let r = reqwest::Client::new().post(&url).json(&body).send().await.ok()?;
            let v: Value = r.json().await.ok()?;
            v.get("result").cloned()
        })
    })
    .join()
    .unwrap()
}

/// Serves the recorded answers of `names` (method GET, same path) until the test ends.
fn replay(names: &[&str]) -> String {
    let path = repo().join("../shared/ocean-node-v3.1.0/transcripts.jsonl");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let records: Vec<Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|r| names.contains(&r["name"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(records.len(), names.len(), "the transcripts lack some of {names:?}");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut r = BufReader::new(stream);
            let mut line = String::new();
            r.read_line(&mut line).unwrap_or_default();
            let mut len = 0usize;
            loop {
                let mut h = String::new();
                if r.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
                    break;
                }
                if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; len];
            let _ = r.read_exact(&mut body);
            let mut parts = line.split_whitespace();
            let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
            let rec = records.iter().find(|x| x["request"]["method"] == method && x["request"]["path"] == target);
            let (status, ctype, body) = match rec {
                Some(x) => {
                    let b = &x["response"]["body"];
                    let body = b.as_str().map(str::to_string).unwrap_or_else(|| b.to_string());
                    let ctype = x["response"]["headers"]["content-type"].as_str().unwrap_or("text/plain").to_string();
                    (x["response"]["status"].as_u64().unwrap_or(500), ctype, body)
                }
                None => (599, "text/plain".into(), format!("no recorded answer for {method} {target}")),
            };
            let mut s = r.into_inner();
            let _ = write!(
                s,
                "HTTP/1.1 {status} X\r\ncontent-type: {ctype}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    url
}

fn row<'a>(rows: &'a [FactRow], it: &Item) -> &'a FactRow {
    rows.iter().find(|r| &r.fact == it).unwrap_or_else(|| panic!("no row for {it:?} in {rows:?}"))
}

#[test]
fn transactions_are_looked_up_on_their_chain() {
    let a = anvil();
    let from = rpc(&a.1, "eth_accounts", json!([])).unwrap()[0].as_str().unwrap().to_string();
    let sent = rpc(&a.1, "eth_sendTransaction", json!([{"from": from, "to": from, "value": "0x1"}])).unwrap();
    // Init code PUSH1 0 PUSH1 0 REVERT: a contract creation that reverts (gas given, so no estimate).
    let reverted =
        rpc(&a.1, "eth_sendTransaction", json!([{"from": from, "data": "0x60006000fd", "gas": "0x30000"}])).unwrap();
    let mined = Item::Tx { hash: sent.as_str().unwrap().into(), chain_id: 8996 };
    let bad = Item::Tx { hash: reverted.as_str().unwrap().into(), chain_id: 8996 };
    let unknown = Item::Tx { hash: format!("0x{}", "12".repeat(32)), chain_id: 8996 };
    let elsewhere = Item::Tx { hash: format!("0x{}", "34".repeat(32)), chain_id: 137 };
    let garbled = Item::Tx { hash: "0xnot-a-hash".into(), chain_id: 8996 };
    let one = [mined.clone(), bad.clone()];
    let two = [unknown.clone(), elsewhere.clone(), garbled.clone(), mined.clone()];
    let ends = Endpoints { rpc: vec![a.1.clone()], nodes: vec![] };
    let rows = check(facts([(1, &one[..]), (4, &two[..])]), &ends);
    assert_eq!(rows.len(), 5, "{rows:?}");
    assert_eq!(row(&rows, &mined).status, InputStatus::Ok);
    assert_eq!(row(&rows, &mined).cells, [1, 4].into());
    let InputStatus::Changed { detail } = &row(&rows, &bad).status else { panic!("{rows:?}") };
    assert!(detail.contains("reverted"), "{detail}");
    let InputStatus::Missing { detail } = &row(&rows, &unknown).status else { panic!("{rows:?}") };
    assert!(detail.contains("no such transaction") && detail.contains(&a.1), "{detail}");
    let InputStatus::NotChecked { reason } = &row(&rows, &elsewhere).status else { panic!("{rows:?}") };
    assert!(reason.contains("chain 137") && reason.contains("KELP_RPC_URL"), "{reason}");
    let InputStatus::Changed { detail } = &row(&rows, &garbled).status else { panic!("{rows:?}") };
    assert!(detail.contains("not a transaction hash"), "{detail}");
}

#[test]
fn dids_are_resolved_at_a_real_nodes_recorded_answers() {
    let node = replay(&["ddo_found", "ddo_unknown_did", "ddo_unlisted_state5"]);
    let down = format!("http://127.0.0.1:{}", free_port());
    let found = Item::did("did:op:5596a837c68a80a781220447646381af05f82d7062e47727da68c6409caecc8d");
    let unlisted = Item::did("did:op:68c63c796059ce1e46bc739120f7aafb4b5645ad8faa361dfe0550dcc30a755c");
    let unknown = Item::did(format!("did:op:{}", "0".repeat(64)));
    let items = [found.clone(), unlisted.clone(), unknown.clone()];
    // The node that is down is asked first: a node that knows the asset still settles it.
    let ends = Endpoints { rpc: vec![], nodes: vec![down.clone(), node.clone()] };
    let rows = check(facts([(2, &items[..])]), &ends);
    assert_eq!(row(&rows, &found).status, InputStatus::Ok, "{rows:?}");
    assert_eq!(row(&rows, &unlisted).status, InputStatus::Ok, "state 5 (unlisted) still stands: {rows:?}");
    let InputStatus::Missing { detail } = &row(&rows, &unknown).status else { panic!("{rows:?}") };
    assert!(detail.contains("not indexed at") && detail.contains(&node), "{detail}");
    // Only a node that is down: not checked, naming it.
    let only_down = Endpoints { rpc: vec![], nodes: vec![down.clone()] };
    let rows = check(facts([(2, &items[..1])]), &only_down);
    let InputStatus::NotChecked { reason } = &rows[0].status else { panic!("{rows:?}") };
    assert!(reason.contains("no Ocean node answered") && reason.contains(&down), "{reason}");
}
