//! kelp as a Bitswap peer against Helia over libp2p TCP + Noise + Yamux, all on loopback
//! (ignored by default; install/test.d/30-ipfs.sh runs them one at a time, since the node is one
//! per process, with the npm packages install/setup.d/30-ipfs.sh puts in install/.tools/helia):
//! - `%ipfs get` of a 64 MiB file and of a 1200-entry HAMT directory that only a Helia peer holds
//!   (tests/helia/peer.mjs) comes over Bitswap, every block verified: the only gateway is dead,
//!   so any block not from the peer would fail the get;
//! - Helia fetches a 64 MiB file and a HAMT directory kelp added, from the session's node
//!   (`%ipfs config network on`, the node a kernel runs) and from `%ipfs serve --listen … --json`;
//! - an unknown CID (DONT_HAVE, else a bounded wait), a peer killed mid-transfer and a 3 MiB block each give one
//!   error line naming what was tried; the store keeps only whole verified blocks and a second
//!   get resumes from a new peer;
//! - with the DHT on, kelp finds a Helia provider through a Helia hub, and Helia finds kelp
//!   (submodule `dht`, tests/support/dht_tests.rs).

use crate::support::helia_scripts;
// The Kademlia DHT against Helia peers (they share this file's helpers and its one-at-a-time run).
#[path = "support/dht_tests.rs"]
mod dht;
use crate::support::{DEAD_GATEWAY, network_cell as session, run_text as run, seeded, sha_hex};
use helia_scripts::script_dir;
use kelp_ipfs::{Cid, Store};
use serde_json::Value;
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// A Helia peer serving its data (MODE=serve); killed on drop.
struct HeliaPeer {
    child: Child,
    info: Value,
    _dir: tempfile::TempDir,
}

impl HeliaPeer {
    fn start(env: &[(&str, &str)]) -> HeliaPeer {
        let (child, info, dir) = helia_scripts::start("peer.mjs", env);
        HeliaPeer { child, info, _dir: dir }
    }

    fn addr(&self) -> String {
        self.info["addrs"][0].as_str().unwrap().to_string()
    }

    fn cid(&self, key: &str) -> Cid {
        self.info[key].as_str().unwrap().parse().unwrap()
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for HeliaPeer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Helia (MODE=fetch) reads `cid` from the peer at `addr`: its JSON answer.
fn helia_fetch(addr: &str, cid: &str) -> Value {
    let dir = script_dir();
    let out = Command::new("node")
        .arg("peer.mjs")
        .current_dir(dir.path())
        .envs([("MODE", "fetch"), ("PEER", addr), ("CID", cid), ("TIMEOUT_MS", "120000")])
        .stderr(Stdio::inherit())
        .output()
        .expect("node runs");
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("peer.mjs fetch said {text:?}: {e}"))
}

/// A session with the network on, dialling `peers`, whose only gateway is dead.
/// The TCP one of a node's listen addresses (Helia has no QUIC transport here).
fn tcp_addr(listen: &Value) -> String {
    let all = listen.as_array().unwrap_or_else(|| panic!("no listen addresses: {listen}"));
    let tcp = all.iter().filter_map(Value::as_str).find(|a| a.contains("/tcp/"));
    tcp.unwrap_or_else(|| panic!("no TCP address in {listen}")).to_string()
}

/// The bytes peer.mjs generates for a seed (sha256(seed:n) blocks).
/// Every block file in the store, each checked to be whole (it hashes to its name).
fn held_blocks(store: &Path) -> usize {
    let mut n = 0;
    for d in std::fs::read_dir(store.join("blocks")).into_iter().flatten().flatten() {
        for f in std::fs::read_dir(d.path()).into_iter().flatten().flatten() {
            let bytes = std::fs::read(f.path()).unwrap();
            assert_eq!(sha_hex(&bytes), f.file_name().to_string_lossy(), "a partial block was stored");
            n += 1;
        }
    }
    n
}

#[tokio::test]
#[ignore = "needs the Helia npm packages (install/setup.d/30-ipfs.sh)"]
async fn kelp_gets_a_64_mib_file_and_a_hamt_directory_from_a_helia_peer_over_bitswap() {
    let peer = HeliaPeer::start(&[("SEED", "kelp-bitswap"), ("FILE_MB", "64"), ("DIR_ENTRIES", "1200")]);
    let dir = tempfile::tempdir().unwrap();
    let c = session(dir.path(), &peer.addr());
    let (file, tree) = (peer.cid("file_cid"), peer.cid("dir_cid"));
    run(&c, &format!("ipfs get {file} -o big.bin")).await.unwrap();
    let got = std::fs::read(dir.path().join("big.bin")).unwrap();
    assert_eq!(got.len() as u64, peer.info["file_size"].as_u64().unwrap());
    assert_eq!(sha_hex(&got), peer.info["file_sha256"].as_str().unwrap());
    run(&c, &format!("ipfs get {tree} -o tree")).await.unwrap();
    let store = Store::open(&dir.path().join("home/ipfs")).unwrap();
    assert!(kelp_ipfs::exporter::stat(&store, &tree).unwrap().hamt, "Helia sharded the directory");
    let mut names: Vec<String> = std::fs::read_dir(dir.path().join("tree"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 1200);
    assert_eq!(names[7], "entry-00007.txt");
    let e = std::fs::read_to_string(dir.path().join("tree/entry-00042.txt")).unwrap();
    assert_eq!(e, "entry 42 of kelp-bitswap\n");
    // The same CIDs as Helia's, re-derived by kelp from the stored DAG.
    assert_eq!(kelp_ipfs::exporter::stat(&store, &file).unwrap().cid, file.to_string());
    kelp_ipfs::net::shutdown();
}

#[tokio::test]
#[ignore = "needs the Helia npm packages (install/setup.d/30-ipfs.sh)"]
async fn helia_fetches_what_kelp_added_from_the_session_node_and_from_serve() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = seeded("kelp-adds", 64 << 20);
    std::fs::write(dir.path().join("data.bin"), &bytes).unwrap();
    let tree = dir.path().join("tree");
    std::fs::create_dir(&tree).unwrap();
    for i in 0..1500 {
        std::fs::write(tree.join(format!("file-{i:05}.txt")), format!("kelp file {i}\n")).unwrap();
    }
    let c = session(dir.path(), "");
    let file = run(&c, "ipfs add data.bin --cid-version 1").await.unwrap().json().unwrap()["cid"].clone();
    let file = file.as_str().unwrap().to_string();
    let added = run(&c, "ipfs add -r tree --cid-version 1").await.unwrap();
    let tree_cid = added.json().unwrap()["cid"].as_str().unwrap().to_string();

    // The session's node (the one a kernel runs): started by `config network on`.
    let shown = run(&c, "ipfs config network on").await.unwrap();
    let addr = tcp_addr(&shown.json().unwrap()["node"]["listen"]);
    assert!(addr.starts_with("/ip4/127.0.0.1/tcp/"), "{addr}");
    let got = helia_fetch(&addr, &file);
    assert_eq!(got["sha256"].as_str(), Some(sha_hex(&bytes).as_str()), "{got}");
    assert_eq!(got["size"].as_u64(), Some(bytes.len() as u64));
    let listing = helia_fetch(&addr, &tree_cid);
    let names = listing["entries"].as_array().unwrap_or_else(|| panic!("{listing}"));
    assert_eq!(names.len(), 1500);
    assert_eq!(names[3], "file-00003.txt");
    // The environment overrides the config: without it, `config network off` stops the node.
    c.env.set("KELP_IPFS_NETWORK", None);
    run(&c, "ipfs config network off").await.unwrap();
    assert!(kelp_ipfs::net::running().is_none(), "network off stops the node");

    // `%ipfs serve --listen … --json` (what `kelp ipfs serve` runs): its own node.
    let sc = c.next();
    let (sink, cancel) = (sc.sink.clone(), sc.cancel.clone());
    let serving = tokio::spawn(async move { run(&sc, "ipfs serve --listen /ip4/127.0.0.1/tcp/0 --json").await });
    let line = loop {
        if let Some(l) = sink.stdout().lines().next() {
            break l.to_string();
        }
        assert!(!serving.is_finished(), "serve stopped early: {}", sink.stdout());
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let info: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("serve printed {line:?}: {e}"));
    let addr = tcp_addr(&info["listen"]);
    assert!(addr.ends_with(info["peer_id"].as_str().unwrap()), "{info}");
    let got = helia_fetch(&addr, &file);
    assert_eq!(got["sha256"].as_str(), Some(sha_hex(&bytes).as_str()), "{got}");
    cancel.cancel();
    let out = serving.await.unwrap().unwrap();
    assert_eq!(out.json().unwrap()["peer_id"], info["peer_id"]);
}

#[tokio::test]
#[ignore = "needs the Helia npm packages (install/setup.d/30-ipfs.sh)"]
async fn unknown_cids_dropped_peers_and_big_blocks_are_one_line_errors() {
    let mut peer = HeliaPeer::start(&[("SEED", "kelp-drop"), ("FILE_MB", "64"), ("DIR_ENTRIES", "0"), ("BIG", "1")]);
    let dir = tempfile::tempdir().unwrap();
    let c = session(dir.path(), &peer.addr());
    c.env.set("KELP_IPFS_NETWORK_TIMEOUT", Some("3".into()));
    let store_dir = dir.path().join("home/ipfs");

    // Nobody has it: Helia answers DONT_HAVE, so the get ends without waiting out the timeout,
    // and the error names the peers and the gateway.
    let unknown = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy";
    let e = run(&c, &format!("ipfs stat {unknown}")).await.unwrap_err();
    assert!(e.contains("Bitswap peers (every connected peer (1) answered that it does not have it)"), "{e}");
    assert!(e.contains(DEAD_GATEWAY) && !e.contains('\n'), "{e}");

    // A 3 MiB block: refused, not stored.
    let big = peer.cid("big_cid");
    let e = run(&c, &format!("ipfs stat {big}")).await.unwrap_err();
    assert!(e.contains("over the 2 MiB block limit: refused") && !e.contains('\n'), "{e}");
    assert!(!Store::open(&store_dir).unwrap().has(&big));

    // The peer dies mid-transfer: one line naming it; only whole blocks are kept.
    let file = peer.cid("file_cid");
    let sha = peer.info["file_sha256"].as_str().unwrap().to_string();
    let getting = {
        let c = c.clone();
        tokio::spawn(async move { run(&c, &format!("ipfs get {file} -o big.bin")).await })
    };
    while held_blocks(&store_dir) < 2 && !getting.is_finished() {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    peer.kill();
    let e = getting.await.unwrap().unwrap_err();
    assert!(e.contains("Bitswap peers (") && e.contains("disconnected"), "{e}");
    assert!(!e.contains('\n'), "{e}");
    assert!(!dir.path().join("big.bin").exists(), "no partial output");
    let held = held_blocks(&store_dir);
    assert!((2..65).contains(&held), "{held} blocks held");

    // Another peer with the same data: the get resumes (only missing blocks are asked for).
    let again = HeliaPeer::start(&[("SEED", "kelp-drop"), ("FILE_MB", "64"), ("DIR_ENTRIES", "0")]);
    assert_eq!(again.cid("file_cid"), file);
    c.env.set("KELP_IPFS_PEERS", Some(again.addr()));
    run(&c, &format!("ipfs get {file} -o big.bin")).await.unwrap();
    assert_eq!(sha_hex(&std::fs::read(dir.path().join("big.bin")).unwrap()), sha);
    assert_eq!(held_blocks(&store_dir), 65);
    kelp_ipfs::net::shutdown();
}
