//! The devnet against the real anvil and the real Ocean contracts from npm (installed by
//! install/setup.d/40-ocean.sh). These tests fail — never skip — when the tools are missing.
//! Each starts its own devnet on a free port under a temporary KELP_HOME.

use alloy::primitives::{U256, utils::parse_ether};
use alloy::providers::Provider;
use kelp_ocean::chain;
use kelp_ocean::contracts::{IERC20, IERC721Factory};
use kelp_ocean::devnet::{self, DevnetPaths, UpOptions, process};
use kelp_ocean::signer::{LocalKeySigner, Signer, TxSummary};
use kelp_ocean::tools::Tools;
use std::time::Duration;

use crate::common;
use common::Cleanup;

fn tools() -> Tools {
    Tools::locate(|v| std::env::var(v).ok()).expect("anvil and the Ocean artifacts must be installed (./install/setup)")
}

async fn ocean_balance(rpc: &str, token: alloy::primitives::Address, who: alloy::primitives::Address) -> U256 {
    let p = chain::connect(rpc).unwrap();
    IERC20::new(token, &p).balanceOf(who).call().await.unwrap()
}

#[tokio::test]
async fn cold_up_deploys_ocean_then_down_and_warm_up_keep_state_and_reset_wipes_it() {
    let tools = tools();
    let home = tempfile::tempdir().unwrap();
    let paths = DevnetPaths::new(home.path().join("ocean"));
    let _cleanup = Cleanup(paths.clone());
    let port = process::free_port().unwrap();
    let opts = UpOptions { port, fresh: false, node: None };

    // Cold start: the contracts are deployed and wired, address.json is in Ocean's format.
    let r = devnet::up(&paths, &tools, &opts).await.unwrap();
    assert_eq!(r.start, "cold");
    assert_eq!(r.state.rpc_url, format!("http://127.0.0.1:{port}"));
    let a = r.addresses.clone();
    let raw: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(paths.address_file()).unwrap()).unwrap();
    assert_eq!(raw["development"]["chainId"], 8996);
    assert_eq!(
        raw["development"]["ERC721Factory"].as_str().unwrap().to_lowercase(),
        a.erc721_factory.to_string().to_lowercase()
    );
    let rpc = r.state.rpc_url.clone();
    let p = chain::connect(&rpc).unwrap();
    assert_eq!(p.get_chain_id().await.unwrap(), 8996);
    let factory = IERC721Factory::new(a.erc721_factory, &p);
    // Template 2 is the enterprise datatoken template the deploy added.
    let t2 = factory.getTokenTemplate(U256::from(2)).call().await.unwrap();
    assert_eq!(t2.templateAddress, a.erc20_templates["2"]);
    assert!(t2.isActive);
    let acct1 = LocalKeySigner::dev_address(1).unwrap();
    let acct2 = LocalKeySigner::dev_address(2).unwrap();
    assert_eq!(ocean_balance(&rpc, a.ocean, acct1).await, parse_ether("10000").unwrap());
    let gas: u64 = r.gas.iter().map(|(_, g)| g).sum();
    assert!(gas > 30_000_000, "whole deploy gas {gas}");

    // The process outlives the call; a second `up` finds it.
    let again = devnet::up(&paths, &tools, &opts).await.unwrap();
    assert_eq!((again.start, again.state.anvil_pid), ("running", r.state.anvil_pid));
    let st = devnet::status(&paths).await.unwrap();
    assert!(st.running && st.block.unwrap() > 10);

    // Change the chain (account #1 pays #2 5 OCEAN through the Signer trait), stop, warm start.
    let s1 = LocalKeySigner::dev_account(1, &rpc, 8996).unwrap();
    let call = IERC20::transferCall { to: acct2, amount: parse_ether("5").unwrap() };
    let tx = alloy::rpc::types::TransactionRequest::default()
        .to(a.ocean)
        .input(alloy::sol_types::SolCall::abi_encode(&call).into());
    let summary = TxSummary::call(8996, "OCEAN", a.ocean, "transfer").arg("to", acct2).arg("amount", "5 OCEAN");
    chain::transact(&s1, &p, tx, &summary, Duration::from_secs(10)).await.unwrap();
    let d = devnet::down(&paths, true).await.unwrap();
    assert!(d.was_running && d.saved, "{d:?}");
    assert!(!process::is_alive(r.state.anvil_pid) || !process::runs(r.state.anvil_pid, "anvil"));
    assert!(!devnet::status(&paths).await.unwrap().running);
    assert!(chain::connect(&rpc).unwrap().get_chain_id().await.is_err(), "anvil still answers after down");

    let warm = devnet::up(&paths, &tools, &opts).await.unwrap();
    assert_eq!(warm.start, "warm");
    assert_eq!(warm.addresses, a);
    assert_eq!(ocean_balance(&rpc, a.ocean, acct2).await, parse_ether("10005").unwrap());
    assert!(s1.address().await.unwrap() == acct1);

    // Reset: a fresh chain, the transfer is gone.
    let fresh = devnet::reset(&paths, &tools, &opts).await.unwrap();
    assert_eq!(fresh.start, "cold");
    assert_eq!(ocean_balance(&rpc, fresh.addresses.ocean, acct2).await, parse_ether("10000").unwrap());
    devnet::down(&paths, false).await.unwrap();
}

#[tokio::test]
async fn devnet_magic_up_status_down_and_bad_port() {
    tools();
    let home = tempfile::tempdir().unwrap();
    let paths = DevnetPaths::new(home.path().join("ocean"));
    let _cleanup = Cleanup(paths.clone());
    let port = process::free_port().unwrap();
    let ctx = common::devnet_cell(home.path(), port);

    let out = ctx.run("devnet up").await.unwrap();
    let j = out.json().unwrap();
    assert_eq!(j["rpc_url"], format!("http://127.0.0.1:{port}"));
    assert!(j["start"] == "cold" || j["start"] == "warm");
    assert_eq!(out.value.as_ref().unwrap().expr, format!("String::from(\"http://127.0.0.1:{port}\")"));
    let st = ctx.run("devnet status").await.unwrap();
    assert_eq!(st.json().unwrap()["running"], true);
    assert!(st.plain().unwrap().starts_with("devnet running at"));
    // The local node runs beside anvil and knows the devnet's chain.
    let node_url = j["node_url"].as_str().expect("node_url").to_string();
    let node = kelp_ocean::provider::NodeClient::new(&node_url);
    let root = node.root().await.unwrap();
    assert_eq!(root["chainIds"][0], "8996");
    let node_pid = j["node_pid"].as_u64().expect("node_pid") as u32;
    assert!(process::is_alive(node_pid));
    let down = ctx.run("devnet down --no-save").await.unwrap();
    assert_eq!(down.json().unwrap()["was_running"], true);
    let e = node.root().await.unwrap_err().to_string();
    assert!(e.contains("not reachable") && !e.contains('\n'), "{e}");
    let st = ctx.run("devnet status").await.unwrap();
    assert_eq!(st.json().unwrap()["running"], false);

    // Bad input: one line, says what to do.
    ctx.env.set(kelp_ocean::magics::devnet::ENV_PORT, Some("eighty".into()));
    let e = ctx.run("devnet up").await.unwrap_err().to_string();
    assert!(e.contains("KELP_DEVNET_PORT") && !e.contains('\n'), "{e}");
    let busy = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let busy_port = busy.local_addr().unwrap().port();
    let e = ctx.run(&format!("devnet up --port {busy_port}")).await.unwrap_err().to_string();
    assert!(e.contains("is taken") && e.contains("--port"), "{e}");
    let e = ctx.run("devnet sideways").await.unwrap_err().to_string();
    assert!(e.contains("sideways") && !e.contains('\n'), "{e}");
}

/// `devnet down` and `devnet status` need only the recorded pids: they work after the anvil
/// binary the devnet was started from has gone (moved, uninstalled, $KELP_ANVIL now wrong), and
/// `down` still saves the chain state, which the next `up` restores (warm).
#[tokio::test]
async fn devnet_down_and_status_work_when_anvil_can_no_longer_be_found() {
    let real = tools();
    let home = tempfile::tempdir().unwrap();
    let paths = DevnetPaths::new(home.path().join("ocean"));
    let _cleanup = Cleanup(paths.clone());
    let bin = home.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let anvil = bin.join("anvil");
    std::os::unix::fs::symlink(&real.anvil, &anvil).unwrap();
    let port = process::free_port().unwrap();
    let ctx = common::devnet_cell(home.path(), port);
    ctx.env.set(kelp_ocean::tools::ENV_ANVIL, Some(anvil.display().to_string()));
    let up = ctx.run("devnet up").await.unwrap();
    let j = up.json().unwrap().clone();
    let (anvil_pid, node_pid) = (j["anvil_pid"].as_u64().unwrap() as u32, j["node_pid"].as_u64().unwrap() as u32);
    assert!(process::runs(anvil_pid, "anvil"));

    // The binary disappears while the devnet runs.
    std::fs::remove_file(&anvil).unwrap();
    let gone = Tools::locate(|v| ctx.env.get(v)).unwrap_err().to_string();
    assert!(gone.contains("anvil not found"), "{gone}");

    let st = ctx.run("devnet status").await.unwrap();
    assert_eq!(st.json().unwrap()["running"], true, "{:?}", st.plain());
    assert!(st.json().unwrap()["block"].as_u64().is_some());
    let down = ctx.run("devnet down").await.unwrap();
    let d = down.json().unwrap();
    assert_eq!((&d["was_running"], &d["saved"]), (&serde_json::json!(true), &serde_json::json!(true)), "{d}");
    assert!(!process::is_alive(anvil_pid) && !process::is_alive(node_pid), "processes left after down");
    assert!(!paths.state_file().exists());
    let st = ctx.run("devnet status").await.unwrap();
    assert_eq!(st.json().unwrap()["running"], false);

    // With anvil back, the saved state is restored (the snapshot fingerprint was kept).
    ctx.env.set(kelp_ocean::tools::ENV_ANVIL, Some(real.anvil.display().to_string()));
    let again = ctx.run("devnet up").await.unwrap();
    assert_eq!(again.json().unwrap()["start"], "warm");
    let d = ctx.run("devnet down --no-save").await.unwrap();
    assert_eq!(d.json().unwrap()["saved"], false);
}

/// anvil's ten development keys (public, printed in its banner) and its mnemonic: the test's own
/// copy of what anvil prints, not signer::local's list, so a wrong list there cannot hide a leak.
const DEV_KEYS: [&str; 10] = [
    "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
    "47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
    "8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
    "92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
    "4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356",
    "dbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97",
    "2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6",
];
const DEV_MNEMONIC: &str = "test test test test test test test test test test test junk";

/// The secrets found in `bytes` (compared in lower case, so `0xAC09…` counts too).
fn secrets_in(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes).to_lowercase();
    let mut found: Vec<String> =
        DEV_KEYS.iter().filter(|k| text.contains(*k)).map(|k| format!("key {}…", &k[..8])).collect();
    if text.contains(DEV_MNEMONIC) {
        found.push("the mnemonic".into());
    }
    found
}

/// Private keys never reach a file: after `up` (over a log an older kelp filled with anvil's
/// banner), a publish, a consume, `status` and `down`, no file under KELP_HOME — logs, state,
/// journal, the saved chain snapshot (un-gzipped) — nor any output holds a dev key or the mnemonic.
#[tokio::test]
async fn no_dev_key_or_mnemonic_in_any_file_or_output_after_up_publish_and_down() {
    tools();
    let home = tempfile::tempdir().unwrap();
    let paths = DevnetPaths::new(home.path().join("ocean"));
    let _cleanup = Cleanup(paths.clone());
    // The self-check: the scanner sees both forms of a key and the mnemonic.
    assert_eq!(secrets_in(format!("(9) 0x{}", DEV_KEYS[9].to_uppercase()).as_bytes()).len(), 1);
    assert_eq!(secrets_in(format!("Mnemonic: {DEV_MNEMONIC}").as_bytes()), ["the mnemonic"]);
    std::fs::create_dir_all(&paths.dir).unwrap();
    let old =
        format!("Available Accounts\n==================\nPrivate Keys\n==================\n(0) 0x{}\n", DEV_KEYS[0]);
    std::fs::write(paths.anvil_log(), old).unwrap();

    let port = process::free_port().unwrap();
    let ctx = common::devnet_cell(home.path(), port);
    let mut outputs = vec![];
    let mut keep = |o: &kelp_magic::Output| {
        outputs.push(format!("{:?} {:?} {:?}", o.plain(), o.json(), o.value.as_ref().map(|v| &v.expr)));
    };
    keep(&ctx.run("devnet up").await.unwrap());
    std::fs::write(home.path().join("t.csv"), b"x,y\n1,2\n").unwrap();
    let published = ctx.run("publish t.csv --name 'No keys here'").await.unwrap();
    let did = published.json().unwrap()["did"].as_str().unwrap().to_string();
    keep(&published);
    keep(&ctx.run(&format!("ocean get {did} -o got.csv --account 1")).await.unwrap());
    keep(&ctx.run("wallet --account 2").await.unwrap());
    keep(&ctx.run("devnet status").await.unwrap());
    let log = std::fs::read_to_string(paths.anvil_log()).unwrap();
    assert!(log.contains("kelp devnet:") && log.contains("--quiet") && !log.contains("Private Keys"), "{log}");
    keep(&ctx.run("devnet down").await.unwrap());
    assert!(paths.snapshot_file().exists());

    for (i, o) in outputs.iter().enumerate() {
        assert!(secrets_in(o.as_bytes()).is_empty(), "output {i} holds {:?}", secrets_in(o.as_bytes()));
    }
    let files = common::files_under(home.path());
    assert!(files.iter().any(|f| f.ends_with("node.log")), "{files:?}");
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        assert!(secrets_in(&bytes).is_empty(), "{} holds {:?}", f.display(), secrets_in(&bytes));
    }
    // The snapshot is anvil's gzipped state as hex: look inside too.
    let snap: serde_json::Value = serde_json::from_slice(&std::fs::read(paths.snapshot_file()).unwrap()).unwrap();
    let gz = alloy::hex::decode(snap["state"].as_str().unwrap()).unwrap();
    let mut state = vec![];
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(gz.as_slice()), &mut state).unwrap();
    assert!(state.len() > 100_000, "snapshot of {} bytes", state.len());
    assert!(secrets_in(&state).is_empty(), "the chain snapshot holds {:?}", secrets_in(&state));
}
