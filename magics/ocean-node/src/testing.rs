//! Test support (feature `testing`, for this crate's tests and kelp-ocean's): a kelp node running
//! in this process (its real router, state and fetch policy) with one asset put straight into its
//! index — a DDO whose `files` are encrypted to the node's key, exactly what the indexer stores —
//! so `fileInfo` can be driven without a chain; a loopback origin server whose `/secret` counts
//! how often it is reached; and the recorded transcripts of a real Ocean Node v3.1.0
//! (`shared/ocean-node-v3.1.0/transcripts.jsonl` beside the clone, or `$KELP_OCEAN_TRANSCRIPTS`).

use crate::fetch::FetchPolicy;
use crate::{Node, NodeConfig};
use alloy::primitives::Address;
use alloy::signers::local::PrivateKeySigner;
use axum::body::{Body, Bytes};
use axum::http::header;
use axum::response::Redirect;
use axum::routing::get;
use kelp_ocean_wire::addresses::OceanAddresses;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// What the origin's `/data.csv` answers.
pub const DATA_CSV: &str = "a,b\n1,2\n";

pub const DATATOKEN: Address = Address::repeat_byte(0x42);

/// Size of the `/huge` answers: 600 MiB, generated lazily from one static 64 KiB buffer.
pub const HUGE: usize = 600 * 1024 * 1024;
const CHUNK: usize = 64 * 1024;
static ZEROS: [u8; CHUNK] = [0; CHUNK];

fn huge() -> Body {
    Body::from_stream(futures::stream::iter(
        (0..HUGE / CHUNK).map(|_| Ok::<_, std::io::Error>(Bytes::from_static(&ZEROS))),
    ))
}

/// A loopback origin: `/data.csv` ([`DATA_CSV`]), `/secret` (hits counted), `/to-secret` (302 to
/// `http://127.0.0.1:P/secret`), `/to-data` (302 to `/data.csv`), `/loop` (302 to itself), `/huge`
/// ([`HUGE`] bytes, no length) and `/huge-announced` (the same with its Content-Length).
/// Returns (port, hits of `/secret`).
pub async fn origin() -> (u16, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let l = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let port = l.local_addr().unwrap().port();
    let h = hits.clone();
    let app = axum::Router::new()
        .route("/data.csv", get(|| async { DATA_CSV }))
        .route("/to-data", get(|| async { Redirect::temporary("/data.csv") }))
        .route("/loop", get(|| async { Redirect::temporary("/loop") }))
        .route(
            "/secret",
            get(move || {
                h.fetch_add(1, Ordering::SeqCst);
                async { "internal secret" }
            }),
        )
        .route(
            "/to-secret",
            get(move || async move { Redirect::temporary(&format!("http://127.0.0.1:{port}/secret")) }),
        )
        .route("/huge", get(|| async { huge() }))
        .route("/huge-announced", get(|| async { ([(header::CONTENT_LENGTH, HUGE.to_string())], huge()) }));
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (port, hits)
}

/// Peak resident set of process `pid` ("self" for this one), in MiB.
pub fn peak_rss_mib(pid: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() / 1024
}

pub fn hits(h: &AtomicUsize) -> usize {
    h.load(Ordering::SeqCst)
}

fn addresses() -> OceanAddresses {
    serde_json::from_value(json!({
        "chainId": 8996, "Ocean": Address::ZERO, "OPFCommunityFeeCollector": Address::ZERO, "Router": Address::ZERO,
        "FixedPrice": Address::ZERO, "Dispenser": Address::ZERO, "ERC721Factory": Address::ZERO,
        "ERC721Template": {}, "ERC20Template": {}
    }))
    .unwrap()
}

/// Start a node with `fetch` (no chain behind it: its RPC port is closed) and index one asset,
/// `did:op:test`, whose access service "0" holds one `url` file per entry of `urls`.
/// Returns the node and its base URL.
pub async fn node_with_urls(fetch: FetchPolicy, urls: &[String]) -> (Node, String) {
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let rpc_url = format!("http://{}", dead.local_addr().unwrap());
    drop(dead);
    let config = NodeConfig {
        rpc_url,
        chain_id: 8996,
        addresses: addresses(),
        key: PrivateKeySigner::random(),
        public_url: "http://127.0.0.1:0".into(),
        ipfs: None,
        compute_dir: None,
        fetch,
    };
    let (node, _task) = crate::start(config, 0, std::future::pending()).await.unwrap();
    let files: Vec<_> = urls.iter().map(|u| json!({"type": "url", "url": u, "method": "GET"})).collect();
    let plain = json!({"datatokenAddress": DATATOKEN, "nftAddress": Address::ZERO, "files": files}).to_string();
    let cipher = node.state.encrypt(plain.as_bytes()).unwrap();
    let ddo = json!({"id": "did:op:test", "services": [{"id": "0", "type": "access", "datatokenAddress": DATATOKEN,
        "files": alloy::hex::encode(cipher)}]});
    node.state.ddos.write().unwrap().insert("did:op:test".into(), ddo);
    let base = format!("http://{}", node.local_addr);
    (node, base)
}

/// `POST /api/services/fileInfo` for `did:op:test`: (status, content type, body).
pub async fn file_info(base: &str) -> (u16, String, String) {
    let r = reqwest::Client::new()
        .post(format!("{base}/api/services/fileInfo"))
        .json(&json!({"did": "did:op:test", "serviceId": "0", "checksum": true}))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let ct = r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    (status, ct, r.text().await.unwrap())
}

/// One recorded exchange.
#[derive(Debug, Clone)]
pub struct Record {
    pub name: String,
    pub by: String,
    pub request: Value,
    pub response: Value,
}

/// Where the transcripts are: `$KELP_OCEAN_TRANSCRIPTS`, else `shared/` beside the clone.
pub fn transcripts_path() -> PathBuf {
    if let Ok(p) = std::env::var("KELP_OCEAN_TRANSCRIPTS") {
        return PathBuf::from(p);
    }
    let root = std::env::var("KELP_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.."));
    root.join("../shared/ocean-node-v3.1.0/transcripts.jsonl")
}

/// Every record of the transcripts (panics with the path when they are missing: the tests
/// need them).
pub fn load() -> Vec<Record> {
    let path = transcripts_path();
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (set KELP_OCEAN_TRANSCRIPTS to transcripts.jsonl)", path.display()));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("a transcript line is JSON");
            Record {
                name: v["name"].as_str().unwrap_or_default().to_string(),
                by: v["by"].as_str().unwrap_or_default().to_string(),
                request: v["request"].clone(),
                response: v["response"].clone(),
            }
        })
        .collect()
}

/// One record by name.
pub fn record(name: &str) -> Record {
    load().into_iter().find(|r| r.name == name).unwrap_or_else(|| panic!("no transcript named {name}"))
}
