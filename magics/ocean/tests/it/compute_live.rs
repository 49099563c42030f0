//! `%c2d envs` and `%c2d logs -f` on a remote job, on the real devnet (anvil + the Ocean
//! contracts from npm + the local node process running kelp-c2d's bubblewrap engine): the node's
//! environments listed beside the local ones (never starting a devnet just for that; a node that
//! does not answer is one warning line), and a running job's log followed live through the node's
//! `computeStreamableLogs`. Needs bubblewrap (install/setup.d/50-c2d.sh); fails, never skips.

use kelp_magic::testing::Cell;
use kelp_magic::{Magic, Output};
use kelp_ocean::compute::client::ComputeClient;
use kelp_ocean::devnet::DevnetPaths;
use kelp_ocean::journal::Journal;
use kelp_ocean::network::Resolver;
use kelp_ocean::publish::{self, AssetType, ComputeOptions};
use kelp_ocean::signer::LocalKeySigner;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common;
use common::Cleanup;

const DATA: &[u8] = b"x\n1\n2\n3\n";
/// Writes one line, works a while, writes another (flushed, so a live follower sees each).
const SLOW: &[u8] = br#"import time
print('LIVE-FIRST counting rows', flush=True)
time.sleep(8)
print('LIVE-LAST done', flush=True)
open('/data/outputs/done.txt', 'w').write('ok')
"#;

use common::python_spec as asset;

/// A cell of a notebook whose `%c2d` (a magic of its own) runs on the devnet at `port`.
fn context(home: &Path, port: u16) -> Cell {
    let cell = Cell::at(home, [Arc::new(kelp_ocean::compute::c2d_magic()) as Arc<dyn Magic>]).with_home(home);
    common::set_devnet_env(&cell, port);
    for v in ["KELP_PRIVATE_KEY", "KELP_KEYSTORE", "KELP_NETWORK", "KELP_OCEAN_NODE_URL"] {
        cell.env(v, None);
    }
    cell
}

fn places(out: &Output) -> Vec<(String, Option<String>)> {
    out.json().unwrap()["environments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["where"].as_str().unwrap().to_string(), e["node"].as_str().map(str::to_string)))
        .collect()
}

#[tokio::test]
async fn envs_list_the_nodes_environments_and_logs_follow_a_remote_job_live() {
    kelp_c2d::sandbox::bwrap_path().expect("bubblewrap is required: run install/setup (setup.d/50-c2d.sh)");
    let home = tempfile::tempdir().unwrap();
    let ocean_dir = home.path().join("ocean");
    let _cleanup = Cleanup(DevnetPaths::new(&ocean_dir));
    let port = kelp_ocean::devnet::process::free_port().unwrap();
    let ctx = context(home.path(), port);

    // No devnet running and no --network: the local environments only, and no devnet started.
    let out = ctx.run("c2d envs").await.unwrap();
    assert_eq!(places(&out), vec![("local".to_string(), None)], "{:?}", out.json());
    assert!(!DevnetPaths::new(&ocean_dir).state_file().exists(), "envs started a devnet");
    assert!(ctx.stderr().is_empty(), "{}", ctx.stderr());

    // The devnet runs: its node's environments are listed too, each saying where it runs.
    let env = ctx.env.clone();
    let lookup = move |v: &str| env.get(v);
    let net = Resolver { ocean_dir: &ocean_dir, env: &lookup }.resolve(None).await.expect("devnet starts");
    let node_url = net.node_url.clone().unwrap();
    let out = ctx.run("c2d envs").await.unwrap();
    let j = out.json().unwrap();
    let node = ("node".to_string(), Some(node_url.clone()));
    assert_eq!(places(&out), vec![("local".into(), None), node.clone(), node], "{j}");
    let remote = &j["environments"][1];
    assert_eq!(remote["network"], "devnet");
    assert_eq!(remote["consumerAddress"].as_str().unwrap().len(), 42, "the node's own entry: {remote}");
    // The node's free environment, then its paid twin with its price in OCEAN (Escrow on the devnet).
    assert_eq!(
        (remote["price"].as_str(), j["environments"][2]["price"].as_str()),
        (Some("free"), Some("cpu 1 OCEAN/min"))
    );
    let text = out.plain().unwrap();
    assert!(text.lines().any(|l| l.starts_with(&node_url)) && text.lines().any(|l| l.starts_with("local  ")), "{text}");
    assert!(text.lines().any(|l| l.starts_with(&node_url) && l.contains("cpu 1 OCEAN/min")), "{text}");

    // A network whose node does not answer: the local ones, and one warning line naming it.
    let dead = format!("http://127.0.0.1:{}", kelp_ocean::devnet::process::free_port().unwrap());
    let down = context(home.path(), port);
    down.env.set("KELP_OCEAN_NODE_URL", Some(dead.clone()));
    let out = down.run(&format!("c2d envs --network {}", net.rpc_url)).await.unwrap();
    assert_eq!(places(&out), vec![("local".to_string(), None)]);
    let warning = down.stderr();
    assert_eq!(warning.lines().count(), 1, "{warning}");
    assert!(warning.contains(&dead) && warning.contains("showing the local environments"), "{warning}");

    // A job whose algorithm writes a line, works 8 s, writes another.
    let files = common::serve(vec![("data.csv", DATA), ("slow.py", SLOW)]).await;
    let journal = Journal::new(&ocean_dir);
    let publisher = LocalKeySigner::dev_account(0, &net.rpc_url, net.chain_id).unwrap();
    let mut quiet = |_: &str| {};
    let slow = asset("Slow counter", AssetType::Algorithm, format!("{files}/slow.py"));
    let algo = publish::publish(&net, &publisher, &slow, &journal, &mut quiet).await.unwrap();
    let trust = ComputeOptions { trusted_algorithms: vec![algo.did.clone()], ..ComputeOptions::default() };
    let data = asset("Rows", AssetType::Dataset, format!("{files}/data.csv"));
    let ds = publish::publish_with(&net, &publisher, &data, Some(&trust), &journal, &mut quiet).await.unwrap();
    let line = format!("c2d start --dataset {} --algorithm {} --account 1", ds.did, algo.did);
    let started = ctx.run(&line).await.unwrap();
    let id = started.json().unwrap()["jobId"].as_str().unwrap().to_string();

    // Without -f, a running remote job's log is not there yet: one line saying how to follow it.
    let not_yet = ctx.run(&format!("c2d logs {}", &id[..8])).await.unwrap();
    assert!(not_yet.json().unwrap()["log"].is_null());
    assert!(not_yet.plain().unwrap().contains("-f follows it"));

    // -f: the first line shows while the job still runs; the last one once, when it comes.
    let follow = context(home.path(), port);
    let follower = {
        let (c, line) = (follow.clone(), format!("c2d logs {} -f", &id[..8]));
        tokio::spawn(async move { c.run(&line).await })
    };
    let t = Instant::now();
    while !follow.stdout().contains("LIVE-FIRST") {
        assert!(t.elapsed() < Duration::from_secs(60), "no live line: {:?}", follow.events());
        assert!(!follower.is_finished(), "logs -f ended early: {:?}", follow.events());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let now = ctx.run(&format!("c2d status {}", &id[..8])).await.unwrap();
    assert_eq!(now.json().unwrap()["finished"], false, "the line came only after the job: {:?}", now.json());
    assert!(!follow.stdout().contains("LIVE-LAST"));
    // Someone else's signature gets no stream of it, even while it runs.
    let node_job = started.json().unwrap()["remote"]["jobId"].as_str().unwrap().to_string();
    let client = ComputeClient::new(&node_url);
    let other = LocalKeySigner::dev_account(2, &net.rpc_url, net.chain_id).unwrap();
    let mut seen = String::new();
    assert!(!client.stream_logs(&other, &node_job, &mut |s: &str| seen.push_str(s)).await.unwrap());
    assert!(seen.is_empty());
    let out = follower.await.unwrap().unwrap();
    let j = out.json().unwrap();
    assert_eq!((j["status"].as_u64(), j["streamed"].as_bool()), (Some(70), Some(true)), "{j}");
    let log = j["log"].as_str().unwrap();
    assert!(log.contains("LIVE-FIRST") && log.contains("LIVE-LAST"), "{log}");
    let shown = follow.stdout();
    assert_eq!((shown.matches("LIVE-FIRST").count(), shown.matches("LIVE-LAST").count()), (1, 1), "{shown}");
    assert_eq!(shown, log, "printed once, as the node kept it");

    // The node streams only running jobs (Ocean Node's 404 "Job not found or not running").
    let owner = LocalKeySigner::dev_account(1, &net.rpc_url, net.chain_id).unwrap();
    let mut sink_text = String::new();
    let streamed = client.stream_logs(&owner, &node_job, &mut |s: &str| sink_text.push_str(s)).await.unwrap();
    assert!(!streamed && sink_text.is_empty(), "an ended job is not streamed");
    // An ended job's -f shows the log it ended with.
    let again = ctx.run(&format!("c2d logs {} -f", &id[..8])).await.unwrap();
    assert_eq!(again.json().unwrap()["log"].as_str(), Some(log));
}
