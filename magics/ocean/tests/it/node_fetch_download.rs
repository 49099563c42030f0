//! `download` (and `fileInfo`) of assets whose `url` file points into the node's own network,
//! on the real devnet chain: the devnet's node (loopback allowed, as `devnet up` starts it)
//! indexes the assets and a second kelp node in this process, with the same key on the same
//! chain but in the default mode (loopback refused), serves them. Each asset is ordered for real
//! (`startOrder` with the node's provider fee) and the download request is signed, so the only
//! reason left for a refusal is the fetch policy; the same order then downloads from the devnet's
//! node, which proves it. The loopback origin counts every request that reaches its `/secret`.

use alloy::primitives::Address;
use kelp_ocean::devnet::DevnetPaths;
use kelp_ocean::journal::Journal;
use kelp_ocean::network::{Network, Resolver};
use kelp_ocean::publish::{self, FileRef, Price, PublishSpec};
use kelp_ocean::signer::LocalKeySigner;
use kelp_ocean_node as node;
use kelp_ocean_node::fetch::FetchPolicy;
use kelp_ocean_wire::fees::ProviderFee;
use serde_json::Value;
use std::time::{Duration, Instant};

use crate::common;
use common::{Cleanup, env_for};
use futures::StreamExt;
use kelp_ocean_node::fetch::DEFAULT_MAX_BYTES;
use kelp_ocean_node::testing::{HUGE, hits, origin, peak_rss_mib};

fn dataset(name: &str, url: String) -> PublishSpec {
    PublishSpec::dataset(name, FileRef::Url { url }, Price::Free)
}

/// Order service 0 of `did` with `base`'s provider fee; returns the order transaction.
async fn order(http: &reqwest::Client, base: &str, net: &Network, consumer: &LocalKeySigner, did: &str) -> String {
    let q = [("documentId", did), ("serviceId", "0"), ("consumerAddress", &consumer.account().to_string())];
    let init: Value =
        http.get(format!("{base}/api/services/initialize")).query(&q).send().await.unwrap().json().await.unwrap();
    let fee: ProviderFee = serde_json::from_value(init["providerFee"].clone()).unwrap();
    let dt: Address = init["datatoken"].as_str().unwrap().parse().unwrap();
    let mut quiet = |_: &str| {};
    let o = kelp_ocean::consume::order(net, consumer, did, 0, dt, &fee, &mut quiet).await.unwrap();
    o.order_tx.to_string()
}

/// Send a signed download request for file 0.
async fn download_response(
    base: &str,
    consumer: &LocalKeySigner,
    nonce: u64,
    did: &str,
    tx: &str,
) -> reqwest::Response {
    let sig = kelp_ocean::signer::sign_node_request(consumer, "", nonce, "download").await.unwrap();
    let q = [
        ("documentId", did.to_string()),
        ("serviceId", "0".into()),
        ("consumerAddress", consumer.account().to_checksum(None)),
        ("transferTxId", tx.to_string()),
        ("fileIndex", "0".into()),
        ("nonce", nonce.to_string()),
        ("signature", sig),
    ];
    reqwest::Client::new().get(format!("{base}/api/services/download")).query(&q).send().await.unwrap()
}

/// A signed download of file 0: (status, body).
async fn download(base: &str, consumer: &LocalKeySigner, nonce: u64, did: &str, tx: &str) -> (u16, Vec<u8>) {
    let r = download_response(base, consumer, nonce, did, tx).await;
    (r.status().as_u16(), r.bytes().await.unwrap().to_vec())
}

/// A devnet of its own (killed when dropped) and a publisher on it.
struct Devnet {
    // Dropped in this order: the processes are killed before their folder goes.
    _cleanup: Cleanup,
    net: Network,
    journal: Journal,
    publisher: LocalKeySigner,
    ocean_dir: std::path::PathBuf,
    _home: tempfile::TempDir,
}

async fn devnet() -> Devnet {
    let home = tempfile::tempdir().unwrap();
    let ocean_dir = home.path().join("ocean");
    let cleanup = Cleanup(DevnetPaths::new(&ocean_dir));
    let env = env_for(kelp_ocean::devnet::process::free_port().unwrap());
    let net = Resolver { ocean_dir: &ocean_dir, env: &env }.resolve(None).await.expect("devnet starts");
    let publisher = LocalKeySigner::dev_account(0, &net.rpc_url, 8996).unwrap();
    Devnet { journal: Journal::new(&ocean_dir), _home: home, ocean_dir, _cleanup: cleanup, net, publisher }
}

impl Devnet {
    /// Publish a free dataset whose one file is `url`; returns its DID.
    async fn publish(&self, name: &str, url: String) -> String {
        let mut quiet = |_: &str| {};
        let p = publish::publish(&self.net, &self.publisher, &dataset(name, url), &self.journal, &mut quiet).await;
        p.unwrap().did
    }
}

#[tokio::test]
async fn the_default_node_refuses_loopback_url_files_for_download_and_file_info() {
    let dev = devnet().await;
    let net = &dev.net;
    let (oport, secret_hits) = origin().await;
    let mut dids = Vec::new();
    for (name, url) in [
        ("Loopback", format!("http://127.0.0.1:{oport}/secret")),
        ("Mapped loopback", format!("http://[::ffff:127.0.0.1]:{oport}/secret")),
        ("Redirect to loopback", format!("http://files.example:{oport}/to-secret")),
    ] {
        dids.push(dev.publish(name, url).await);
    }

    // The second node: the devnet's key and chain, default fetch policy. TEST ONLY: files.example
    // stands in for a public host (served by the loopback origin), so the third asset's first
    // hop is allowed and only its redirect to 127.0.0.1 can be refused.
    let mut config = kelp_ocean_node::serve::devnet_config(&dev.ocean_dir, &net.rpc_url, 0).unwrap();
    config.compute_dir = None;
    config.fetch = FetchPolicy {
        test_only_unchecked_hosts: vec![("files.example".into(), ([127, 0, 0, 1], 0).into())],
        ..FetchPolicy::default()
    };
    let (strict, _task) = node::start(config, 0, std::future::pending()).await.unwrap();
    let base = format!("http://{}", strict.local_addr);
    let start = Instant::now();
    while dids.iter().any(|d| strict.state.ddo(d).is_none()) {
        assert!(start.elapsed() < Duration::from_secs(60), "the second node did not index the assets");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let http = reqwest::Client::new();
    let consumer = LocalKeySigner::dev_account(1, &net.rpc_url, 8996).unwrap();
    let mut orders = Vec::new();
    for (i, did) in dids.iter().enumerate() {
        let tx = order(&http, &base, net, &consumer, did).await;
        let (status, body) = download(&base, &consumer, i as u64 + 1, did, &tx).await;
        let text = String::from_utf8_lossy(&body);
        assert_eq!(status, 403, "{did}: {text}");
        assert!(text.contains("is a loopback address"), "{did}: {text}");
        let r = http
            .post(format!("{base}/api/services/fileInfo"))
            .json(&serde_json::json!({"did": did, "serviceId": "0"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 403, "{did}: fileInfo");
        orders.push(tx);
    }
    assert_eq!(hits(&secret_hits), 0, "the default node reached the loopback origin");

    // The same order downloads from the devnet's node, which allows loopback: the order and the
    // signature were good, so the refusals above were the fetch policy's.
    let devnet = net.node_url.clone().unwrap();
    let (status, body) = download(&devnet, &consumer, 100, &dids[0], &orders[0]).await;
    assert_eq!((status, body.as_slice()), (200, &b"internal secret"[..]), "{}", String::from_utf8_lossy(&body));
    assert_eq!(hits(&secret_hits), 1);
}

/// A signed download of file 0 read as a stream: (status, bytes received, whether the body
/// ended in an error).
async fn download_counted(base: &str, consumer: &LocalKeySigner, nonce: u64, did: &str, tx: &str) -> (u16, u64, bool) {
    let r = download_response(base, consumer, nonce, did, tx).await;
    let status = r.status().as_u16();
    let (mut received, mut failed) = (0u64, false);
    let mut body = r.bytes_stream();
    while let Some(chunk) = body.next().await {
        match chunk {
            Ok(c) => received += c.len() as u64,
            Err(_) => {
                failed = true;
                break;
            }
        }
    }
    (status, received, failed)
}

#[tokio::test]
async fn the_devnet_node_process_streams_downloads_and_stops_a_600_mib_file_at_its_cap() {
    let dev = devnet().await;
    let net = &dev.net;
    let (oport, _) = origin().await;
    let http = reqwest::Client::new();
    let base = net.node_url.clone().unwrap();
    let consumer = LocalKeySigner::dev_account(2, &net.rpc_url, 8996).unwrap();
    let mut nonce = 0;
    for (name, path) in [("Huge", "huge"), ("Huge announced", "huge-announced")] {
        let did = dev.publish(name, format!("http://127.0.0.1:{oport}/{path}")).await;
        let tx = order(&http, &base, net, &consumer, &did).await;
        nonce += 1;
        let (status, received, failed) = download_counted(&base, &consumer, nonce, &did, &tx).await;
        if path == "huge-announced" {
            // Refused up front: the answer is the one-line error, not file bytes.
            assert_eq!((status, failed), (413, false));
            assert!(received < 1024, "{received} bytes in the refusal");
        } else {
            // Streamed through, then cut off: never the whole file, never passed off as complete.
            assert_eq!(status, 200);
            assert!(
                failed && received > 1 << 20 && received <= DEFAULT_MAX_BYTES,
                "received {received} bytes, failed: {failed}"
            );
        }
        assert!(received < HUGE as u64);
    }
    let pid =
        kelp_ocean::devnet::node::read_state(&DevnetPaths::new(&dev.ocean_dir)).unwrap().unwrap().node_pid.unwrap();
    let peak = peak_rss_mib(&pid.to_string());
    assert!(peak < 200, "the node process peaked at {peak} MiB serving 600 MiB files");
}
