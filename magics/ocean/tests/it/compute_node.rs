//! Compute-to-data on the local node, against the real devnet (anvil + Ocean contracts from npm +
//! the node process running the kelp-c2d bubblewrap engine), driven as a client would: raw HTTP
//! to the node's compute routes, request signatures and `startOrder` through kelp-ocean.
//! Needs bubblewrap (install/setup.d/50-c2d.sh): the test fails, never skips, without it.

use alloy::primitives::Address;
use kelp_ocean::contracts::IERC721Factory;
use kelp_ocean::devnet::DevnetPaths;
use kelp_ocean::journal::Journal;
use kelp_ocean::network::{Network, Resolver};
use kelp_ocean::provider::NodeClient;
use kelp_ocean::publish::{self, AssetType, ComputeOptions};
use kelp_ocean::signer::LocalKeySigner;
use kelp_ocean::{consume, ddo};
use kelp_ocean_wire::fees::ProviderFee;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

use crate::common;
use common::{Cleanup, env_for, serve};

const DATA: &[u8] = b"name,secret\nalice,SECRET-ROW-7f3a91\nbob,SECRET-ROW-c04e22\ncarol,SECRET-ROW-55d1b0\n";
/// Counts the dataset's lines into outputs/lines.txt (never copies the data).
const COUNT: &[u8] = b"set -e\nf=$(ls -d /data/inputs/did:op:*/0 | head -n 1)\nwc -l < \"$f\" | tr -d ' ' > /data/outputs/lines.txt\necho counted\n";
/// Would leak the dataset if it were allowed to run.
const LEAK: &[u8] = b"cat /data/inputs/did:op:*/0 > /data/outputs/stolen.csv\n";
/// Runs until stopped.
const SLEEP: &[u8] = b"echo sleeping\nsleep 60\n";

use common::shell_spec as spec;

/// A raw HTTP client of the node's compute routes.
struct Api {
    base: String,
    http: reqwest::Client,
    node: NodeClient,
}

impl Api {
    /// (status, body text).
    async fn call(&self, req: reqwest::RequestBuilder) -> (u16, Vec<u8>) {
        let r = req.send().await.unwrap();
        (r.status().as_u16(), r.bytes().await.unwrap().to_vec())
    }
    async fn post(&self, path: &str, body: &Value) -> (u16, Vec<u8>) {
        self.call(self.http.post(format!("{}{path}", self.base)).json(body)).await
    }
    async fn get(&self, path: &str, q: &[(&str, String)]) -> (u16, Vec<u8>) {
        self.call(self.http.get(format!("{}{path}", self.base)).query(q)).await
    }
    /// (address, nonce, signature) of `signer` for `command`.
    async fn sign(&self, signer: &LocalKeySigner, command: &str) -> (String, u64, String) {
        let me = signer.account();
        let nonce = self.node.nonce(me).await.unwrap() + 1;
        (me.to_checksum(None), nonce, kelp_ocean::signer::sign_node_request(signer, "", nonce, command).await.unwrap())
    }
    async fn start(&self, signer: &LocalKeySigner, body: Value) -> (u16, Vec<u8>) {
        self.start_on("/api/services/compute", "startCompute", signer, body).await
    }
    /// Start through `route`, signed with `command`.
    async fn start_on(&self, route: &str, command: &str, signer: &LocalKeySigner, body: Value) -> (u16, Vec<u8>) {
        let (addr, nonce, sig) = self.sign(signer, command).await;
        let mut b = body;
        b["consumerAddress"] = json!(addr);
        b["nonce"] = json!(nonce);
        b["signature"] = json!(sig);
        self.post(route, &b).await
    }
    async fn result(&self, signer: &LocalKeySigner, job: &str, index: usize) -> (u16, Vec<u8>) {
        let (addr, nonce, sig) = self.sign(signer, "getComputeResult").await;
        let q = [
            ("consumerAddress", addr),
            ("jobId", job.to_string()),
            ("index", index.to_string()),
            ("nonce", nonce.to_string()),
            ("signature", sig),
        ];
        self.get("/api/services/computeResult", &q).await
    }
    async fn stop(&self, signer: &LocalKeySigner, job: &str) -> (u16, Vec<u8>) {
        let (addr, nonce, sig) = self.sign(signer, "stopCompute").await;
        let q = [("consumerAddress", addr), ("signature", sig), ("nonce", nonce.to_string()), ("jobId", job.into())];
        self.call(self.http.put(format!("{}/api/services/compute", self.base)).query(&q)).await
    }
    async fn status(&self, who: Address, job: &str) -> (u16, Vec<u8>) {
        self.get("/api/services/compute", &[("consumerAddress", who.to_string()), ("jobId", job.to_string())]).await
    }
    async fn wait(&self, who: Address, job: &str) -> Value {
        let start = Instant::now();
        loop {
            let (code, body) = self.status(who, job).await;
            assert_eq!(code, 200, "{}", text(&body));
            let j: Value = serde_json::from_slice(&body).unwrap();
            let status = j[0]["status"].as_u64().unwrap();
            if status >= 41 && status != 50 && status != 60 || start.elapsed() > Duration::from_secs(90) {
                return j[0].clone();
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// A body as text; an error sent as a JSON string (POST /compute, as Ocean Node) unquoted.
fn text(b: &[u8]) -> String {
    let t = String::from_utf8_lossy(b).into_owned();
    serde_json::from_str::<String>(&t).unwrap_or(t)
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// initializeCompute, then `startOrder` of every dataset and the algorithm with the node's fees;
/// returns the compute body's `datasets` and `algorithm` with their `transferTxId`s.
async fn order_all(
    api: &Api,
    net: &Network,
    consumer: &LocalKeySigner,
    env: &str,
    datasets: &[&str],
    algo: &str,
) -> (Vec<Value>, Value) {
    let items: Vec<Value> = datasets.iter().map(|d| json!({"documentId": d, "serviceId": "0"})).collect();
    let body = json!({"datasets": items, "algorithm": {"documentId": algo, "serviceId": "0"}, "environment": env,
        "consumerAddress": consumer.account(), "payment": {"chainId": 8996, "token": net.addresses.ocean}});
    let (code, init) = api.post("/api/services/initializeCompute", &body).await;
    assert_eq!(code, 200, "{}", text(&init));
    let init: Value = serde_json::from_slice(&init).unwrap();
    let mut quiet = |_: &str| {};
    let mut ordered = Vec::new();
    for (i, d) in datasets.iter().enumerate() {
        let e = &init["datasets"][i];
        let fee: ProviderFee = serde_json::from_value(e["providerFee"].clone()).unwrap();
        let dt: Address = e["datatoken"].as_str().unwrap().parse().unwrap();
        let o = consume::order(net, consumer, d, 0, dt, &fee, &mut quiet).await.unwrap();
        ordered.push(json!({"documentId": d, "serviceId": "0", "transferTxId": o.order_tx}));
    }
    let fee: ProviderFee = serde_json::from_value(init["algorithm"]["providerFee"].clone()).unwrap();
    let dt: Address = init["algorithm"]["datatoken"].as_str().unwrap().parse().unwrap();
    let o = consume::order(net, consumer, algo, 0, dt, &fee, &mut quiet).await.unwrap();
    (ordered, json!({"documentId": algo, "serviceId": "0", "transferTxId": o.order_tx}))
}

#[tokio::test]
async fn compute_only_dataset_runs_trusted_algorithms_and_returns_only_results() {
    kelp_c2d::sandbox::bwrap_path().expect("bubblewrap is required: run install/setup (setup.d/50-c2d.sh)");
    let home = tempfile::tempdir().unwrap();
    let ocean_dir = home.path().join("ocean");
    let _cleanup = Cleanup(DevnetPaths::new(&ocean_dir));
    let port = kelp_ocean::devnet::process::free_port().unwrap();
    let env = env_for(port);
    let net = Resolver { ocean_dir: &ocean_dir, env: &env }.resolve(None).await.expect("devnet starts");
    let files = serve(vec![("data.csv", DATA), ("count.sh", COUNT), ("leak.sh", LEAK), ("sleep.sh", SLEEP)]).await;
    let journal = Journal::new(&ocean_dir);
    let publisher = LocalKeySigner::dev_account(0, &net.rpc_url, 8996).unwrap();
    let mut quiet = |_: &str| {};
    let node_url = net.node_url.clone().unwrap();
    let api = Api { base: node_url.clone(), http: reqwest::Client::new(), node: NodeClient::new(&node_url) };

    // An algorithm, then a compute-only dataset trusting it (pinned by its checksums).
    let count = spec("Line counter", AssetType::Algorithm, format!("{files}/count.sh"));
    let algo = publish::publish(&net, &publisher, &count, &journal, &mut quiet).await.unwrap();
    let leak = spec("Leaker", AssetType::Algorithm, format!("{files}/leak.sh"));
    let leaker = publish::publish(&net, &publisher, &leak, &journal, &mut quiet).await.unwrap();
    let trust = ComputeOptions { trusted_algorithms: vec![algo.did.clone()], ..ComputeOptions::default() };
    let data = spec("Secret table", AssetType::Dataset, format!("{files}/data.csv"));
    let ds = publish::publish_with(&net, &publisher, &data, Some(&trust), &journal, &mut quiet).await.unwrap();
    let services = ds.ddo["services"].as_array().unwrap();
    assert_eq!(services.len(), 1, "compute-only: no access service");
    let svc = &services[0];
    assert_eq!((svc["id"].as_str(), svc["type"].as_str()), (Some("0"), Some("compute")));
    assert_eq!(svc["compute"]["allowNetworkAccess"], false);
    assert_eq!(svc["compute"]["allowRawAlgorithm"], false);
    let pinned = &svc["compute"]["publisherTrustedAlgorithms"][0];
    assert_eq!(pinned["did"].as_str(), Some(algo.did.as_str()));
    assert_eq!(pinned["filesChecksum"].as_str().unwrap(), ddo::file_checksum(COUNT));
    assert_eq!(
        pinned["containerSectionChecksum"].as_str().unwrap(),
        ddo::container_section_checksum("sh $ALGO", count.container.as_ref().unwrap().checksum.as_str())
    );

    // A bad --trust is one clear error before any transaction.
    let factory = IERC721Factory::new(net.addresses.erc721_factory, &net.provider);
    let before = factory.getCurrentNFTCount().call().await.unwrap();
    let unknown = format!("did:op:{}", "ab".repeat(32));
    for (bad, want) in [(unknown.as_str(), "does not know this DID"), (ds.did.as_str(), "not an algorithm")] {
        let t = ComputeOptions { trusted_algorithms: vec![bad.into()], ..ComputeOptions::default() };
        let mut other = data.clone();
        other.name = "Other table".into();
        let e = publish::publish_with(&net, &publisher, &other, Some(&t), &journal, &mut quiet).await.unwrap_err();
        let e = e.to_string();
        assert!(e.contains(want) && !e.contains('\n'), "{bad}: {e}");
    }
    assert_eq!(factory.getCurrentNFTCount().call().await.unwrap(), before);

    // The environments: the engine's one free bubblewrap environment.
    let (code, envs) = api.get("/api/services/computeEnvironments", &[]).await;
    assert_eq!(code, 200);
    let envs: Value = serde_json::from_slice(&envs).unwrap();
    let env_id = envs[0]["id"].as_str().unwrap().to_string();
    assert_eq!(env_id, kelp_c2d::LOCAL_ENV);
    let root = api.node.root().await.unwrap();
    assert_eq!(root["serviceEndpoints"]["computeStart"], json!(["POST", "/api/services/compute"]));

    // Happy path: order both, start, the job finishes (70), outputs.tar holds the count only.
    let consumer = LocalKeySigner::dev_account(1, &net.rpc_url, 8996).unwrap();
    let (datasets, algorithm) = order_all(&api, &net, &consumer, &env_id, &[&ds.did], &algo.did).await;
    let body = json!({"environment": env_id, "datasets": datasets, "algorithm": algorithm});
    let (code, started) = api.start(&consumer, body.clone()).await;
    assert_eq!(code, 200, "{}", text(&started));
    let started: Value = serde_json::from_slice(&started).unwrap();
    let job = started[0]["jobId"].as_str().unwrap().to_string();
    let (hash, id) = job.rsplit_once('-').unwrap();
    assert_eq!((hash.len(), id.is_empty()), (64, false), "{job}");
    let done = api.wait(consumer.account(), &job).await;
    assert_eq!(done["status"], 70, "{done}");
    assert_eq!(done["owner"].as_str().unwrap().parse::<Address>().unwrap(), consumer.account());
    let (code, tar) = api.result(&consumer, &job, 1).await;
    assert_eq!(code, 200, "{}", text(&tar));
    assert!(contains(&tar, b"lines.txt"), "outputs.tar lacks lines.txt");
    assert!(contains(&tar, b"4\n"), "the count (4 lines) is not in outputs.tar");
    let (code, log) = api.result(&consumer, &job, 0).await;
    assert_eq!(code, 200);
    assert!(contains(&log, b"counted"), "{}", text(&log));
    for bytes in [&tar, &log] {
        assert!(!contains(bytes, b"SECRET-ROW"), "the dataset's bytes reached the consumer");
    }

    // freeCompute (signed freeStartCompute) runs the same orders on the free environment; the
    // paid one refuses it with Ocean Node's JSON-string error.
    let free = "/api/services/freeCompute";
    let (code, again) = api.start_on(free, "freeStartCompute", &consumer, body.clone()).await;
    assert_eq!(code, 200, "{}", text(&again));
    let again: Value = serde_json::from_slice(&again).unwrap();
    let done = api.wait(consumer.account(), again[0]["jobId"].as_str().unwrap()).await;
    assert_eq!(done["status"], 70, "{done}");
    let (code, _) = api.start_on(free, "startCompute", &consumer, body.clone()).await;
    assert_eq!(code, 401, "freeCompute signed for startCompute");
    let mut on_paid = body.clone();
    on_paid["environment"] = json!(envs[1]["id"]);
    let (code, e) = api.start_on(free, "freeStartCompute", &consumer, on_paid).await;
    assert_eq!(
        (code, serde_json::from_slice::<Value>(&e).unwrap()),
        (500, json!("This env does not support free jobs"))
    );

    // Only the owner reads, and only with a valid signature and fresh nonce.
    let other = LocalKeySigner::dev_account(2, &net.rpc_url, 8996).unwrap();
    let (code, e) = api.result(&other, &job, 1).await;
    assert_eq!(code, 404, "{}", text(&e));
    assert!(text(&e).contains("no compute job"), "{}", text(&e));
    let (code, _) = api.status(other.account(), &job).await;
    assert_eq!(code, 404);
    let (code, e) =
        api.start(&other, json!({"environment": env_id, "datasets": datasets, "algorithm": algorithm})).await;
    assert_eq!(code, 403, "{}", text(&e));
    assert!(text(&e).contains("no order for this consumer"), "foreign order: {}", text(&e));
    let mut forged = body.clone();
    let (_, nonce, sig) = api.sign(&other, "startCompute").await;
    forged["consumerAddress"] = json!(consumer.account());
    forged["nonce"] = json!(nonce);
    forged["signature"] = json!(sig);
    let (code, e) = api.post("/api/services/compute", &forged).await;
    assert_eq!(code, 401, "{}", text(&e));
    assert_eq!(text(&e), "consumer address and nonce signature mismatch");
    // Missing order: the algorithm's order offered for the dataset.
    let mut missing = body.clone();
    missing["datasets"][0]["transferTxId"] = algorithm["transferTxId"].clone();
    let (code, e) = api.start(&consumer, missing).await;
    assert_eq!(code, 403, "{}", text(&e));
    assert!(text(&e).starts_with(&format!("dataset {}", ds.did)), "{}", text(&e));
    let mut none = body.clone();
    none["datasets"][0].as_object_mut().unwrap().remove("transferTxId");
    let (code, e) = api.start(&consumer, none).await;
    assert_eq!(code, 400);
    assert!(text(&e).contains("missing transferTxId"), "{}", text(&e));

    // An untrusted algorithm is refused at initializeCompute and at compute.
    let not_trusted = format!("algorithm {} is not trusted by dataset {}", leaker.did, ds.did);
    let init = json!({"datasets": [{"documentId": ds.did, "serviceId": "0"}], "algorithm": {"documentId": leaker.did,
        "serviceId": "0"}, "environment": env_id, "consumerAddress": consumer.account(),
        "payment": {"chainId": 8996, "token": net.addresses.ocean}});
    let (code, e) = api.post("/api/services/initializeCompute", &init).await;
    assert_eq!((code, text(&e)), (403, not_trusted.clone()));
    let mut leaky = body.clone();
    leaky["algorithm"]["documentId"] = json!(leaker.did);
    let (code, e) = api.start(&consumer, leaky).await;
    assert_eq!((code, text(&e)), (403, not_trusted));

    // The bytes are never downloadable: not by the node's download route, not by %ocean get.
    let order = datasets[0]["transferTxId"].as_str().unwrap().parse().unwrap();
    let e = api.node.download(&consumer, &ds.did, "0", order, 0).await.unwrap_err().to_string();
    assert!(e.contains("HTTP 403") && e.contains("compute-only"), "{e}");
    let e = consume::get(&net, &consumer, &ds.did, 0, &mut quiet).await.unwrap_err().to_string();
    assert!(e.contains("is compute-only: run an algorithm on it with %c2d start --dataset"), "{e}");
    let cell = common::devnet_cell(home.path(), port);
    let run = |line: String| {
        let cell = cell.clone();
        async move { cell.run(&line).await }
    };
    let e = run(format!("ocean get {} --account 3", ds.did)).await.unwrap_err().to_string();
    assert!(e.contains(&consume::compute_only(&ds.did)) && !e.contains('\n'), "{e}");

    // Trust by publisher (through %publish --compute --trust-publisher), and stopping a job:
    // only its owner can.
    let sleeper = spec("Sleeper", AssetType::Algorithm, format!("{files}/sleep.sh"));
    let sleeper = publish::publish(&net, &publisher, &sleeper, &journal, &mut quiet).await.unwrap();
    let out = run(format!(
        "publish {files}/data.csv --name 'Publisher-trusting table' --compute --trust-publisher {}",
        publisher.account()
    ))
    .await
    .unwrap();
    let ds2 = out.json().unwrap()["did"].as_str().unwrap().to_string();
    assert_eq!(
        out.json().unwrap()["compute"]["publisherTrustedAlgorithmPublishers"][0],
        json!(publisher.account().to_checksum(None))
    );
    let e = run(format!("publish {files}/data.csv --name x --trust {}", algo.did)).await.unwrap_err().to_string();
    assert!(e.contains("need --compute"), "{e}");
    let (datasets, algorithm) = order_all(&api, &net, &consumer, &env_id, &[&ds2], &sleeper.did).await;
    let (code, started) = api.start(&consumer, json!({"datasets": datasets, "algorithm": algorithm})).await;
    assert_eq!(code, 200, "{}", text(&started));
    let job2 = serde_json::from_slice::<Value>(&started).unwrap()[0]["jobId"].as_str().unwrap().to_string();
    let (code, _) = api.stop(&other, &job2).await;
    assert_eq!(code, 404);
    let (code, stopped) = api.stop(&consumer, &job2).await;
    assert_eq!(code, 200, "{}", text(&stopped));
    let stopped: Value = serde_json::from_slice(&stopped).unwrap();
    let status = stopped[0]["status"].as_u64().unwrap();
    assert!(status != 70 && status >= 41, "a stopped job ends as failed: {stopped}");

    // Raw algorithms (code in the request) run only on datasets that allow them.
    let raw = json!({"meta": {"rawcode": text(COUNT), "container": {"entrypoint": "sh $ALGO", "image": "debian", "tag": "bookworm"}}});
    let (code, e) = api
        .start(
            &consumer,
            json!({"datasets": [{"documentId": ds.did, "serviceId": "0",
        "transferTxId": order}], "algorithm": raw}),
        )
        .await;
    assert_eq!(code, 403, "{}", text(&e));
    assert!(text(&e).starts_with(&format!("a raw algorithm is not trusted by dataset {}", ds.did)), "{}", text(&e));
    let open = ComputeOptions { allow_raw_algorithm: true, ..ComputeOptions::default() };
    let mut open_spec = data.clone();
    open_spec.name = "Open table".into();
    let ds3 = publish::publish_with(&net, &publisher, &open_spec, Some(&open), &journal, &mut quiet).await.unwrap();
    let init = json!({"datasets": [{"documentId": ds3.did, "serviceId": "0"}], "algorithm": raw,
        "consumerAddress": consumer.account(), "environment": env_id, "payment": {"chainId": 8996, "token": net.addresses.ocean}});
    let (code, init) = api.post("/api/services/initializeCompute", &init).await;
    assert_eq!(code, 200, "{}", text(&init));
    let init: Value = serde_json::from_slice(&init).unwrap();
    assert_eq!(init["algorithm"], json!({"raw": true}));
    let fee: ProviderFee = serde_json::from_value(init["datasets"][0]["providerFee"].clone()).unwrap();
    let o = consume::order(&net, &consumer, &ds3.did, 0, ds3.datatoken, &fee, &mut quiet).await.unwrap();
    let body =
        json!({"datasets": [{"documentId": ds3.did, "serviceId": "0", "transferTxId": o.order_tx}], "algorithm": raw});
    let (code, started) = api.start(&consumer, body).await;
    assert_eq!(code, 200, "{}", text(&started));
    let job3 = serde_json::from_slice::<Value>(&started).unwrap()[0]["jobId"].as_str().unwrap().to_string();
    assert_eq!(api.wait(consumer.account(), &job3).await["status"], 70);
    let (code, tar) = api.result(&consumer, &job3, 1).await;
    assert_eq!(code, 200);
    assert!(contains(&tar, b"lines.txt") && !contains(&tar, b"SECRET-ROW"));
}

/// The publish journal survives `%devnet reset`; an entry whose chain is gone must not be
/// trusted (it used to wait 60 s for an asset that no longer exists, then fail).
#[tokio::test]
async fn republish_after_devnet_reset_publishes_anew() {
    let home = tempfile::tempdir().unwrap();
    let ocean_dir = home.path().join("ocean");
    let _cleanup = Cleanup(DevnetPaths::new(&ocean_dir));
    let port = kelp_ocean::devnet::process::free_port().unwrap();
    let files = serve(vec![("data.csv", DATA)]).await;
    let cell = common::devnet_cell(home.path(), port);
    let run = |line: String| {
        let cell = cell.clone();
        async move { cell.run(&line).await }
    };
    let line = format!("publish {files}/data.csv --name 'Reset table'");
    let first = run(line.clone()).await.unwrap().json().unwrap().clone();
    assert_eq!(first["already_published"], false);
    let again = run(line.clone()).await.unwrap().json().unwrap().clone();
    assert_eq!(again["already_published"], true, "same chain: the journal answers");
    run("devnet reset".into()).await.unwrap();
    let start = Instant::now();
    let after = run(line).await.expect("a publish after a reset must publish anew").json().unwrap().clone();
    assert!(start.elapsed() < Duration::from_secs(30), "waited {:?} for a vanished asset", start.elapsed());
    assert_eq!(after["already_published"], false);
    let env = env_for(port);
    let net = Resolver { ocean_dir: &ocean_dir, env: &env }.resolve(None).await.unwrap();
    let nft: Address = after["nft"].as_str().unwrap().parse().unwrap();
    let code = alloy::providers::Provider::get_code_at(&net.provider, nft).await.unwrap();
    assert!(!code.is_empty(), "the journal's NFT exists on the new chain");
    let node = NodeClient::new(net.node_url.as_deref().unwrap());
    assert!(node.ddo(after["did"].as_str().unwrap()).await.unwrap().is_some());
}
