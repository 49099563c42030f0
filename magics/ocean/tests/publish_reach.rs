//! `%publish` on a network other than the devnet (here: the devnet's chain named by its RPC URL,
//! with `KELP_OCEAN_NODE_URL` at its node, as any public network is used): a file only this
//! machine's IPFS store holds must first go to the configured Kubo node, or the publish stops in
//! one line; a file the node reads as nothing is refused in one line. Neither sends a
//! transaction. The Kubo push runs against a real js-ipfs daemon (ignored by default; run by
//! install/test.d/40-ocean.sh with `--ignored`).

use kelp_magic::{Config, Magic, MagicCall, MagicContext, MagicError, Output, RecordingSink};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

mod common;
use common::{nft_count, own_devnet};

/// Anvil's public dev key #1 (the publisher; printed by anvil itself, never a secret).
const DEV_KEY_1: &str = "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

fn session(home: &Path, node_url: &str) -> MagicContext {
    let ctx = MagicContext::new(home, Config::at(home), RecordingSink::new());
    ctx.env.set("KELP_OCEAN_NODE_URL", Some(node_url.to_string()));
    ctx.env.set("KELP_PRIVATE_KEY", Some(DEV_KEY_1.to_string()));
    ctx
}

async fn publish(ctx: &MagicContext, args: &str) -> Result<Output, MagicError> {
    kelp_ocean::magics::publish::PublishMagic
        .run(MagicCall::from_line(&format!("publish {args}"), None).unwrap(), ctx)
        .await
}

#[tokio::test]
async fn local_only_cid_and_unreachable_file_stop_before_any_transaction() {
    let d = own_devnet().await;
    let node_url = d.net.node_url.clone().unwrap();
    let ctx = session(d.home.path(), &node_url);
    std::fs::write(d.home.path().join("data.csv"), b"a,b\n1,2\n").unwrap();
    let before = nft_count(&d.net).await;

    // A file added to the local store only, no Kubo configured: one line saying how.
    let e = publish(&ctx, &format!("data.csv --name Local --network {}", d.net.rpc_url)).await.unwrap_err().to_string();
    assert_eq!(e.lines().count(), 1, "{e}");
    assert!(e.contains("only in this machine's IPFS store") && e.contains("%ipfs config set backend kubo="), "{e}");

    // A url the node cannot fetch (nothing listens there): fileInfo reads 0 bytes, one line.
    let dead = format!("http://127.0.0.1:{}/gone.csv", kelp_ocean::devnet::process::free_port().unwrap());
    let e = publish(&ctx, &format!("{dead} --name Gone --network {}", d.net.rpc_url)).await.unwrap_err().to_string();
    assert_eq!(e.lines().count(), 1, "{e}");
    assert!(e.contains("cannot fetch the url file") && e.contains("nothing was sent"), "{e}");
    assert_eq!(nft_count(&d.net).await, before, "a transaction was sent");

    // A url the node can fetch publishes on that network (its fileInfo reads the bytes).
    let files = common::serve(vec![("data.csv", b"a,b\n1,2\n")]).await;
    let out = publish(&ctx, &format!("{files}/data.csv --name Served --network {}", d.net.rpc_url)).await.unwrap();
    assert!(out.json().unwrap()["did"].as_str().unwrap().starts_with("did:op:"));
}

/// A js-ipfs daemon (Kubo RPC) on free loopback ports with a temporary repo; killed when dropped.
struct JsIpfs {
    child: Child,
    url: String,
    _repo: tempfile::TempDir,
}

impl Drop for JsIpfs {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn port() -> u16 {
    kelp_ocean::devnet::process::free_port().unwrap()
}

fn js_ipfs() -> JsIpfs {
    let bin = std::env::var_os("KELP_JSIPFS").map(std::path::PathBuf::from).unwrap_or_else(|| {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../install/.tools/jsipfs/node_modules/.bin/jsipfs")
    });
    assert!(bin.exists(), "js-ipfs is missing at {}: run install/setup (setup.d/30-ipfs.sh)", bin.display());
    let repo = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let mut c = Command::new(&bin);
        c.args(args).env("IPFS_PATH", repo.path());
        c
    };
    assert!(run(&["init", "--profile", "test"]).stdout(Stdio::null()).status().unwrap().success());
    let config = repo.path().join("config");
    let mut c: serde_json::Value = serde_json::from_slice(&std::fs::read(&config).unwrap()).unwrap();
    let api = port();
    for (k, p) in [("API", api), ("Gateway", port()), ("RPC", port())] {
        c["Addresses"][k] = format!("/ip4/127.0.0.1/tcp/{p}").into();
    }
    let none = serde_json::json!([]);
    (c["Addresses"]["Swarm"], c["Addresses"]["Delegates"], c["Bootstrap"]) = (none.clone(), none.clone(), none);
    c["Routing"] = serde_json::json!({"Type": "none"});
    std::fs::write(&config, c.to_string()).unwrap();
    let mut child = run(&["daemon", "--offline"]).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let daemon = JsIpfs { child, url: format!("http://127.0.0.1:{api}"), _repo: repo };
    for line in lines.map_while(Result::ok) {
        if line.contains("Daemon is ready") {
            return daemon;
        }
    }
    panic!("js-ipfs exited before it was ready");
}

#[tokio::test]
#[ignore = "needs the js-ipfs daemon; run by install/test.d/40-ocean.sh with --ignored"]
async fn local_only_cid_is_pushed_to_the_configured_kubo_first() {
    let kubo = js_ipfs();
    let d = own_devnet().await;
    let ctx = session(d.home.path(), d.net.node_url.as_deref().unwrap());
    std::fs::write(d.home.path().join("data.csv"), b"site,depth\nA,5\n").unwrap();
    let ipfs = kelp_ipfs::IpfsMagic;
    let set = MagicCall::from_line(&format!("ipfs config set backend kubo={}", kubo.url), None).unwrap();
    ipfs.run(set, &ctx).await.unwrap();
    let out = publish(&ctx, &format!("data.csv --name Pushed --network {}", d.net.rpc_url)).await.unwrap();
    let cid = out.json().unwrap()["file"]["hash"].as_str().unwrap().to_string();
    // Kubo has it now: the network's node could fetch it from there.
    let bytes = kelp_ipfs::kubo::Kubo::new(&kubo.url).unwrap().cat(&cid, 0, None).await.unwrap();
    assert_eq!(bytes, b"site,depth\nA,5\n");
}
