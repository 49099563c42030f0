//! A REAL js-ipfs 0.66.1 daemon for the interop tests, started on free loopback ports with a
//! temporary IPFS_PATH (`jsipfs init --profile test`: no bootstrap, no mDNS) and killed on drop.
//! Offline, it is a Kubo RPC endpoint only; online, it also listens for libp2p on loopback TCP
//! (Noise + Mplex, js-libp2p 0.42) with no DHT, so it meets peers only by address.

use kelp_testkit::free_port;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// `KELP_JSIPFS`, else the copy install/setup.d/30-ipfs.sh puts in install/.tools/jsipfs.
pub fn jsipfs_bin() -> PathBuf {
    let p = std::env::var_os("KELP_JSIPFS").map(PathBuf::from).unwrap_or_else(|| {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../install/.tools/jsipfs/node_modules/.bin/jsipfs")
    });
    assert!(p.exists(), "js-ipfs is not installed at {} — run install/setup (install/setup.d/30-ipfs.sh)", p.display());
    p
}

pub struct Daemon {
    child: Child,
    /// The Kubo RPC endpoint.
    pub url: String,
    /// The libp2p listen address with `/p2p/<peer id>` (online daemons only).
    pub swarm: Option<String>,
    _repo: tempfile::TempDir,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Start a daemon; `online` also runs its libp2p node (Bitswap) on a loopback TCP port.
pub fn start_daemon(online: bool) -> Daemon {
    let bin = jsipfs_bin();
    let repo = tempfile::tempdir().unwrap();
    let st = Command::new(&bin)
        .args(["init", "--profile", "test"])
        .env("IPFS_PATH", repo.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success(), "jsipfs init failed");
    let (api, gw, p2p) = (free_port(), free_port(), free_port());
    let cfg_path = repo.path().join("config");
    let mut cfg: serde_json::Value = serde_json::from_slice(&std::fs::read(&cfg_path).unwrap()).unwrap();
    cfg["Addresses"]["API"] = format!("/ip4/127.0.0.1/tcp/{api}").into();
    cfg["Addresses"]["Gateway"] = format!("/ip4/127.0.0.1/tcp/{gw}").into();
    cfg["Addresses"]["RPC"] = format!("/ip4/127.0.0.1/tcp/{}", free_port()).into();
    cfg["Addresses"]["Swarm"] =
        if online { serde_json::json!([format!("/ip4/127.0.0.1/tcp/{p2p}")]) } else { serde_json::json!([]) };
    cfg["Addresses"]["Delegates"] = serde_json::json!([]);
    cfg["Bootstrap"] = serde_json::json!([]);
    cfg["Routing"] = serde_json::json!({"Type": "none"});
    let peer_id = cfg["Identity"]["PeerID"].as_str().unwrap_or_default().to_string();
    std::fs::write(&cfg_path, serde_json::to_vec_pretty(&cfg).unwrap()).unwrap();
    let mut cmd = Command::new(&bin);
    cmd.arg("daemon");
    if !online {
        cmd.arg("--offline");
    }
    // KELP_JSIPFS_STDERR=FILE keeps the daemon's stderr (with DEBUG=ipfs:*,libp2p:* for its logs).
    let stderr = match std::env::var_os("KELP_JSIPFS_STDERR") {
        Some(f) => Stdio::from(std::fs::File::create(f).unwrap()),
        None => Stdio::null(),
    };
    let mut child = cmd.env("IPFS_PATH", repo.path()).stdout(Stdio::piped()).stderr(stderr).spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.contains("Daemon is ready") {
                let _ = tx.send(());
            }
        }
    });
    let url = format!("http://127.0.0.1:{api}");
    let swarm = online.then(|| format!("/ip4/127.0.0.1/tcp/{p2p}/p2p/{peer_id}"));
    let d = Daemon { child, url, swarm, _repo: repo };
    rx.recv_timeout(Duration::from_secs(90)).expect("js-ipfs daemon did not become ready in 90 s");
    d
}
