//! Where a devnet keeps its files under an `ocean` family directory (`$KELP_HOME/ocean`): the
//! launcher (kelp-ocean's devnet) writes them, the devnet's node (kelp-ocean-node) reads
//! `address.json` and its key and keeps its compute jobs there; and the two environment variables
//! the launcher hands the node process.

use std::path::PathBuf;

/// The node process's environment switch that lets it fetch `url` files from loopback (the
/// devnet's launcher sets it to `1`: the devnet's files are served from this machine).
pub const ENV_NODE_ALLOW_LOOPBACK: &str = "KELP_NODE_ALLOW_LOOPBACK";
/// The node process's environment variable naming the `ocean` family directory it reads.
pub const ENV_OCEAN_DIR: &str = "KELP_OCEAN_DIR";

/// The devnet's file layout.
#[derive(Debug, Clone)]
pub struct DevnetPaths {
    /// The `ocean` family directory.
    pub ocean_dir: PathBuf,
    /// `<ocean_dir>/devnet`: the devnet's state, snapshot and logs.
    pub dir: PathBuf,
}

impl DevnetPaths {
    /// The layout under an `ocean` family directory (`config.dir("ocean")`).
    pub fn new(ocean_dir: impl Into<PathBuf>) -> Self {
        let ocean_dir = ocean_dir.into();
        DevnetPaths { dir: ocean_dir.join("devnet"), ocean_dir }
    }
    pub fn address_file(&self) -> PathBuf {
        self.ocean_dir.join("address.json")
    }
    pub fn state_file(&self) -> PathBuf {
        self.dir.join("devnet.json")
    }
    pub fn snapshot_file(&self) -> PathBuf {
        self.dir.join("snapshot.json")
    }
    pub fn anvil_log(&self) -> PathBuf {
        self.dir.join("anvil.log")
    }
    /// The node process's log.
    pub fn node_log(&self) -> PathBuf {
        self.dir.join("node.log")
    }
    /// The node's key (hex, mode 0600), its identity across restarts.
    pub fn node_key(&self) -> PathBuf {
        self.ocean_dir.join("node").join("node-key")
    }
    /// Where the devnet's node keeps its compute jobs (never the user's own `%c2d` folder).
    pub fn node_compute_dir(&self) -> PathBuf {
        self.dir.join("node-c2d")
    }
}
