//! Support shared by the modules of this test binary: hand-built DAGs, the Helia scripts'
//! directory, the js-ipfs daemon, and `%ipfs` cells. Fixtures other crates' tests share (fake
//! remotes, free ports) live in kelp-testkit; running a magic as a cell is `kelp_magic::testing`.

pub mod dags;
pub mod helia_scripts;
pub mod jsipfs_daemon;

use kelp_magic::Output;
use kelp_magic::testing::Cell;
use sha2::{Digest, Sha256};
use std::path::Path;

/// A gateway nobody listens on: a block that does not come over Bitswap fails the get.
pub const DEAD_GATEWAY: &str = "http://127.0.0.1:9";

/// A cell with `%ipfs` in `dir` (the test owns it), `$KELP_HOME` = `<dir>/home`.
pub fn cell(dir: &Path) -> Cell {
    Cell::at(dir, kelp_ipfs::magics())
}

/// A cell with the network on, dialling `peers`, whose only gateway is dead (2 s timeout).
pub fn network_cell(dir: &Path, peers: &str) -> Cell {
    let c = cell(dir);
    c.env("KELP_IPFS_NETWORK", Some("1"));
    c.env("KELP_IPFS_PEERS", Some(peers));
    c.env("KELP_IPFS_GATEWAYS", Some(DEAD_GATEWAY));
    c.env("KELP_IPFS_GATEWAY_TIMEOUT", Some("2"));
    c
}

/// `c.run(line)` with the error as its one line of text.
pub async fn run_text(c: &Cell, line: &str) -> Result<Output, String> {
    c.run(line).await.map_err(|e| e.to_string())
}

/// Lowercase hex sha256.
pub fn sha_hex(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

/// The bytes the Helia scripts (peer.mjs) generate for a seed: sha256(seed:n) blocks.
pub fn seeded(seed: &str, size: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(size + 32);
    let mut n = 0u64;
    while out.len() < size {
        out.extend_from_slice(&Sha256::digest(format!("{seed}:{n}")));
        n += 1;
    }
    out.truncate(size);
    out
}
