//! The library's error type: every variant renders as one line saying what was wrong and what to do.

use std::path::PathBuf;

/// What went wrong in a kelp-ipfs operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IpfsError {
    /// A path to add (or to write to) does not exist or cannot be read.
    #[error("{}: {source} (check the path)", path.display())]
    Path { path: PathBuf, source: std::io::Error },
    /// A directory was given without `-r`.
    #[error("{} is a directory: add it with -r (--recursive)", .0.display())]
    IsDirectory(PathBuf),
    /// Text that is not a CID.
    #[error("{input:?} is not a CID ({reason}); expected e.g. Qm… or bafy…")]
    BadCid { input: String, reason: String },
    /// A block is not in the local store.
    #[error("block {0} is not in the local store: add or import it first (or fetch it with --to kubo)")]
    NotFound(String),
    /// A stored block does not hash to its CID (disk corruption or tampering).
    #[error("block {0} is corrupt: its bytes do not match its hash; run %ipfs gc and add the data again")]
    CorruptBlock(String),
    /// Bytes that should be a DAG-PB / UnixFS / CAR structure are malformed.
    #[error("malformed data: {0}")]
    Corrupt(String),
    /// The CID names something this operation cannot handle.
    #[error("{0}")]
    Unsupported(String),
    /// An option value that cannot be used.
    #[error("{0}")]
    BadOption(String),
    /// The operation was interrupted; nothing was left half written.
    #[error("interrupted while {0}; nothing was left half written")]
    Cancelled(String),
    /// The store directory could not be used.
    #[error("IPFS store at {}: {source}", path.display())]
    Store { path: PathBuf, source: std::io::Error },
    /// A remote node or service failed.
    #[error("{0}")]
    Remote(String),
    /// Other I/O failures.
    #[error("I/O error while {what}: {source}")]
    Io { what: String, source: std::io::Error },
}

impl IpfsError {
    pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> IpfsError {
        let what = what.into();
        move |source| IpfsError::Io { what, source }
    }
    pub(crate) fn path(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> IpfsError {
        let path = path.to_path_buf();
        move |source| IpfsError::Path { path, source }
    }
}

/// Parse a CID given by a person, with a useful one-line error.
pub fn parse_cid(s: &str) -> Result<cid::Cid, IpfsError> {
    let t = s.trim().trim_start_matches("/ipfs/").trim_start_matches("ipfs://");
    let t = t.split('/').next().unwrap_or(t);
    cid::Cid::try_from(t).map_err(|e| IpfsError::BadCid { input: s.to_string(), reason: e.to_string() })
}
