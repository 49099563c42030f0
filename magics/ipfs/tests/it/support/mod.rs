//! Support shared by the modules of this test binary: hand-built DAGs, the Helia scripts'
//! directory, the js-ipfs daemon, and `%ipfs` cells. Fixtures other crates' tests share (fake
//! remotes, free ports) live in kelp-testkit; running a magic as a cell is `kelp_magic::testing`.

pub mod dags;
pub mod helia_scripts;
pub mod jsipfs_daemon;

use kelp_magic::testing::Cell;
use std::path::Path;

/// A cell with `%ipfs` in `dir` (the test owns it), `$KELP_HOME` = `<dir>/home`.
pub fn cell(dir: &Path) -> Cell {
    Cell::at(dir, kelp_ipfs::magics())
}
