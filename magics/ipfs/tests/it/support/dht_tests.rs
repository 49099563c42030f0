//! kelp's Kademlia DHT (`%ipfs config dht on`, `KELP_IPFS_DHT=1`) against Helia peers running
//! @libp2p/kad-dht in client and server mode on loopback (tests/helia/dht.mjs); part of
//! tests/bitswap.rs (ignored by default, run one at a time by install/test.d/30-ipfs.sh):
//! - Helia provides a file; kelp, whose only peer is a Helia hub that holds nothing, gets it only
//!   with the DHT on (off: every connected peer lacks it), by finding the provider through the
//!   hub, dialling it and fetching over Bitswap, every block verified; once kelp pins it, a
//!   Helia that knows only the hub finds kelp as a provider too and reads the same bytes from it;
//! - kelp adds a file with the DHT on; a Helia peer that knows only the hub finds kelp as its
//!   provider through the DHT and reads identical bytes from kelp over Bitswap.

use super::{helia_scripts, run, seeded, session, sha_hex};
use serde_json::Value;
use std::process::{Child, Command, Stdio};

/// A dht.mjs peer (MODE hub or provide); killed on drop.
struct DhtPeer {
    child: Child,
    info: Value,
    _dir: tempfile::TempDir,
}

impl DhtPeer {
    fn start(env: &[(&str, &str)]) -> DhtPeer {
        let (child, info, dir) = helia_scripts::start("dht.mjs", env);
        assert!(info["error"].is_null(), "dht.mjs failed: {info}");
        DhtPeer { child, info, _dir: dir }
    }

    fn addr(&self) -> String {
        self.info["addrs"][0].as_str().unwrap().to_string()
    }
}

impl Drop for DhtPeer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// dht.mjs MODE=find: a fresh Helia that knows only `hub` looks `cid` up on the DHT and reads it
/// from the provider `want` (a peer id).
fn helia_find(hub: &str, cid: &str, want: &str) -> Value {
    let dir = helia_scripts::script_dir();
    let out = Command::new("node")
        .arg("dht.mjs")
        .current_dir(dir.path())
        .envs([("MODE", "find"), ("HUB", hub), ("CID", cid), ("TIMEOUT_MS", "30000"), ("WANT", want)])
        .stderr(Stdio::inherit())
        .output()
        .expect("node runs");
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("dht.mjs find said {text:?}: {e}"))
}

/// [`helia_find`] of `want`'s copy; the announcement reaches the hub on kelp's own thread, so a
/// finder started before it lands finds nobody: it is asked again, up to 5 times.
async fn find_until_announced(hub: &str, cid: &str, want: &str) -> Value {
    let mut found = Value::Null;
    for _ in 0..5 {
        found = helia_find(hub, cid, want);
        if found["error"].is_null() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
    found
}

#[tokio::test]
#[ignore = "needs the Helia npm packages (install/setup.d/30-ipfs.sh)"]
async fn kelp_finds_a_helia_provider_through_the_dht_and_fetches_it() {
    let hub = DhtPeer::start(&[("MODE", "hub")]);
    let provider =
        DhtPeer::start(&[("MODE", "provide"), ("HUB", &hub.addr()), ("SEED", "kelp-dht-find"), ("FILE_KB", "3072")]);
    let cid = provider.info["file_cid"].as_str().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let c = session(dir.path(), &hub.addr());
    c.env.set("KELP_IPFS_NETWORK_TIMEOUT", Some("20".into()));
    // DHT off: the hub is the only peer and it lacks the file.
    c.env.set("KELP_IPFS_DHT", Some("0".into()));
    let e = run(&c, &format!("ipfs get {cid} -o off.bin")).await.unwrap_err();
    assert!(e.contains("does not have it"), "{e}");
    assert!(!dir.path().join("off.bin").exists());
    // DHT on: the hub names the provider, kelp dials it and fetches over Bitswap.
    c.env.set("KELP_IPFS_DHT", Some("1".into()));
    run(&c, &format!("ipfs get {cid} -o on.bin")).await.unwrap();
    let got = std::fs::read(dir.path().join("on.bin")).unwrap();
    assert_eq!(got.len() as u64, provider.info["file_size"].as_u64().unwrap());
    assert_eq!(sha_hex(&got), provider.info["file_sha256"].as_str().unwrap());
    let info = kelp_ipfs::net::running().unwrap().info().await.unwrap();
    let provider_id: libp2p::PeerId = provider.info["peer_id"].as_str().unwrap().parse().unwrap();
    assert!(info.connected.contains(&provider_id), "kelp connected to the provider it found: {info:?}");
    // What kelp pins it announces: a Helia knowing only the hub finds kelp among the providers.
    run(&c, &format!("ipfs pin add {cid}")).await.unwrap();
    let me = info.peer_id.to_string();
    let found = find_until_announced(&hub.addr(), &cid, &me).await;
    assert_eq!(found["providers"][0].as_str(), Some(me.as_str()), "{found}");
    assert_eq!(found["sha256"], provider.info["file_sha256"], "{found}");
    kelp_ipfs::net::shutdown();
}

#[tokio::test]
#[ignore = "needs the Helia npm packages (install/setup.d/30-ipfs.sh)"]
async fn helia_finds_kelp_through_the_dht_after_kelp_adds() {
    let hub = DhtPeer::start(&[("MODE", "hub")]);
    let dir = tempfile::tempdir().unwrap();
    let bytes = seeded("kelp-dht-provide", 3 << 20);
    std::fs::write(dir.path().join("data.bin"), &bytes).unwrap();
    let c = session(dir.path(), &hub.addr());
    c.env.set("KELP_IPFS_DHT", Some("1".into()));
    let added = run(&c, "ipfs add data.bin --cid-version 1").await.unwrap();
    let cid = added.json().unwrap()["cid"].as_str().unwrap().to_string();
    let me = kelp_ipfs::net::running().unwrap().peer_id().to_string();
    let found = find_until_announced(&hub.addr(), &cid, &me).await;
    assert_eq!(found["providers"][0].as_str(), Some(me.as_str()), "{found}");
    assert_eq!(found["sha256"].as_str().unwrap(), sha_hex(&bytes));
    assert_eq!(found["size"].as_u64().unwrap(), bytes.len() as u64);
    kelp_ipfs::net::shutdown();
}
