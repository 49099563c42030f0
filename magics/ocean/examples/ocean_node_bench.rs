//! Publish and consume, timed against kelp's own node and against a replay of a real Ocean Node
//! v3.1.0 (the transcripts' server, `tests/it/common/replay.rs`), with the same client code.
//!
//! - Against kelp's node (a devnet of its own: anvil + the Ocean contracts + the node process):
//!   the whole `publish` (two transactions, until indexed) and the whole `get` (dispense, order,
//!   download, CID check), and then the node side alone: the calls below on that asset.
//! - Against the replay server: only the node side can be replayed (the chain is not in the
//!   transcripts). Publish's node side = `GET /` (node check), nonce + `encrypt` of the files
//!   object, nonce + `encrypt` of the DDO, the DDO lookup once indexed; consume's = `initialize`,
//!   nonce + `download` (the recorded requests' bodies, so the replay matches them; each run's
//!   requests must match the recorded ones, or the bench stops with the differences).
//!
//! Prints medians of `runs` rounds (argument 1, default 5); asserts nothing about speed. Run
//! through `install/bench ocean` (install/bench.d/41-ocean-node.sh).

#[allow(dead_code)]
#[path = "../tests/it/common/replay.rs"]
mod replay;

use alloy::primitives::TxHash;
use kelp_ocean::devnet::{self, DevnetPaths, process};
use kelp_ocean::journal::Journal;
use kelp_ocean::network::Resolver;
use kelp_ocean::provider::NodeClient;
use kelp_ocean::publish::{self, FileRef, Price, PublishSpec};
use kelp_ocean::signer::LocalKeySigner;
use replay::{Replay, record};
use std::time::Instant;

/// The recorded free asset (IPFS file) kelp published and consumed through the real node.
const FREE: &str = "did:op:5596a837c68a80a781220447646381af05f82d7062e47727da68c6409caecc8d";
const FRESH_NONCE: (&str, &[&str]) = ("nonce_fresh_address", &["userAddress"]);

fn median(v: &mut [f64]) -> String {
    v.sort_by(|a, b| a.total_cmp(b));
    format!("{:7.1} ms median ({:.1}–{:.1} ms, n={})", v[v.len() / 2] * 1e3, v[0] * 1e3, v[v.len() - 1] * 1e3, v.len())
}

/// The recorded plaintext `encrypt` request `name` sent.
fn recorded_body(name: &str) -> Vec<u8> {
    record(name).request["body"].as_str().map(|s| s.as_bytes().to_vec()).unwrap_or_default()
}

/// Publish's node side: node check, two encrypts, the indexed DDO.
async fn publish_node_side(node: &NodeClient, publisher: &LocalKeySigner, chain: u64, did: &str) -> anyhow::Result<()> {
    node.check(chain).await?;
    node.encrypt(publisher, chain, &recorded_body("kelp_publish_encrypt_files")).await?;
    node.encrypt(publisher, chain, &recorded_body("kelp_publish_encrypt_ddo")).await?;
    node.ddo(did).await?.ok_or_else(|| anyhow::anyhow!("{did} is not indexed"))?;
    Ok(())
}

/// Consume's node side: initialize, then download with an existing order.
async fn consume_node_side(node: &NodeClient, consumer: &LocalKeySigner, did: &str, tx: TxHash) -> anyhow::Result<()> {
    node.initialize(did, "0", consumer.account()).await?;
    node.download(consumer, did, "0", tx, 0).await?;
    Ok(())
}

async fn against_replay(runs: usize) -> anyhow::Result<(Vec<f64>, Vec<f64>)> {
    let publisher = LocalKeySigner::dev_account(1, "http://127.0.0.1:1", 8996)?;
    let consumer = LocalKeySigner::dev_account(2, "http://127.0.0.1:1", 8996)?;
    let order: TxHash = record("kelp_get_download_free_ipfs").request["query"]["transferTxId"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("the download record has no transferTxId"))?
        .parse()?;
    let (mut p, mut c) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let live = [
            "kelp_publish_root",
            "nonce_fresh_address",
            "kelp_publish_encrypt_files",
            "nonce_fresh_address",
            "kelp_publish_encrypt_ddo",
            "kelp_publish_poll_ddo_indexed",
            "kelp_get_initialize_free",
            "nonce_fresh_address",
            "kelp_get_download_free_ipfs",
        ];
        let r = Replay::start_ignoring(&live, &[FRESH_NONCE]).await;
        let node = NodeClient::new(&r.url);
        let t = Instant::now();
        publish_node_side(&node, &publisher, 8996, FREE).await?;
        p.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        consume_node_side(&node, &consumer, FREE, order).await?;
        c.push(t.elapsed().as_secs_f64());
        let problems = r.problems();
        anyhow::ensure!(problems.is_empty(), "the replay saw requests unlike the recorded ones: {problems:?}");
    }
    Ok((p, c))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let runs: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(5).max(1);
    let home = tempfile::tempdir()?;
    let ocean_dir = home.path().join("ocean");
    let paths = DevnetPaths::new(&ocean_dir);
    let result = against_kelps_node(runs, home.path(), &ocean_dir).await;
    // Whatever happened, leave no anvil or node behind.
    devnet::down(&paths, false).await?;
    let mut kelp = result?;
    let (mut rp, mut rc) = against_replay(runs).await?;
    println!("against kelp's node (devnet)       publish, whole: {}", median(&mut kelp.0));
    println!("against kelp's node (devnet)       consume, whole: {}", median(&mut kelp.1));
    println!("against kelp's node (devnet)       publish, node side: {}", median(&mut kelp.2));
    println!("against kelp's node (devnet)       consume, node side: {}", median(&mut kelp.3));
    println!("against the Ocean Node v3.1.0 replay publish, node side: {}", median(&mut rp));
    println!("against the Ocean Node v3.1.0 replay consume, node side: {}", median(&mut rc));
    Ok(())
}

type Timings = (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>);

async fn against_kelps_node(
    runs: usize,
    home: &std::path::Path,
    ocean_dir: &std::path::Path,
) -> anyhow::Result<Timings> {
    let port = process::free_port()?;
    let node_cmd = kelp_ocean::devnet::node::node_command(&|v| std::env::var(v).ok())?;
    let env = move |v: &str| match v {
        "KELP_DEVNET_PORT" => Some(port.to_string()),
        "KELP_OCEAN_NODE" => Some(node_cmd.0.display().to_string()),
        o => std::env::var(o).ok(),
    };
    let net = Resolver { ocean_dir, env: &env }.resolve(None).await?;
    let journal = Journal::new(ocean_dir);
    let publisher = LocalKeySigner::dev_account(1, &net.rpc_url, net.chain_id)?;
    let consumer = LocalKeySigner::dev_account(2, &net.rpc_url, net.chain_id)?;
    let file = home.join("bench.csv");
    std::fs::write(&file, "site,depth\n".repeat(100))?;
    let cid = kelp_ocean::ipfs::add_path(home, &file).await?;
    let node = NodeClient::of(&net)?;
    let mut quiet = |_: &str| {};
    let mut t: Timings = Default::default();
    for i in 0..runs {
        let spec = PublishSpec::dataset(format!("node bench {i}"), FileRef::Ipfs { hash: cid.clone() }, Price::Free);
        let s = Instant::now();
        let p = publish::publish(&net, &publisher, &spec, &journal, &mut quiet).await?;
        t.0.push(s.elapsed().as_secs_f64());
        let s = Instant::now();
        let g = kelp_ocean::consume::get(&net, &consumer, &p.did, 0, &mut quiet).await?;
        t.1.push(s.elapsed().as_secs_f64());
        let s = Instant::now();
        publish_node_side(&node, &publisher, net.chain_id, &p.did).await?;
        t.2.push(s.elapsed().as_secs_f64());
        let s = Instant::now();
        consume_node_side(&node, &consumer, &p.did, g.order_tx).await?;
        t.3.push(s.elapsed().as_secs_f64());
    }
    Ok(t)
}
