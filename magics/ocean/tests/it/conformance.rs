//! Conformance of kelp's own node with a real Ocean Node v3.1.0 (issue #10, server half).
//!
//! On the real devnet, kelp publishes a free, a fixed-price and an algorithm asset and orders
//! the first two as account #2; then every compared
//! transcript record (below) is sent to kelp's node: the recorded request with the recorded
//! assets' DIDs, NFT addresses, transactions and documents replaced by kelp's, and signatures made
//! fresh with the same anvil dev key over the same address text (a recorded signature that does
//! not verify is replaced by one over the wrong command; a record whose nonce was refused as used
//! resends the last nonce and signature that address used). kelp's answer must have the
//! recorded status, the recorded content type, and: for JSON, the recorded JSON shape
//! (recursively the same keys and value types; each array element shaped like one of the
//! recorded elements); for an error text, the recorded text (numbers aside).
//!
//! Compared: step 1 — `GET /`, nonces, encrypt (all but encryptFile); step 2 — DDO routes,
//! validate, queries and `state/ddo`; step 3 — fileInfo of url files, of {did, serviceId} and its
//! errors; step 4 — every initialize record; step 5 — every download record (kelp's free asset, a
//! url file served as octet-stream, stands for the recorded IPFS one); step 6 — the decryptDDO
//! records of kelp's free, fixed-price and algorithm assets (the indexer's and the direct ones);
//! step 7 — those listed below; step 8 — unknown route, CORS preflight, `indexQueue`, double
//! slashes.
//!
//! Not compared, and why:
//! - `encrypt_file_*` (step 1): kelp's node has no `encryptFile` route (its answer is not usable
//!   ciphertext on the real node either).
//! - `validate_ddo_invalid` is compared up to "Validation error: ": kelp's node names what is
//!   wrong where Ocean Node writes "[object Object]".
//! - `ddo_unlisted_state5`, `indexer_decrypt_ddo_{v4_3_0,v4_7_0}` and the `publish_v4.*`
//!   records: assets of DDO versions and states kelp does not publish.
//! - `kelp_publish_poll_ddo_*`: timing-dependent (before/after indexing); the found/unknown
//!   shapes are compared through `ddo_found`/`ddo_unknown_did`.
//! - `fileinfo_ipfs_gateway_{up,down}`, `fileinfo_did_service_gateway_down`: kelp's node reads
//!   IPFS from its own block store (the recorded CID is not in it) and has no gateway to take
//!   down.
//! - step 7 (compute): compared are the unsigned start and result, `compute_status_none`, the
//!   DELETE answer, initializeCompute's field checks (`Missing algorithm`, `Missing dataset
//!   did`, the required-fields text for a missing `payment`, kelp's own old body included),
//!   an unknown environment on initialize and start (500 "Invalid C2D Environment", after the
//!   signature on start), and job ids of no engine of this node on status, result, logs and stop
//!   (500, signed or not for stop), `freeCompute` on an unknown environment. The other "no
//!   engine" records do not apply (kelp's node has an engine); the rest still differ: kelp's
//!   `freeCompute` takes a published algorithm without `meta.container` (its free environment
//!   also takes `POST compute`); its environments are two (free, and paid through Escrow) where
//!   Ocean Node's one carries both `fees` and `free`, so each is compared with the recorded
//!   `compute_environments_docker` entry without the part it leaves to the other (every other
//!   field, `access`, queue counters and resource `type` included, has Ocean Node's shape); and
//!   the job and result records name assets kelp does not publish.
//! - `rate_limit_*` (step 8): recorded with the limit lowered to 3 for every route; compared by
//!   kelp-ocean-node's `tests/it/rate_limit.rs` against a node with that limit.

use alloy::primitives::{Address, B256, keccak256};
use alloy::providers::Provider;
use kelp_ocean::consume;
use kelp_ocean::contracts::IERC721Template::MetadataCreated;
use kelp_ocean::journal::Journal;
use kelp_ocean::publish::{self, AssetType, Container, Price};
use kelp_ocean::signer::{LocalKeySigner, Signer};
use serde_json::{Map, Value, json};
use std::collections::HashMap;

use crate::common;
use common::replay::{Record, kind, load};
use common::{serve, url_dataset as spec};

const MISMATCH: &str = "consumer address and nonce signature mismatch";
const COMPARED_STEPS: [u64; 8] = [1, 2, 3, 4, 5, 6, 7, 8];
const SKIPPED: &[&str] = &[
    "encrypt_file_json_url_object",
    "encrypt_file_raw_ecies",
    "encrypt_file_unsigned",
    "encrypt_file_bad_content_type",
    "ddo_unlisted_state5",
    "kelp_publish_poll_ddo_not_yet_indexed",
    "kelp_publish_poll_ddo_indexed",
    "indexer_decrypt_ddo_v4_3_0",
    "indexer_decrypt_ddo_v4_7_0",
    "fileinfo_ipfs_gateway_up",
    "fileinfo_ipfs_gateway_down",
    "fileinfo_did_service_gateway_down",
];

/// The anvil dev accounts the transcripts use, by address.
const DEV: [(usize, &str); 6] = [
    (1, "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"),
    (2, "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"),
    (3, "0x90F79bf6EB2c4f870365E785982E1f101E93b906"),
    (4, "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65"),
    (5, "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc"),
    (9, "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720"),
];

/// The step-7 (compute) records compared so far; see the module docs for the others.
const COMPUTE_COMPARED: &[&str] = &[
    "compute_start_unsigned",
    "compute_status_none",
    "compute_result_unsigned",
    "compute_delete",
    "initialize_compute_no_env",
    "initialize_compute_missing_algorithm",
    "initialize_compute_dataset_without_did",
    "initialize_compute_missing_payment",
    "kelp_c2d_initialize_compute_without_payment",
    "compute_start_no_env",
    "compute_status_unknown_job",
    "compute_result_unknown_job",
    "compute_streamable_logs_unknown_job",
    "compute_stop_put_unknown_job",
    "compute_stop_put_unsigned",
    "free_compute_start_no_env",
];

fn compared(r: &Record, step: u64) -> bool {
    let name = r.name.as_str();
    if step == 7 {
        return COMPUTE_COMPARED.contains(&name);
    }
    // The rate-limit records need a node with their lowered limit: kelp-ocean-node's tests/it/rate_limit.rs.
    let elsewhere = name.starts_with("rate_limit_");
    COMPARED_STEPS.contains(&step) && !SKIPPED.contains(&name) && !name.starts_with("publish_v4.") && !elsewhere
}

/// The command a route's signature covers.
fn command(method: &str, path: &str) -> &'static str {
    match (method, path.rsplit('/').next()) {
        (_, Some("decrypt")) => "decryptDDO",
        (_, Some("download")) => "download",
        (_, Some("validate")) => "validateDDO",
        ("PUT", Some("compute")) => "stopCompute",
        (_, Some("compute")) => "startCompute",
        (_, Some("freeCompute")) => "freeStartCompute",
        (_, Some("computeResult")) => "getComputeResult",
        (_, Some("computeStreamableLogs")) => "getComputeStreamableLogs",
        _ => "encrypt",
    }
}

/// Differences of shape between kelp's answer and the recorded one.
fn shape_diff(at: &str, got: &Value, want: &Value, out: &mut Vec<String>) {
    if kind(got) != kind(want) {
        out.push(format!("{at}: kelp answers a {}, Ocean Node a {}", kind(got), kind(want)));
        return;
    }
    match (got, want) {
        // Which routes a node lists is what it serves; each entry is [METHOD, path].
        (Value::Object(g), Value::Object(_)) if at.ends_with(".serviceEndpoints") => {
            for (k, v) in g {
                let ok = v.as_array().is_some_and(|e| e.len() == 2 && e.iter().all(Value::is_string));
                if !ok {
                    out.push(format!("{at}.{k}: not [METHOD, path]"));
                }
            }
        }
        (Value::Object(g), Value::Object(w)) => {
            for k in w.keys().filter(|k| !g.contains_key(*k)) {
                out.push(format!("{at}.{k}: missing"));
            }
            for k in g.keys().filter(|k| !w.contains_key(*k)) {
                out.push(format!("{at}.{k}: not in Ocean Node's answer"));
            }
            for (k, v) in g {
                if let Some(wv) = w.get(k) {
                    shape_diff(&format!("{at}.{k}"), v, wv, out);
                }
            }
        }
        // Each element must have the shape of one of the recorded elements (lists mix kinds of
        // assets, in another order).
        (Value::Array(g), Value::Array(w)) if !w.is_empty() => {
            for (i, a) in g.iter().enumerate() {
                let diffs: Vec<Vec<String>> = w
                    .iter()
                    .map(|b| {
                        let mut d = Vec::new();
                        shape_diff(&format!("{at}[{i}]"), a, b, &mut d);
                        d
                    })
                    .collect();
                if diffs.iter().all(|d| !d.is_empty()) {
                    out.extend(diffs.into_iter().min_by_key(Vec::len).unwrap_or_default());
                }
            }
        }
        _ => {}
    }
}

/// Replace every string found in `map` (whole value or inside a string).
fn substitute(v: &Value, map: &[(String, String)]) -> Value {
    match v {
        Value::String(s) => {
            let mut s = s.clone();
            for (from, to) in map {
                s = s.replace(from.as_str(), to);
            }
            Value::String(s)
        }
        Value::Array(a) => Value::Array(a.iter().map(|x| substitute(x, map)).collect()),
        Value::Object(o) => Value::Object(o.iter().map(|(k, x)| (k.clone(), substitute(x, map))).collect()),
        other => other.clone(),
    }
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Whether `sig` is `address`'s signature over `address + nonce + command`.
fn verifies(address: &str, nonce: &str, command: &str, sig: &str) -> bool {
    let Ok(want) = address.parse::<Address>() else { return false };
    kelp_ocean_wire::auth::verify_request(address, nonce.parse().unwrap_or(0), command, sig)
        && alloy::hex::decode(sig).is_ok()
        && want != Address::ZERO
}

/// `signer`'s signature over `address + nonce + command`, as Ocean Node checks it.
async fn sign_as(signer: &LocalKeySigner, address: &str, nonce: u64, command: &str) -> String {
    let hash = keccak256(format!("{address}{nonce}{command}").as_bytes());
    let sig = signer.personal_sign(hash.as_slice()).await.unwrap();
    format!("0x{}", alloy::hex::encode(sig.as_bytes()))
}

struct Signing {
    rpc: String,
    base: String,
    http: reqwest::Client,
    /// The last good (nonce, signature) each address text used.
    last: HashMap<String, (String, String)>,
}

impl Signing {
    /// Sign with the dev key of `address` (#5, the "other key", for an address not in [`DEV`]).
    async fn sign(&self, address: &str, nonce: u64, command: &str) -> String {
        let n = DEV.iter().find(|(_, a)| a.eq_ignore_ascii_case(address)).map(|(n, _)| *n).unwrap_or(5);
        sign_as(&LocalKeySigner::dev_account(n, &self.rpc, 8996).unwrap(), address, nonce, command).await
    }

    /// Fresh `(nonce, signature)` for a recorded signed request.
    async fn resign(&mut self, r: &Record, address: &str, nonce: &str, sig: &str) -> (String, String) {
        let cmd = command(r.request["method"].as_str().unwrap_or(""), r.request["path"].as_str().unwrap_or(""));
        let refused_nonce = r.response["body"].as_str().is_some_and(|b| b.ends_with("is not a valid nonce"));
        if refused_nonce && let Some(last) = self.last.get(address) {
            return last.clone();
        }
        let url = format!("{}/api/services/nonce?userAddress={address}", self.base);
        let current: Value = self.http.get(url).send().await.unwrap().json().await.unwrap();
        let n = current["nonce"].as_str().and_then(|n| n.parse::<u64>().ok()).unwrap_or(0) + 1;
        let good = verifies(address, nonce, cmd, sig);
        let signed = self.sign(address, n, if good { cmd } else { "wrongCommand" }).await;
        let out = (n.to_string(), signed);
        if good {
            self.last.insert(address.to_string(), out.clone());
        }
        out
    }
}

/// Send the record's request to kelp's node (after substitution and re-signing).
async fn send(
    http: &reqwest::Client,
    base: &str,
    r: &Record,
    map: &[(String, String)],
    sg: &mut Signing,
) -> reqwest::Response {
    let req = substitute(&r.request, map);
    let method: reqwest::Method = req["method"].as_str().unwrap().parse().unwrap();
    let mut query: Map<String, Value> = req["query"].as_object().cloned().unwrap_or_default();
    let mut body = req.get("body").cloned();
    // Re-sign where the record carries a signature (in the query or in a JSON body).
    for holder in [Some(&mut query), body.as_mut().and_then(Value::as_object_mut)].into_iter().flatten() {
        let addr_key =
            ["consumerAddress", "decrypterAddress", "publisherAddress"].into_iter().find(|k| holder.contains_key(*k));
        if let (Some(k), Some(sig)) = (addr_key, holder.get("signature").and_then(text)) {
            let address = holder[k].as_str().unwrap_or_default().to_string();
            let nonce = holder.get("nonce").and_then(text).unwrap_or_default();
            if address.parse::<Address>().is_ok() {
                let (n, s) = sg.resign(r, &address, &nonce, &sig).await;
                let n_value = if holder["nonce"].is_number() { json!(n.parse::<u64>().unwrap()) } else { json!(n) };
                holder.insert("nonce".into(), n_value);
                holder.insert("signature".into(), json!(s));
            }
        }
    }
    let pairs: Vec<(String, String)> = query.iter().map(|(k, v)| (k.clone(), text(v).unwrap_or_default())).collect();
    let mut rb = http.request(method, format!("{base}{}", req["path"].as_str().unwrap())).query(&pairs);
    for (k, v) in req["headers"].as_object().cloned().unwrap_or_default() {
        rb = rb.header(k.as_str(), v.as_str().unwrap_or_default());
    }
    match body {
        Some(Value::String(s)) => rb = rb.body(s),
        Some(v) if !v.is_null() => rb = rb.body(serde_json::to_vec(&v).unwrap()),
        _ => {}
    }
    rb.send().await.unwrap()
}

/// What differs between kelp's answer and the recorded one.
async fn compare(r: &Record, res: reqwest::Response) -> Vec<String> {
    let mut out = Vec::new();
    let want = &r.response;
    if res.status().as_u16() as u64 != want["status"].as_u64().unwrap() {
        out.push(format!("status {} (Ocean Node: {})", res.status(), want["status"]));
    }
    let ct = res.headers().get("content-type").map(|v| v.to_str().unwrap_or_default().to_string());
    let want_ct = want["headers"]["content-type"].as_str().map(str::to_string);
    if ct != want_ct {
        out.push(format!("content-type {ct:?} (Ocean Node: {want_ct:?})"));
    }
    let body = res.text().await.unwrap_or_default();
    let json_answer = want_ct.as_deref().is_some_and(|c| c.starts_with("application/json"));
    if json_answer {
        match serde_json::from_str::<Value>(&body) {
            Ok(got) => shape_diff("body", &got, &want["body"], &mut out),
            Err(_) => out.push(format!("body is not JSON: {body}")),
        }
    } else if want["status"].as_u64().unwrap() >= 400 {
        // Error texts must be the same, numbers aside; of an Express page with a stack trace,
        // the page up to its <pre>.
        let full = want["body"].as_str().unwrap_or_default();
        let (recorded, body) = match full.contains("&nbsp;at ") {
            true => (
                full.split("<pre>").next().unwrap_or_default(),
                body.split("<pre>").next().unwrap_or_default().to_string(),
            ),
            false => (full, body),
        };
        // kelp's node names what is invalid where Ocean Node writes "[object Object]".
        let (recorded, body) = match r.name.as_str() {
            "validate_ddo_invalid" => {
                let cut = |t: &str| t.split_inclusive(": ").next().unwrap_or_default().to_string();
                (cut(recorded), cut(&body))
            }
            _ => (recorded.to_string(), body),
        };
        let recorded = recorded.as_str();
        let digits = |t: &str| {
            let mut out = String::new();
            for c in t.chars() {
                let c = if c.is_ascii_digit() { 'N' } else { c };
                if !(c == 'N' && out.ends_with('N')) {
                    out.push(c);
                }
            }
            out
        };
        if digits(&body) != digits(recorded) {
            out.push(format!("text {body:?} (Ocean Node: {recorded:?})"));
        }
    }
    out.into_iter().map(|d| format!("{}: {d}", r.name)).collect()
}

/// Serve `/priced.csv` as `text/csv; charset=utf-8`, as the recorded origin did.
async fn serve_csv() -> String {
    let csv = || async { ([("content-type", "text/csv; charset=utf-8")], "priced,file\n42,43\n") };
    let app = axum::Router::new().route("/priced.csv", axum::routing::get(csv));
    let l = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    url
}

#[tokio::test]
async fn kelps_node_answers_like_ocean_node_v3_1_0() {
    let records = load();
    let steps: Vec<u64> = {
        let path = common::replay::transcripts_path();
        let text = std::fs::read_to_string(path).unwrap();
        text.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()["step"].as_u64().unwrap()).collect()
    };
    let devnet = common::own_devnet().await;
    let (net, ocean_dir) = (&devnet.net, &devnet.ocean_dir);
    let base = net.node_url.clone().unwrap();
    let files = serve(vec![("data.csv", b"a,b\n1,2\n"), ("reefs.csv", b"site,temp\nN1,11.5\n")]).await;
    let url = format!("{files}/data.csv");
    let priced_url = format!("{}/priced.csv", serve_csv().await);
    let journal = Journal::new(ocean_dir);
    let publisher = LocalKeySigner::dev_account(1, &net.rpc_url, 8996).unwrap();
    let mut quiet = |_: &str| {};
    let free =
        publish::publish(net, &publisher, &spec("Reef free", Price::Free, &url), &journal, &mut quiet).await.unwrap();
    let fixed =
        Price::Fixed { amount: alloy::primitives::utils::parse_ether("1").unwrap(), token: net.addresses.ocean };
    let priced = publish::publish(net, &publisher, &spec("Reef priced", fixed, &priced_url), &journal, &mut quiet)
        .await
        .unwrap();
    // An algorithm (kelp's stands for both recorded ones: the IPFS one and busybox).
    let mut algo_spec = spec("Reef model", Price::Free, &format!("{files}/reefs.csv"));
    algo_spec.kind = AssetType::Algorithm;
    algo_spec.container = Some(Container {
        image: "busybox".into(),
        tag: "latest".into(),
        entrypoint: "sh $ALGO".into(),
        checksum: format!("sha256:{}", "0".repeat(64)),
    });
    let algo = publish::publish(net, &publisher, &algo_spec, &journal, &mut quiet).await.unwrap();
    let http = reqwest::Client::new();

    // kelp's assets in place of the recorded ones.
    let ddo: Value =
        http.get(format!("{base}/api/aquarius/assets/ddo/{}", free.did)).send().await.unwrap().json().await.unwrap();
    let meta_tx: B256 = ddo["indexedMetadata"]["event"]["txid"].as_str().expect("indexed event txid").parse().unwrap();
    let receipt = net.provider.get_transaction_receipt(meta_tx).await.unwrap().unwrap();
    let created = receipt.inner.logs().iter().find_map(|l| l.log_decode::<MetadataCreated>().ok()).unwrap().inner.data;
    // Orders by account #2, as in the recordings.
    let consumer = LocalKeySigner::dev_account(2, &net.rpc_url, 8996).unwrap();
    let free_order = consume::get(net, &consumer, &free.did, 0, &mut quiet).await.unwrap().order_tx;
    let priced_order = consume::get(net, &consumer, &priced.did, 0, &mut quiet).await.unwrap().order_tx;
    let recorded = |name: &str| records.iter().find(|r| r.name == name).unwrap().request["body"].clone();
    let doc_ok = recorded("decrypt_by_document_ok");
    let mut map: Vec<(String, String)> = vec![
        ("http://127.0.0.1:18090".into(), files.clone()),
        ("did:op:5596a837c68a80a781220447646381af05f82d7062e47727da68c6409caecc8d".into(), free.did.clone()),
        ("did:op:1b1e94cca5b84473bc2e4b47bd5c8c8d64acb43e0ae32e610a89854d867db87d".into(), priced.did.clone()),
        ("0x8aCd85898458400f7Db866d53FCFF6f0D49741FF".into(), free.nft.to_checksum(None)),
        ("0x788F1E4a99fa704Edb43fAE71946cFFDDcC16ccB".into(), priced.nft.to_checksum(None)),
        ("0x788f1e4a99fa704edb43fae71946cffddcc16ccb".into(), format!("{:?}", priced.nft).to_lowercase()),
        ("0x0a1f4c65791160cfaeb50d569eb768c5b7205dc719db6e8afe96464562a8bedb".into(), format!("{meta_tx:?}")),
        ("0x5240b62e116fbc58b27fa06720e78e548ae34abe36efe55af13bc03299665fdb".into(), format!("{free_order:?}")),
        ("0x6f9d3e70d5b6d0c3e1753c7a84064b1a01f07eec3125cc2b098c03140fb1b005".into(), format!("{priced_order:?}")),
        (doc_ok["encryptedDocument"].as_str().unwrap().into(), format!("0x{}", alloy::hex::encode(&created.data))),
        (doc_ok["documentHash"].as_str().unwrap().into(), format!("{:?}", created.metaDataHash)),
    ];
    // Other indexers' decrypt calls name the other recorded assets' transactions: kelp's free one.
    let priced_ddo: Value =
        http.get(format!("{base}/api/aquarius/assets/ddo/{}", priced.did)).send().await.unwrap().json().await.unwrap();
    let priced_tx = priced_ddo["indexedMetadata"]["event"]["txid"].as_str().unwrap().to_string();
    map.push((recorded("indexer_decrypt_ddo_fixed_price_asset")["transactionId"].as_str().unwrap().into(), priced_tx));
    let algo_ddo: Value =
        http.get(format!("{base}/api/aquarius/assets/ddo/{}", algo.did)).send().await.unwrap().json().await.unwrap();
    let algo_tx = algo_ddo["indexedMetadata"]["event"]["txid"].as_str().unwrap().to_string();
    let recorded_algo = recorded("indexer_decrypt_ddo_algorithm_asset");
    map.push((recorded_algo["transactionId"].as_str().unwrap().into(), algo_tx));
    map.push((recorded_algo["dataNftAddress"].as_str().unwrap().into(), algo.nft.to_checksum(None)));
    let busybox = "did:op:96a23d174e2f39f35a6b06a45d1e1f2c605f6a4543c896c5ea6cf178d6e10306";
    map.push((busybox.into(), algo.did.clone()));

    let mut sg = Signing { rpc: net.rpc_url.clone(), base: base.clone(), http: http.clone(), last: HashMap::new() };
    let mut problems = Vec::new();
    let mut per_step: HashMap<u64, usize> = HashMap::new();
    for (r, step) in records.iter().zip(steps) {
        if !compared(r, step) {
            continue;
        }
        *per_step.entry(step).or_default() += 1;
        let res = send(&http, &base, r, &map, &mut sg).await;
        problems.extend(compare(r, res).await);
    }
    eprintln!("compared per step: {per_step:?}");

    // decryptDDO for "another node's indexer" (dev key #6, never used above): the DDO text whose
    // sha256 is the on-chain metaDataHash; an unknown transaction gets Ocean Node's 400.
    let indexer = LocalKeySigner::dev_account(6, &net.rpc_url, 8996).unwrap();
    let who = indexer.account().to_checksum(None);
    let ask = |tx: String, nonce: u64, sig: String| {
        json!({"transactionId": tx, "chainId": 8996, "decrypterAddress": who, "dataNftAddress": free.nft.to_checksum(None),
               "nonce": nonce.to_string(), "signature": sig})
    };
    let decrypt_url = format!("{base}/api/services/decrypt");
    let sig = sign_as(&indexer, &who, 1, "decryptDDO").await;
    let res = http.post(&decrypt_url).json(&ask(format!("{meta_tx:?}"), 1, sig)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let plain = res.bytes().await.unwrap();
    assert!(kelp_ocean::ddo::hash_matches(&plain, &created.metaDataHash.0), "decrypted DDO is the one hashed on chain");
    assert_eq!(serde_json::from_slice::<Value>(&plain).unwrap()["id"], free.did);
    let sig = sign_as(&indexer, &who, 2, "decryptDDO").await;
    let res = http.post(&decrypt_url).json(&ask(format!("{:?}", B256::repeat_byte(7)), 2, sig)).send().await.unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(res.text().await.unwrap(), "Decrypt DDO: Failed to process transaction id");
    let sig = sign_as(&indexer, &who, 3, "decryptDDO").await;
    let mut replayed = ask(format!("{meta_tx:?}"), 2, sig);
    replayed["nonce"] = json!("2");
    let res = http.post(&decrypt_url).json(&replayed).send().await.unwrap();
    assert_eq!((res.status().as_u16(), res.text().await.unwrap()), (401, MISMATCH.to_string()));
    // The environments: Ocean Node's one Docker environment carries `fees` and `free`; kelp's
    // node lists them apart (free, then paid through Escrow), each shaped like the recorded one
    // without the part it leaves to the other.
    let envs: Value =
        http.get(format!("{base}/api/services/computeEnvironments")).send().await.unwrap().json().await.unwrap();
    let recorded = &records.iter().find(|r| r.name == "compute_environments_docker").unwrap().response["body"][0];
    for (env, apart) in [(&envs[0], "fees"), (&envs[1], "free")] {
        let (mut got, mut want) = (env.clone(), recorded.clone());
        for v in [&mut got, &mut want] {
            v.as_object_mut().unwrap().remove(apart);
        }
        shape_diff(&format!("computeEnvironments {}", env["id"]), &got, &want, &mut problems);
    }
    assert!(problems.is_empty(), "{} differences from Ocean Node v3.1.0:\n{}", problems.len(), problems.join("\n"));
    assert_eq!(per_step.values().sum::<usize>(), 133, "records compared: {per_step:?}");
}
