//! `%publish` on a network other than the devnet (here: the devnet's chain named by its RPC URL,
//! with `KELP_OCEAN_NODE_URL` at a node, as any public network is used): a file only this
//! machine's IPFS store holds must first go to a remote the network can fetch from — a Kubo node,
//! a pinning service or the Lighthouse onramp — or the publish stops in one line; a file the node
//! reads as nothing is refused in one line. Neither sends a transaction.
//!
//! The pinning service and Lighthouse are named fakes of those SaaS ([`remotes`]) that keep what
//! they receive in "the network's" IPFS store, which is the only store the network's node (kelp's
//! node in this process, [`network_node`]) reads: it can fetch a file only if the push put it
//! there. The pinning service fetches over real Bitswap from kelp's own IPFS node. The Kubo push
//! runs against a real js-ipfs daemon (ignored by default; run by install/test.d/40-ocean.sh
//! with `--ignored`).

use kelp_magic::testing::Cell;
use kelp_magic::{Magic, MagicError, Output};
use kelp_ocean_node::IpfsSource;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use crate::common;
use crate::remotes;
use common::{OwnDevnet, nft_count, own_devnet};
use kelp_testkit::FakeLighthouse;
use remotes::{FakePinningService, Fetch, network_store};

/// Anvil's public dev key #1 (the publisher; printed by anvil itself, never a secret).
const DEV_KEY_1: &str = "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

/// A notebook cell with the Ocean magics and `%ipfs`, pointed at `node_url` and signing with dev
/// key #1.
fn session(home: &Path, node_url: &str) -> Cell {
    let magics = kelp_ocean::magics().into_iter().chain([Arc::new(kelp_ipfs::IpfsMagic) as Arc<dyn Magic>]);
    let cell = Cell::at(home, magics).with_home(home);
    cell.env("KELP_OCEAN_NODE_URL", Some(node_url));
    cell.env("KELP_PRIVATE_KEY", Some(DEV_KEY_1));
    cell
}

async fn publish(cell: &Cell, args: &str) -> Result<Output, MagicError> {
    cell.run(&format!("publish {args}")).await
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
    assert!(e.contains("%ipfs config set pin.NAME.endpoint") && e.contains("KELP_LIGHTHOUSE_TOKEN"), "{e}");

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

/// "The network's" Ocean node: kelp's node on the devnet's chain, in this process, reading `ipfs`
/// files only from the store under `network_home` (never this machine's), as a remote node
/// would; stopped when the sender is dropped.
async fn network_node(d: &OwnDevnet, network_home: &Path) -> (String, tokio::sync::oneshot::Sender<()>) {
    let source = kelp_ocean_node::ipfs::StoreSource { home: network_home.to_path_buf() };
    network_node_reading(d, std::sync::Arc::new(source)).await
}

/// The network's node reading `ipfs` files from a Kubo node (its `cat`), as an Ocean Node reads
/// them from its IPFS gateway.
struct KuboSource(kelp_ipfs::kubo::Kubo);

#[async_trait::async_trait]
impl IpfsSource for KuboSource {
    async fn cat(&self, cid: &str) -> Result<Vec<u8>, String> {
        // js-ipfs waits for a block it lacks; a gateway would give up, so does this source.
        let cat = self.0.cat(cid, 0, None);
        match tokio::time::timeout(std::time::Duration::from_secs(10), cat).await {
            Ok(r) => r.map_err(|e| e.to_string()),
            Err(_) => Err(format!("{cid} not found within 10 s")),
        }
    }
}

/// [`network_node`] with `ipfs` files from `source`.
async fn network_node_reading(
    d: &OwnDevnet,
    source: std::sync::Arc<dyn IpfsSource>,
) -> (String, tokio::sync::oneshot::Sender<()>) {
    let port = port();
    let mut cfg = kelp_ocean_node::serve::devnet_config(&d.ocean_dir, &d.net.rpc_url, port).unwrap();
    cfg.ipfs = Some(source);
    cfg.compute_dir = None;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    kelp_ocean_node::start(cfg, port, async move {
        let _ = stopped.await;
    })
    .await
    .unwrap();
    (format!("http://127.0.0.1:{port}"), stop)
}

const PIN_TOKEN: &str = "pin-token-0123456789abcdef";
const LH_KEY: &str = "lh-key-0123456789abcdef";

/// Publish `bytes` as a new file of the session's folder; the error line, if it fails.
async fn publish_bytes(ctx: &Cell, d: &OwnDevnet, file: &str, bytes: &[u8], extra: &str) -> Result<String, String> {
    std::fs::write(d.home.path().join(file), bytes).unwrap();
    match publish(ctx, &format!("{file} --name {file} --network {} {extra}", d.net.rpc_url)).await {
        Ok(out) => Ok(out.json().unwrap()["file"]["hash"].as_str().unwrap().to_string()),
        Err(e) => {
            let e = e.to_string();
            assert_eq!(e.lines().count(), 1, "{e}");
            Err(e)
        }
    }
}

fn has(home: &Path, cid: &str) -> bool {
    network_store(home).has(&kelp_ipfs::parse_cid(cid).unwrap())
}

#[tokio::test]
async fn local_only_cid_is_fetched_by_the_pinning_service_before_any_transaction() {
    let d = own_devnet().await;
    let network = tempfile::tempdir().unwrap();
    let (node_url, _stop) = network_node(&d, network.path()).await;
    let ctx = session(d.home.path(), &node_url);
    ctx.env.set("KELP_PUBLISH_PIN_TIMEOUT", Some("20".into()));
    let before = nft_count(&d.net).await;

    // A service that finds nobody holding the CID: failed, one line, nothing sent.
    let nobody = FakePinningService::start(PIN_TOKEN, network.path(), Fetch::Nobody).await;
    ctx.env.set("KELP_PIN_FAKE_ENDPOINT", Some(nobody.url.clone()));
    ctx.env.set("KELP_PIN_FAKE_TOKEN", Some(PIN_TOKEN.into()));
    let e = publish_bytes(&ctx, &d, "lost.csv", b"lost,1\n", "").await.unwrap_err();
    assert!(e.contains("pinning service fake could not pin") && e.contains("nothing was sent"), "{e}");
    assert!(!e.contains(PIN_TOKEN), "{e}");
    assert_eq!(nft_count(&d.net).await, before, "a transaction was sent");
    assert_eq!(nobody.pins()[0]["status"], "failed");

    // A service that fetches from the origins kelp's IPFS node names: pinned, then published.
    let origins = FakePinningService::start(PIN_TOKEN, network.path(), Fetch::Origins).await;
    ctx.env.set("KELP_PIN_FAKE_ENDPOINT", Some(origins.url.clone()));
    let body: Vec<u8> = (0..600_000u32).map(|i| (i % 253) as u8).collect();
    let cid = publish_bytes(&ctx, &d, "big.bin", &body, "").await.unwrap();
    let pin = &origins.pins()[0];
    assert_eq!((pin["pin"]["cid"].as_str(), pin["status"].as_str()), (Some(cid.as_str()), Some("pinned")));
    let named = pin["pin"]["origins"].as_array().unwrap();
    assert!(!named.is_empty() && named.iter().all(|o| o.as_str().unwrap().contains("/p2p/")), "{pin}");
    assert!(has(network.path(), &cid), "the network's store holds the pushed DAG");
    let bytes = kelp_ocean_node::ipfs::StoreSource { home: network.path().to_path_buf() }.cat(&cid).await;
    assert_eq!(bytes.unwrap(), body);

    // A service that fetches from whoever dials its delegates (a client behind NAT), chosen by
    // --push-to among two configured services.
    let delegates = FakePinningService::start(PIN_TOKEN, network.path(), Fetch::Delegates).await;
    ctx.env.set("KELP_PIN_OTHER_ENDPOINT", Some(delegates.url.clone()));
    ctx.env.set("KELP_PIN_OTHER_TOKEN", Some(PIN_TOKEN.into()));
    let e = publish_bytes(&ctx, &d, "two.csv", b"two,2\n", "").await.unwrap_err();
    assert!(e.contains("several pinning services are configured (") && e.contains("--push-to pin:NAME"), "{e}");
    let cid = publish_bytes(&ctx, &d, "two.csv", b"two,2\n", "--push-to pin:other").await.unwrap();
    assert_eq!(delegates.pins()[0]["status"], "pinned");
    assert!(has(network.path(), &cid));
    assert_eq!(nft_count(&d.net).await, before + alloy::primitives::U256::from(2u8));

    // A service that never gets to the pin: one line after KELP_PUBLISH_PIN_TIMEOUT; an
    // interrupt stops the wait. Nothing sent either way.
    let never = FakePinningService::start(PIN_TOKEN, network.path(), Fetch::Never).await;
    ctx.env.set("KELP_PIN_OTHER_ENDPOINT", None);
    ctx.env.set("KELP_PIN_FAKE_ENDPOINT", Some(never.url.clone()));
    ctx.env.set("KELP_PUBLISH_PIN_TIMEOUT", Some("1".into()));
    let e = publish_bytes(&ctx, &d, "late.csv", b"late,4\n", "").await.unwrap_err();
    assert!(e.contains("has not pinned") && e.contains("after 1 s (status queued"), "{e}");
    ctx.env.set("KELP_PUBLISH_PIN_TIMEOUT", Some("600".into()));
    let cancel = ctx.cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        cancel.cancel();
    });
    let started = std::time::Instant::now();
    let e = publish_bytes(&ctx, &d, "late.csv", b"late,4\n", "").await.unwrap_err();
    assert!(e.contains("pushing the file (nothing was sent)"), "{e}");
    assert!(started.elapsed() < std::time::Duration::from_secs(30), "the interrupt ended the wait");
    assert_eq!(never.pins().len(), 2);
    assert_eq!(nft_count(&d.net).await, before + alloy::primitives::U256::from(2u8));
}

#[tokio::test]
async fn local_only_cid_is_uploaded_to_lighthouse_and_unreachable_cids_are_refused() {
    let d = own_devnet().await;
    let network = tempfile::tempdir().unwrap();
    let (node_url, _stop) = network_node(&d, network.path()).await;
    let ctx = session(d.home.path(), &node_url);
    let before = nft_count(&d.net).await;

    // A CID nobody serves to the node (not in this machine's store either): the node's fileInfo
    // cannot read it, one line, nothing sent.
    let orphan = kelp_ipfs::cid_of_bytes(b"bytes nobody holds", &kelp_ipfs::AddOptions::default()).unwrap();
    let e =
        publish(&ctx, &format!("{orphan} --name Orphan --network {}", d.net.rpc_url)).await.unwrap_err().to_string();
    assert_eq!(e.lines().count(), 1, "{e}");
    assert!(e.contains(&format!("cannot fetch the IPFS file {orphan}")) && e.contains("nothing was sent"), "{e}");

    // Lighthouse with a wrong key: one line naming the refusal, never the key.
    // kelp-testkit's fake Lighthouse, keeping each upload in "the network"'s store.
    let lh_store = network_store(network.path());
    let lh = FakeLighthouse::start(LH_KEY, move |_name, bytes, version| {
        let opts = kelp_ipfs::AddOptions { cid_version: version, ..kelp_ipfs::AddOptions::default() };
        lh_store.add_bytes(bytes, &opts).unwrap().cid.to_string()
    })
    .await;
    ctx.env.set("KELP_LIGHTHOUSE_URL", Some(lh.url.clone()));
    ctx.env.set("KELP_LIGHTHOUSE_TOKEN", Some("not-the-key".into()));
    let e = publish_bytes(&ctx, &d, "lh.csv", b"lighthouse,3\n", "").await.unwrap_err();
    assert!(e.contains("Lighthouse") && e.contains("401") && !e.contains("not-the-key"), "{e}");
    assert_eq!(nft_count(&d.net).await, before, "a transaction was sent");

    // With the key: the bytes are uploaded, Lighthouse answers the same CID, the node reads it.
    ctx.env.set("KELP_LIGHTHOUSE_TOKEN", Some(LH_KEY.into()));
    let cid = publish_bytes(&ctx, &d, "lh.csv", b"lighthouse,3\n", "").await.unwrap();
    assert_eq!(lh.uploads().len(), 1);
    assert_eq!(lh.uploads()[0].1, b"lighthouse,3\n");
    let read = kelp_ocean_node::ipfs::StoreSource { home: network.path().to_path_buf() }.cat(&cid).await.unwrap();
    assert_eq!(read, b"lighthouse,3\n");
    assert_eq!(nft_count(&d.net).await, before + alloy::primitives::U256::from(1u8));

    // A folder is not one file: Lighthouse cannot take it, one line, nothing left behind.
    std::fs::create_dir_all(d.home.path().join("folder")).unwrap();
    std::fs::write(d.home.path().join("folder/a.csv"), b"a\n").unwrap();
    let e = publish(&ctx, &format!("folder --name Folder --network {}", d.net.rpc_url)).await.unwrap_err().to_string();
    assert!(e.contains("Lighthouse takes one file and") && e.contains("is a directory") && !e.contains('\n'), "{e}");
    assert_eq!(lh.uploads().len(), 1);
    let left: Vec<_> = std::fs::read_dir(d.home.path())
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with(".kelp-push-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");

    // A --push-to that names no remote is one line.
    let e = publish_bytes(&ctx, &d, "x.csv", b"x\n", "--push-to ftp").await.unwrap_err();
    assert!(e.contains("--push-to \"ftp\" is not a remote"), "{e}");
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
    // The network's node reads ipfs files from that Kubo only: it can fetch the file only if the
    // push put it there.
    let source = KuboSource(kelp_ipfs::kubo::Kubo::new(&kubo.url).unwrap());
    let (node_url, _stop) = network_node_reading(&d, std::sync::Arc::new(source)).await;
    let ctx = session(d.home.path(), &node_url);
    std::fs::write(d.home.path().join("data.csv"), b"site,depth\nA,5\n").unwrap();
    ctx.ok(&format!("ipfs config set backend kubo={}", kubo.url)).await;
    let out = publish(&ctx, &format!("data.csv --name Pushed --network {}", d.net.rpc_url)).await.unwrap();
    let cid = out.json().unwrap()["file"]["hash"].as_str().unwrap().to_string();
    // Kubo has it now: the network's node could fetch it from there.
    let bytes = kelp_ipfs::kubo::Kubo::new(&kubo.url).unwrap().cat(&cid, 0, None).await.unwrap();
    assert_eq!(bytes, b"site,depth\nA,5\n");
}
