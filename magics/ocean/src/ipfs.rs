//! kelp-ipfs for Ocean: adding a path before publishing and checking downloaded bytes against a
//! CID (the devnet's node serves `ipfs` files from the same block store).

use crate::error::{OceanError, Result};
use kelp_ipfs::{AddOptions, Store};
use std::path::Path;

/// Add a file (or directory) to the block store under `home` (`$KELP_HOME`) with Kubo's
/// default options; returns the CID.
pub async fn add_path(home: &Path, path: &Path) -> Result<String> {
    let (home, path) = (home.to_path_buf(), path.to_path_buf());
    tokio::task::spawn_blocking(move || {
        let store = Store::open_default(&kelp_magic::Config::at(&home))
            .map_err(|e| OceanError::devnet(format!("IPFS store: {e}")))?;
        let opts = AddOptions { recursive: path.is_dir(), ..AddOptions::default() };
        store
            .add_path(&path, &opts)
            .map(|a| a.cid.to_string())
            .map_err(|e| OceanError::input(format!("{}: {e}", path.display())))
    })
    .await
    .map_err(|e| OceanError::devnet(format!("IPFS add failed: {e}")))?
}

/// Whether `bytes` (one file) hash to `cid` under one of the usual import settings (Kubo's
/// defaults, CIDv1 with raw leaves, the unixfs-v1-2025 profile).
pub fn bytes_match_cid(bytes: &[u8], cid: &str) -> bool {
    import_options_of(bytes, cid).is_some()
}

/// The usual import settings: Kubo's defaults, CIDv1 with raw leaves, the unixfs-v1-2025 profile.
fn import_candidates() -> Vec<AddOptions> {
    let mut candidates = vec![AddOptions::default(), AddOptions { cid_version: 1, ..AddOptions::default() }];
    if let Ok(p) = AddOptions::profile("unixfs-v1-2025") {
        candidates.push(p);
    }
    candidates
}

/// The first of the usual import settings under which `bytes` (one file) hash to `cid`.
pub fn import_options_of(bytes: &[u8], cid: &str) -> Option<AddOptions> {
    import_candidates().into_iter().find(|o| kelp_ipfs::cid_of_bytes(bytes, o).is_ok_and(|c| c.to_string() == cid))
}

/// The first of the usual import settings under which the file at `path` hashes to `cid`
/// (read as a stream, never whole in memory).
pub fn import_options_of_path(path: &Path, cid: &str) -> Option<AddOptions> {
    import_candidates().into_iter().find(|o| kelp_ipfs::cid_of_path(path, o).is_ok_and(|c| c.to_string() == cid))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn added_file_is_served_and_verifies() {
        let home = tempfile::tempdir().unwrap();
        let file = home.path().join("d.csv");
        std::fs::write(&file, b"x,y\n1,2\n").unwrap();
        let cid = add_path(home.path(), &file).await.unwrap();
        assert!(cid.starts_with("Qm"), "{cid}");
        let store = Store::open_default(&kelp_magic::Config::at(home.path())).unwrap();
        let bytes = store.cat_str(&cid).unwrap();
        assert_eq!(bytes, b"x,y\n1,2\n");
        assert!(bytes_match_cid(&bytes, &cid));
        assert!(!bytes_match_cid(b"other", &cid));
        let missing = add_path(home.path(), &home.path().join("nope")).await.unwrap_err().to_string();
        assert!(missing.contains("nope"), "{missing}");
    }
}
