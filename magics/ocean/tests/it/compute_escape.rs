//! Security issue #12 (item 1) through the devnet node: a published, trusted algorithm plants
//! links to the node's private key file (its real path under KELP_HOME, as an attacker who had
//! learnt it would) in `/data/logs/algorithm.log` and `/data/outputs`, and looks for host paths.
//! What `computeResult` serves for the job holds neither the key nor a host path. Real devnet
//! (anvil, Ocean contracts from npm, the node process with the kelp-c2d bubblewrap engine).

use kelp_ocean::journal::Journal;
use kelp_ocean::provider::NodeClient;
use kelp_ocean::publish::{self, AssetType, ComputeOptions, Container, FileRef, Price, PublishSpec};
use kelp_ocean::signer::LocalKeySigner;
use kelp_ocean_wire::fees::ProviderFee;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

use crate::common;
use common::{own_devnet, serve};

fn asset(name: &str, kind: AssetType, url: String) -> PublishSpec {
    let container = (kind == AssetType::Algorithm).then(|| Container {
        image: "debian".into(),
        tag: "bookworm".into(),
        entrypoint: "sh $ALGO".into(),
        checksum: format!("sha256:{}", "0".repeat(64)),
    });
    let file = FileRef::Url { url };
    PublishSpec {
        name: name.into(),
        kind,
        price: Price::Free,
        file,
        description: None,
        license: None,
        tags: vec![],
        container,
        salt: None,
        additional_information: None,
    }
}

/// `(consumerAddress, nonce, signature)` query pairs of `signer` for `command`.
async fn signed(node: &NodeClient, signer: &LocalKeySigner, command: &str) -> Vec<(&'static str, String)> {
    let nonce = node.nonce(signer.account()).await.unwrap() + 1;
    let sig = kelp_ocean::signer::sign_node_request(signer, "", nonce, command).await.unwrap();
    vec![("consumerAddress", signer.account().to_checksum(None)), ("nonce", nonce.to_string()), ("signature", sig)]
}

fn has(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn planted_links_to_the_node_key_give_back_nothing() {
    kelp_c2d::sandbox::bwrap_path().expect("bubblewrap is required: run install/setup (setup.d/50-c2d.sh)");
    let devnet = own_devnet().await;
    let (home, ocean_dir, net) = (&devnet.home, &devnet.ocean_dir, &devnet.net);
    let key_path = kelp_ocean_node::key_path(ocean_dir);
    let key = std::fs::read_to_string(&key_path).expect("the node made its key").trim().to_string();
    assert!(key.len() >= 64, "node key file: {key:?}");

    let k = key_path.display();
    let attack = format!(
        "rm -f /data/logs/algorithm.log\nln -s {k} /data/logs/algorithm.log\nln -s {k} /data/outputs/key\n\
         ln -s /proc/self/environ /data/outputs/environ\nmkdir /data/outputs/d && ln -s {k} /data/outputs/d/k\n\
         cat /proc/self/mountinfo > /data/outputs/mountinfo 2>&1 || true\n\
         cat {k} > /data/outputs/direct 2>/dev/null || echo key file not readable\necho planted\nexit 1\n"
    );
    let attack: &'static [u8] = Box::leak(attack.into_bytes().into_boxed_slice());
    let files = serve(vec![("data.csv", b"a,b\n1,2\n".as_slice()), ("attack.sh", attack)]).await;
    let journal = Journal::new(ocean_dir);
    let publisher = LocalKeySigner::dev_account(0, &net.rpc_url, 8996).unwrap();
    let mut quiet = |_: &str| {};
    let algo_spec = asset("Planter", AssetType::Algorithm, format!("{files}/attack.sh"));
    let algo = publish::publish(net, &publisher, &algo_spec, &journal, &mut quiet).await.unwrap();
    let trust = ComputeOptions { trusted_algorithms: vec![algo.did.clone()], ..ComputeOptions::default() };
    let data_spec = asset("Table", AssetType::Dataset, format!("{files}/data.csv"));
    let ds = publish::publish_with(net, &publisher, &data_spec, Some(&trust), &journal, &mut quiet).await.unwrap();

    // Order both with the node's fees, start, wait for the end.
    let base = net.node_url.clone().unwrap();
    let node = NodeClient::new(&base);
    let http = reqwest::Client::new();
    let consumer = LocalKeySigner::dev_account(1, &net.rpc_url, 8996).unwrap();
    let env_id = kelp_c2d::LOCAL_ENV;
    let init = json!({"datasets": [{"documentId": ds.did, "serviceId": "0"}], "environment": env_id,
        "algorithm": {"documentId": algo.did, "serviceId": "0"}, "consumerAddress": consumer.account(),
        "payment": {"chainId": 8996, "token": net.addresses.ocean}});
    let r = http.post(format!("{base}/api/services/initializeCompute")).json(&init).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let init: Value = r.json().await.unwrap();
    let order = |e: Value, did: String| {
        let (net, consumer) = (net, &consumer);
        async move {
            let fee: ProviderFee = serde_json::from_value(e["providerFee"].clone()).unwrap();
            let dt = e["datatoken"].as_str().unwrap().parse().unwrap();
            let o = kelp_ocean::consume::order(net, consumer, &did, 0, dt, &fee, &mut |_: &str| {}).await.unwrap();
            json!({"documentId": did, "serviceId": "0", "transferTxId": o.order_tx})
        }
    };
    let dataset = order(init["datasets"][0].clone(), ds.did.clone()).await;
    let algorithm = order(init["algorithm"].clone(), algo.did.clone()).await;
    let mut body = json!({"environment": env_id, "datasets": [dataset], "algorithm": algorithm});
    for (k, v) in signed(&node, &consumer, "startCompute").await {
        body[k] = if k == "nonce" { json!(v.parse::<u64>().unwrap()) } else { json!(v) };
    }
    let r = http.post(format!("{base}/api/services/compute")).json(&body).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let started: Value = r.json().await.unwrap();
    let job = started[0]["jobId"].as_str().unwrap().to_string();
    let start = Instant::now();
    let status = loop {
        let q = [("consumerAddress", consumer.account().to_string()), ("jobId", job.clone())];
        let j: Value =
            http.get(format!("{base}/api/services/compute")).query(&q).send().await.unwrap().json().await.unwrap();
        let s = j[0]["status"].as_u64().unwrap();
        if s >= 41 && s != 50 && s != 60 || start.elapsed() > Duration::from_secs(90) {
            break j[0].clone();
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    // The algorithm ran and exited 1 (41 "Algorithm failed"), with both results kept.
    assert_eq!(status["status"], 41, "{status}");
    assert_eq!(status["results"].as_array().map(|r| r.len()), Some(2), "{status}");

    // Both results: the algorithm's own output, none of the key, no host path.
    let mut served = vec![];
    for index in [0, 1] {
        let mut q = signed(&node, &consumer, "getComputeResult").await;
        q.extend([("jobId", job.clone()), ("index", index.to_string())]);
        let r = http.get(format!("{base}/api/services/computeResult")).query(&q).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200, "result {index}");
        served.push(r.bytes().await.unwrap().to_vec());
    }
    assert!(has(&served[0], b"planted"), "{}", String::from_utf8_lossy(&served[0]));
    // The key file is not bound into the sandbox: reading it directly fails too.
    assert!(has(&served[0], b"key file not readable"), "{}", String::from_utf8_lossy(&served[0]));
    let home_path = home.path().display().to_string();
    for (i, bytes) in served.iter().enumerate() {
        assert!(!has(bytes, key.as_bytes()), "result {i} holds the node's private key");
        assert!(!has(bytes, home_path.as_bytes()), "result {i} names the host's KELP_HOME");
    }
}
