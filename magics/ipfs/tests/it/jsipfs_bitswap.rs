//! kelp and a REAL js-ipfs 0.66.1 daemon exchange blocks over Bitswap 1.2 on loopback TCP
//! (Noise + Mplex: js-libp2p 0.42 has no Yamux, so kelp's node offers Mplex after Yamux).
//! Ignored by default; install/test.d/30-ipfs.sh runs it with `--ignored --test-threads 1`
//! (the network node is one per process):
//! - kelp gets a 24 MiB file js-ipfs added and a 1200-entry HAMT-sharded directory that only
//!   js-ipfs holds (imported into it as a CAR), every block over Bitswap: the only gateway is dead;
//! - js-ipfs (`swarm connect` to kelp's node, then `cat`) gets a 24 MiB file kelp added, and
//!   entries of a 1200-entry HAMT directory kelp added by path through its shards; bytes identical.

use crate::support::jsipfs_daemon;
use crate::support::{network_cell, run_text as run, seeded, sha_hex};
use jsipfs_daemon::start_daemon;
use kelp_ipfs::kubo::Kubo;
use kelp_ipfs::{AddOptions, Cid, Store, car};
use kelp_magic::Output;
use kelp_magic::testing::Cell;
use serde_json::Value;
use std::path::Path;

const FILE_MB: usize = 24;
const ENTRIES: usize = 1200;

/// A directory of `n` small files whose names are long enough that kelp (like Kubo, over its
/// 256 KiB estimate) shards it as a HAMT.
fn many_files(dir: &Path, n: usize) {
    std::fs::create_dir(dir).unwrap();
    for i in 0..n {
        std::fs::write(dir.join(entry(i)), format!("entry {i}\n")).unwrap();
    }
}

/// A 200-character name: 1200 of them pass the 256 KiB estimate.
fn entry(i: usize) -> String {
    format!("{}-{i:06}.txt", "kelp-interop-entry-with-a-long-name".repeat(6).get(..189).unwrap())
}

/// A Kubo RPC call on the daemon (`timeout` bounds the daemon's own wait for blocks).
async fn rpc(url: &str, cmd: &str, arg: &str) -> reqwest::Response {
    let u =
        reqwest::Url::parse_with_params(&format!("{url}/api/v0/{cmd}"), [("arg", arg), ("timeout", "120s")]).unwrap();
    let r = reqwest::Client::new()
        .post(u)
        .timeout(std::time::Duration::from_secs(150))
        .send()
        .await
        .unwrap_or_else(|e| panic!("js-ipfs {cmd}: {e}"));
    assert!(r.status().is_success(), "js-ipfs {cmd} {arg}: {} {:?}", r.status(), r.text().await);
    r
}

/// A network cell that waits up to 30 s for js-ipfs's blocks.
fn session(dir: &Path, peers: &str) -> Cell {
    let c = network_cell(dir, peers);
    c.env("KELP_IPFS_NETWORK_TIMEOUT", Some("30"));
    c
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the js-ipfs daemon; run by install/test.d/30-ipfs.sh with --ignored"]
async fn kelp_gets_from_a_jsipfs_daemon_over_bitswap() {
    let daemon = start_daemon(true);
    let kubo = Kubo::new(&daemon.url).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let bytes = seeded("jsipfs-holds", FILE_MB << 20);
    std::fs::write(dir.path().join("js.bin"), &bytes).unwrap();
    let opts = AddOptions { cid_version: 1, recursive: true, ..AddOptions::default() };
    let file = kubo.add_path(&dir.path().join("js.bin"), &opts).await.unwrap().pop().unwrap().hash;
    // A sharded directory only js-ipfs holds: built in a scratch store, moved as a CAR.
    many_files(&dir.path().join("sharded"), ENTRIES);
    let scratch = Store::open(&dir.path().join("scratch")).unwrap();
    let tree = scratch.add_path(&dir.path().join("sharded"), &opts).unwrap().cid;
    assert!(kelp_ipfs::exporter::stat(&scratch, &tree).unwrap().hamt, "1200 long names make a HAMT");
    let car_path = dir.path().join("sharded.car");
    car::export(&scratch, &tree, &mut std::fs::File::create(&car_path).unwrap()).unwrap();
    assert_eq!(kubo.dag_import(&car_path).await.unwrap(), vec![tree.to_string()]);
    drop(scratch);
    std::fs::remove_dir_all(dir.path().join("scratch")).unwrap();

    let c = session(dir.path(), daemon.swarm.as_deref().unwrap());
    run(&c, &format!("ipfs get {file} -o got.bin")).await.unwrap();
    let got = std::fs::read(dir.path().join("got.bin")).unwrap();
    assert_eq!((got.len(), sha_hex(&got)), (bytes.len(), sha_hex(&bytes)));
    run(&c, &format!("ipfs get {tree} -o tree")).await.unwrap();
    let n = std::fs::read_dir(dir.path().join("tree")).unwrap().count();
    assert_eq!(n, ENTRIES);
    let e = std::fs::read_to_string(dir.path().join("tree").join(entry(ENTRIES - 1))).unwrap();
    assert_eq!(e, format!("entry {}\n", ENTRIES - 1));
    // The store now holds the DAGs js-ipfs named, re-derived to the same CIDs.
    let store = Store::open(&dir.path().join("home/ipfs")).unwrap();
    let file_cid: Cid = file.parse().unwrap();
    assert_eq!(kelp_ipfs::exporter::stat(&store, &file_cid).unwrap().cid, file);
    assert!(kelp_ipfs::exporter::stat(&store, &tree).unwrap().hamt);
    kelp_ipfs::net::shutdown();
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the js-ipfs daemon; run by install/test.d/30-ipfs.sh with --ignored"]
async fn a_jsipfs_daemon_gets_what_kelp_added_over_bitswap() {
    let daemon = start_daemon(true);
    let dir = tempfile::tempdir().unwrap();
    let bytes = seeded("kelp-holds", FILE_MB << 20);
    std::fs::write(dir.path().join("data.bin"), &bytes).unwrap();
    many_files(&dir.path().join("sharded"), ENTRIES);
    let c = session(dir.path(), "");
    let added = |o: Output| o.json().unwrap()["cid"].as_str().unwrap().to_string();
    let file = added(run(&c, "ipfs add data.bin --cid-version 1").await.unwrap());
    let tree = added(run(&c, "ipfs add -r sharded --cid-version 1").await.unwrap());

    let shown = run(&c, "ipfs config network on").await.unwrap();
    let listen = shown.json().unwrap()["node"]["listen"].clone();
    let addr = listen.as_array().unwrap().iter().filter_map(Value::as_str).find(|a| a.contains("/tcp/")).unwrap();
    let connected: Value = rpc(&daemon.url, "swarm/connect", addr).await.json().await.unwrap();
    assert!(connected.to_string().contains("success"), "{connected}");

    let got = rpc(&daemon.url, "cat", &file).await.bytes().await.unwrap();
    assert_eq!((got.len(), sha_hex(&got)), (bytes.len(), sha_hex(&bytes)));
    // Through kelp's HAMT by path: js-ipfs walks the shards to the entries (its `ls` would fetch
    // every entry one by one, ~12 a second from any peer: too slow for a test).
    for i in [42, ENTRIES - 1] {
        let got = rpc(&daemon.url, "cat", &format!("/ipfs/{tree}/{}", entry(i))).await.bytes().await.unwrap();
        assert_eq!(got, format!("entry {i}\n").as_bytes());
    }
    let st: Value = rpc(&daemon.url, "files/stat", &format!("/ipfs/{tree}")).await.json().await.unwrap();
    assert_eq!(st["Type"], "directory", "{st}");
    // js-ipfs re-derives nothing: the CIDs it fetched are kelp's, so its own stat agrees.
    let st: Value = rpc(&daemon.url, "files/stat", &format!("/ipfs/{file}")).await.json().await.unwrap();
    assert_eq!(st["Size"].as_u64(), Some(bytes.len() as u64), "{st}");
    kelp_ipfs::net::shutdown();
}
