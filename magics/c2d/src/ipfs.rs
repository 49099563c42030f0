//! IPFS CIDs as job sources: `--dataset CID` / `--algorithm CID` (or `ipfs://CID`) are read from
//! kelp's local block store (`$KELP_HOME/ipfs`, the one `%ipfs add` writes), every block
//! verified, into the engine's download folder. The folder is content addressed, so a CID used
//! twice is exported once.

use crate::resolve::{Resolved, SourceResolver};
use crate::{C2dError, Container, Result};
use async_trait::async_trait;
use std::path::{Path, PathBuf};

/// Resolves CIDs from a kelp-ipfs store.
#[derive(Debug, Clone)]
pub struct IpfsResolver {
    /// The block store folder (`$KELP_HOME/ipfs`).
    pub store: PathBuf,
    /// The cell's folder: a name that exists there is a path, not a CID.
    pub base: PathBuf,
}

impl IpfsResolver {
    fn cid_text(source: &str) -> &str {
        source.trim().trim_start_matches("ipfs://").trim_start_matches("/ipfs/")
    }
}

/// The default entrypoint for an algorithm known only by its bytes: a `#!` script runs itself,
/// anything else is taken for Python (give `--entrypoint` otherwise).
fn sniff_container(path: &Path) -> Container {
    let head = std::fs::read(path).map(|b| b.into_iter().take(2).collect::<Vec<u8>>()).unwrap_or_default();
    let entrypoint = if head == b"#!" { "$ALGO" } else { "python3 $ALGO" };
    Container { entrypoint: entrypoint.into(), image: "python".into(), tag: "3".into(), checksum: None }
}

#[async_trait]
impl SourceResolver for IpfsResolver {
    fn name(&self) -> &'static str {
        "ipfs"
    }

    fn accepts(&self, source: &str) -> bool {
        if source.starts_with("ipfs://") || source.starts_with("/ipfs/") {
            return true;
        }
        !self.base.join(source).exists() && kelp_ipfs::parse_cid(source).is_ok()
    }

    async fn resolve(&self, source: &str, workdir: &Path) -> Result<Resolved> {
        let text = Self::cid_text(source).to_string();
        let cid = kelp_ipfs::parse_cid(&text).map_err(|e| C2dError::Ipfs(e.to_string()))?;
        let store_dir = self.store.clone();
        let out = workdir.join(cid.to_string());
        let out2 = out.clone();
        let got = tokio::task::spawn_blocking(move || -> Result<()> {
            if out2.exists() {
                return Ok(());
            }
            std::fs::create_dir_all(out2.parent().unwrap_or(Path::new(".")))
                .map_err(|e| C2dError::io(format!("creating {}", out2.display()), e))?;
            let store = kelp_ipfs::Store::open(&store_dir).map_err(|e| C2dError::Ipfs(e.to_string()))?;
            match store.get(&cid, &out2) {
                Ok(()) => Ok(()),
                Err(kelp_ipfs::IpfsError::NotFound(_)) => Err(C2dError::Ipfs(format!(
                    "{cid} is not in the local store {}: add it with %ipfs add (or import its CAR) first",
                    store_dir.display()
                ))),
                Err(e) => Err(C2dError::Ipfs(format!("{cid}: {e}"))),
            }
        })
        .await
        .map_err(|e| C2dError::Ipfs(format!("export of {text} stopped: {e}")))?;
        got?;
        let container = out.is_file().then(|| sniff_container(&out));
        Ok(Resolved { path: out, id: text, container })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Resolvers;
    use std::sync::Arc;

    #[tokio::test]
    async fn cids_come_from_the_store_and_unknown_ones_are_one_clear_line() {
        let t = tempfile::tempdir().unwrap();
        let store_dir = t.path().join("ipfs");
        let store = kelp_ipfs::Store::open(&store_dir).unwrap();
        let data = b"a,b\n1,2\n3,4\n";
        let added = store.add_bytes(data, &kelp_ipfs::AddOptions::default()).unwrap();
        let algo = store.add_bytes(b"print('hi')\n", &kelp_ipfs::AddOptions::default()).unwrap();
        let r = IpfsResolver { store: store_dir.clone(), base: t.path().to_path_buf() };
        let rs = Resolvers::paths(t.path()).with(Arc::new(r.clone()));
        let work = t.path().join("downloads");
        let cid = added.cid.to_string();
        let d = rs.dataset(&cid, &work).await.unwrap();
        assert_eq!(std::fs::read(&d.path).unwrap(), data);
        assert_eq!(d.source.as_deref(), Some(cid.as_str()));
        // Again (already exported) and through the ipfs:// form.
        let d2 = rs.dataset(&format!("ipfs://{cid}"), &work).await.unwrap();
        assert_eq!(d2.path, d.path);
        let a = rs.algorithm(&algo.cid.to_string(), &work).await.unwrap();
        assert_eq!(a.container.entrypoint, "python3 $ALGO");
        // A CID-looking name that exists as a local file stays a path.
        std::fs::write(t.path().join(&cid), "local").unwrap();
        assert!(!r.accepts(&cid));
        // Unknown CID: one line naming it and what to do.
        let unknown = kelp_ipfs::cid_of_bytes(b"never added", &kelp_ipfs::AddOptions::default()).unwrap().to_string();
        let e = rs.dataset(&unknown, &work).await.unwrap_err().to_string();
        assert!(e.contains(&unknown) && e.contains("%ipfs add") && !e.contains('\n'), "{e}");
        assert!(!work.join(&unknown).exists(), "nothing half written");
    }
}
