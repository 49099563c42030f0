//! Where datasets and algorithms come from. The engine only knows local paths; a
//! [`SourceResolver`] turns what a user names (a path now; an IPFS CID through kelp-ipfs, an
//! Ocean DID through kelp-ocean later) into local files before the job is submitted, so new
//! sources plug in without touching the engine.

use crate::{AlgorithmSpec, C2dError, Container, DatasetInput, Result};
use async_trait::async_trait;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A source made local.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    /// Local file or folder.
    pub path: PathBuf,
    /// Name for `/data/inputs/<id>` (Ocean uses the DID); empty = derive from the path.
    pub id: String,
    /// Algorithm container metadata, when the source carries it (an Ocean algorithm DDO does).
    pub container: Option<Container>,
}

/// Turns one kind of source string into a local file.
#[async_trait]
pub trait SourceResolver: Send + Sync {
    /// Short name for messages (`path`, `ipfs`, `ocean`).
    fn name(&self) -> &'static str;
    /// Whether this resolver handles `source` (e.g. starts with `did:op:`).
    fn accepts(&self, source: &str) -> bool;
    /// Fetch or locate `source`; `workdir` is a private folder for downloads.
    async fn resolve(&self, source: &str, workdir: &Path) -> Result<Resolved>;
}

/// Local paths (relative to a base folder).
#[derive(Debug, Clone)]
pub struct PathResolver {
    pub base: PathBuf,
}

#[async_trait]
impl SourceResolver for PathResolver {
    fn name(&self) -> &'static str {
        "path"
    }
    fn accepts(&self, source: &str) -> bool {
        !source.starts_with("did:") && !source.starts_with("ipfs://")
    }
    async fn resolve(&self, source: &str, _workdir: &Path) -> Result<Resolved> {
        let p = self.base.join(source);
        Ok(Resolved { path: p, id: String::new(), container: None })
    }
}

/// An ordered set of resolvers; the first that accepts a source resolves it.
#[derive(Clone, Default)]
pub struct Resolvers(Vec<Arc<dyn SourceResolver>>);

impl std::fmt::Debug for Resolvers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.iter().map(|r| r.name())).finish()
    }
}

impl Resolvers {
    /// Only local paths, relative to `base`.
    pub fn paths(base: impl Into<PathBuf>) -> Self {
        Resolvers(vec![Arc::new(PathResolver { base: base.into() })])
    }

    /// Put `r` in front, so it is asked before the ones already there.
    pub fn with(mut self, r: Arc<dyn SourceResolver>) -> Self {
        self.0.insert(0, r);
        self
    }

    async fn pick(&self, source: &str, workdir: &Path) -> Result<Resolved> {
        let r = self.0.iter().find(|r| r.accepts(source)).ok_or_else(|| C2dError::NoResolver(source.to_string()))?;
        r.resolve(source, workdir).await
    }

    /// A dataset input for `source`; a missing local path is an error here, before submit.
    pub async fn dataset(&self, source: &str, workdir: &Path) -> Result<DatasetInput> {
        let r = self.pick(source, workdir).await?;
        if !r.path.exists() {
            return Err(C2dError::DatasetMissing(r.path));
        }
        Ok(DatasetInput { id: r.id, path: r.path, source: Some(source.to_string()) })
    }

    /// The algorithm for `source`.
    pub async fn algorithm(&self, source: &str, workdir: &Path) -> Result<AlgorithmSpec> {
        let r = self.pick(source, workdir).await?;
        if !r.path.is_file() {
            return Err(C2dError::AlgorithmMissing(r.path));
        }
        let container = r.container.unwrap_or_else(|| Container::for_path(&r.path));
        Ok(AlgorithmSpec { path: r.path, container, source: Some(source.to_string()) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct FakeDid;
    #[async_trait]
    impl SourceResolver for FakeDid {
        fn name(&self) -> &'static str {
            "did-test"
        }
        fn accepts(&self, s: &str) -> bool {
            s.starts_with("did:op:")
        }
        async fn resolve(&self, s: &str, workdir: &Path) -> Result<Resolved> {
            let p = workdir.join("fetched.csv");
            std::fs::write(&p, "1,2\n").map_err(|e| C2dError::io("write", e))?;
            Ok(Resolved { path: p, id: s.to_string(), container: None })
        }
    }

    #[tokio::test]
    async fn paths_and_plugged_resolver() {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join("d.csv"), "x").unwrap();
        let rs = Resolvers::paths(t.path());
        let d = rs.dataset("d.csv", t.path()).await.unwrap();
        assert_eq!(d.path, t.path().join("d.csv"));
        assert!(matches!(rs.dataset("nope.csv", t.path()).await, Err(C2dError::DatasetMissing(_))));
        assert!(matches!(rs.dataset("did:op:12", t.path()).await, Err(C2dError::NoResolver(_))));
        assert!(matches!(rs.algorithm("d", t.path()).await, Err(C2dError::AlgorithmMissing(_))));
        let rs = rs.with(Arc::new(FakeDid));
        let d = rs.dataset("did:op:12", t.path()).await.unwrap();
        assert_eq!((d.id.as_str(), d.source.as_deref()), ("did:op:12", Some("did:op:12")));
        assert!(d.path.ends_with("fetched.csv"));
    }
}
