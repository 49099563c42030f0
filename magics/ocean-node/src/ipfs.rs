//! Where the node gets `ipfs` file objects: the [`IpfsSource`] seam and the devnet's source, kelp's
//! block store under `$KELP_HOME` ([`StoreSource`]).

use kelp_ipfs::Store;
use std::path::PathBuf;

/// Fetches `ipfs` file objects by CID (the kelp-ipfs block store, or a gateway).
#[async_trait::async_trait]
pub trait IpfsSource: Send + Sync {
    async fn cat(&self, cid: &str) -> std::result::Result<Vec<u8>, String>;
}

/// The node's source for `ipfs` files: kelp's block store under `$KELP_HOME`.
#[derive(Debug, Clone)]
pub struct StoreSource {
    pub home: PathBuf,
}

#[async_trait::async_trait]
impl IpfsSource for StoreSource {
    async fn cat(&self, cid: &str) -> std::result::Result<Vec<u8>, String> {
        let (home, cid) = (self.home.clone(), cid.to_string());
        tokio::task::spawn_blocking(move || {
            let store = Store::open_default(&kelp_magic::Config::at(&home)).map_err(|e| e.to_string())?;
            store.cat_str(&cid).map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| e.to_string())?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn serves_what_the_store_holds_and_names_a_missing_cid() {
        let home = tempfile::tempdir().unwrap();
        let store = Store::open_default(&kelp_magic::Config::at(home.path())).unwrap();
        let cid = kelp_ipfs::cid_of_bytes(b"x,y\n1,2\n", &kelp_ipfs::AddOptions::default()).unwrap().to_string();
        let file = home.path().join("d.csv");
        std::fs::write(&file, b"x,y\n1,2\n").unwrap();
        let added = store.add_path(&file, &kelp_ipfs::AddOptions::default()).unwrap();
        assert_eq!(added.cid.to_string(), cid);
        let source = StoreSource { home: home.path().to_path_buf() };
        assert_eq!(source.cat(&cid).await.unwrap(), b"x,y\n1,2\n");
        let other = kelp_ipfs::cid_of_bytes(b"other", &kelp_ipfs::AddOptions::default()).unwrap().to_string();
        assert!(source.cat(&other).await.is_err());
    }
}
