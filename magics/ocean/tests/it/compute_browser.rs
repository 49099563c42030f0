//! `%c2d start --signer browser` on Ocean DIDs, with real parts: the real devnet (anvil + the
//! Ocean contracts from npm + the local node running kelp-c2d's bubblewrap engine) and a real
//! Jupyter server from `.venv` with kelp_labextension's relay (as browser_signer.rs starts
//! it; this test fails, never skips, when `.venv`, the extension or bubblewrap is missing). The
//! test plays the browser wallet: it answers each request on the relay's browser face by running
//! it on anvil as the wallet's (unlocked) account. The consumer has no local key at all, so every
//! order transaction and every node request signature must come through the relay.

use alloy::primitives::TxHash;
use alloy::providers::Provider;
use kelp_magic::Magic;
use kelp_magic::testing::Cell;
use kelp_ocean::compute::client::ComputeClient;
use kelp_ocean::devnet::DevnetPaths;
use kelp_ocean::journal::Journal;
use kelp_ocean::network::Resolver;
use kelp_ocean::publish::{self, AssetType, ComputeOptions};
use kelp_ocean::signer::LocalKeySigner;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::common;
use common::Cleanup;

use kelp_testkit::jupyter as relay;
use relay::Browser;

const DATA: &[u8] = b"v\nPRIVATE-ROW-17\nPRIVATE-ROW-25\nPRIVATE-ROW-38\n";
/// Counts the dataset's rows and writes only the count.
const COUNT: &[u8] = br#"import json, os
d = json.loads(os.environ['DIDS'])[0]
rows = [l for l in open(f'/data/inputs/{d}/0').read().split('\n')[1:] if l]
json.dump({'rows': len(rows)}, open('/data/outputs/count.json', 'w'))
print('counted', len(rows), 'rows')
"#;

use common::python_spec as asset;

/// The injected provider's side: run one EIP-1193 call on anvil as an unlocked account.
async fn anvil_rpc(rpc: &str, method: &str, params: Value) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let r: Value = reqwest::Client::new().post(rpc).json(&body).send().await.unwrap().json().await.unwrap();
    assert!(r.get("error").is_none(), "anvil refused {method}: {r}");
    r["result"].clone()
}

/// The wallet: approves every request that reaches the browser, as `account`, until `stop`;
/// returns each request with the wallet's answer.
fn wallet(
    browser: Browser,
    rpc: String,
    account: String,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<Vec<Value>> {
    tokio::spawn(async move {
        let mut seen = Vec::new();
        while !stop.load(Ordering::SeqCst) {
            for r in browser.list().await {
                let method = r["kind"].as_str().unwrap().to_string();
                let mut params = r["params"].clone();
                let result = match method.as_str() {
                    "eth_requestAccounts" | "eth_accounts" => json!([account]),
                    "eth_sendTransaction" => {
                        params[0].as_object_mut().unwrap().remove("chainId");
                        anvil_rpc(&rpc, &method, params).await
                    }
                    _ => anvil_rpc(&rpc, &method, params).await,
                };
                browser.approve(r["id"].as_str().unwrap(), result.clone()).await;
                seen.push(json!({"request": r, "result": result}));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        seen
    })
}

#[tokio::test]
async fn c2d_on_dids_signed_in_the_browser_wallet_through_the_relay() {
    kelp_c2d::sandbox::bwrap_path().expect("bubblewrap is required: run install/setup (setup.d/50-c2d.sh)");
    let (_turn, server) = relay::exclusive().await;
    let browser = Browser::new(server);
    let home = tempfile::tempdir().unwrap();
    let ocean_dir = home.path().join("ocean");
    let _cleanup = Cleanup(DevnetPaths::new(&ocean_dir));
    let ctx =
        Cell::at(home.path(), [Arc::new(kelp_ocean::compute::c2d_magic()) as Arc<dyn Magic>]).with_home(home.path());
    let port = kelp_ocean::devnet::process::free_port().unwrap();
    ctx.env.set("KELP_DEVNET_PORT", Some(port.to_string()));
    ctx.env.set("KELP_OCEAN_NODE", Some(common::node_bin()));
    for v in ["KELP_PRIVATE_KEY", "KELP_KEYSTORE", "KELP_NETWORK", "KELP_OCEAN_NODE_URL", "JUPYTER_RUNTIME_DIR"] {
        ctx.env.set(v, None);
    }
    ctx.env.set("KELP_RELAY_URL", Some(server.relay_url.clone()));
    ctx.env.set("KELP_RELAY_SECRET", Some(server.relay_secret.clone()));
    let env = ctx.env.clone();
    let lookup = move |v: &str| env.get(v);
    let net = Resolver { ocean_dir: &ocean_dir, env: &lookup }.resolve(None).await.expect("devnet starts");
    let rpc = net.rpc_url.clone();

    // The publisher (a local key): a counting algorithm and a compute-only dataset trusting it.
    let files = common::serve(vec![("data.csv", DATA), ("count.py", COUNT)]).await;
    let journal = Journal::new(&ocean_dir);
    let publisher = LocalKeySigner::dev_account(0, &rpc, net.chain_id).unwrap();
    let mut quiet = |_: &str| {};
    let counter = asset("Row counter", AssetType::Algorithm, format!("{files}/count.py"));
    let algo = publish::publish(&net, &publisher, &counter, &journal, &mut quiet).await.unwrap();
    let trust = ComputeOptions { trusted_algorithms: vec![algo.did.clone()], ..ComputeOptions::default() };
    let data = asset("Private rows", AssetType::Dataset, format!("{files}/data.csv"));
    let ds = publish::publish_with(&net, &publisher, &data, Some(&trust), &journal, &mut quiet).await.unwrap();

    // The consumer is the browser wallet's account (anvil's #3), reported by the Lab extension.
    let me = LocalKeySigner::dev_address(3).unwrap();
    let me_s = me.to_string().to_lowercase();
    browser.report_wallet(json!({"account": me_s, "chain_id": "0x2324", "name": "Test Wallet"})).await;
    let provider = kelp_ocean::chain::connect(&rpc).unwrap();
    let node = ComputeClient::new(net.node_url.as_deref().unwrap());
    let sent_before = provider.get_transaction_count(me).await.unwrap();
    let zero = LocalKeySigner::dev_address(0).unwrap();
    let zero_before = provider.get_transaction_count(zero).await.unwrap();
    let node_nonce_before = node.node().nonce(me).await.unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let wallet_side = wallet(browser.clone(), rpc.clone(), me_s.clone(), stop.clone());
    let run = |line: String| {
        let c = ctx.clone();
        async move { tokio::time::timeout(Duration::from_secs(180), c.run(&line)).await.expect("the cell finished") }
    };
    let out =
        run(format!("c2d start --dataset {} --algorithm {} --signer browser --wait", ds.did, algo.did)).await.unwrap();
    let j = out.json().unwrap().clone();
    assert_eq!((j["status"].as_u64(), j["ok"].as_bool()), (Some(70), Some(true)), "{j}");
    assert_eq!(j["remote"]["owner"].as_str().unwrap().to_lowercase(), me_s, "the wallet's account is the consumer");
    assert_eq!(j["remote"]["options"]["signer"], "browser");
    let id = j["jobId"].as_str().unwrap().to_string();
    let r = run(format!("c2d result {}", &id[..8])).await.unwrap();
    stop.store(true, Ordering::SeqCst);
    let seen = wallet_side.await.unwrap();

    // The results came back, without the dataset's rows.
    let folder = PathBuf::from(r.json().unwrap()["folder"].as_str().unwrap());
    let count: Value = serde_json::from_str(&std::fs::read_to_string(folder.join("count.json")).unwrap()).unwrap();
    assert_eq!(count["rows"], 3, "{count}");
    assert!(std::fs::read_to_string(folder.join("algorithm.log")).unwrap().contains("counted 3 rows"));
    for f in common::files_under(&folder) {
        assert!(!std::fs::read(&f).unwrap().windows(11).any(|w| w == b"PRIVATE-ROW"), "{}", f.display());
    }

    // Every transaction the consumer sent is one the wallet sent through the relay, each shown
    // with its summary on the devnet; the orders of both assets are among them.
    let kind = |r: &Value| r["request"]["kind"].as_str().unwrap_or("").to_string();
    let txs: Vec<&Value> = seen.iter().filter(|r| kind(r) == "eth_sendTransaction").collect();
    let sent = provider.get_transaction_count(me).await.unwrap() - sent_before;
    assert!(sent >= 2, "at least the two orders: {sent}");
    assert_eq!(txs.len() as u64, sent, "every transaction of the consumer went through the wallet");
    for t in &txs {
        assert_eq!(t["request"]["summary"]["network"], "devnet (chain 8996)", "{t}");
        assert_eq!(t["request"]["params"][0]["from"].as_str().unwrap().to_lowercase(), me_s);
    }
    let hashes: Vec<String> = txs.iter().map(|t| t["result"].as_str().unwrap().to_lowercase()).collect();
    let orders = j["remote"]["details"]["orders"].as_array().unwrap();
    assert_eq!(orders.len(), 2, "dataset and algorithm ordered");
    for o in orders {
        let tx = o["orderTx"].as_str().unwrap().to_lowercase();
        assert!(hashes.contains(&tx), "order {tx} was not sent by the wallet: {hashes:?}");
        let receipt = provider.get_transaction_receipt(tx.parse::<TxHash>().unwrap()).await.unwrap().unwrap();
        assert!(receipt.status() && receipt.from == me, "{o}");
    }
    assert_eq!(
        provider.get_transaction_count(zero).await.unwrap(),
        zero_before,
        "the devnet's account #0 sent nothing"
    );

    // Every node request (startCompute, getComputeResult for each result) was signed in the
    // wallet: the node accepted exactly as many signed requests as the wallet signed.
    let signs = seen.iter().filter(|r| kind(r) == "personal_sign").count() as u64;
    let results = j["results"].as_array().unwrap().len() as u64;
    assert_eq!(results, 2, "algorithm.log and outputs.tar: {j}");
    assert_eq!(signs, 1 + results, "startCompute + one getComputeResult per result");
    assert_eq!(node.node().nonce(me).await.unwrap() - node_nonce_before, signs);
    assert!(seen.iter().all(|r| ["eth_sendTransaction", "personal_sign"].contains(&kind(r).as_str())), "{seen:?}");
}
