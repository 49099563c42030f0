//! The library's error type: each variant displays as one line saying what was wrong and what to do.

use std::path::PathBuf;

/// What went wrong in the C2D library.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum C2dError {
    #[error("bad resource spec {spec:?}: {why} (expected e.g. cpu=1,ram=2G,disk=1G)")]
    BadResources { spec: String, why: String },
    #[error("bad duration {0:?}: use a number with a unit, e.g. 90s, 5m, 1h or 1m30s")]
    BadDuration(String),
    #[error("bad size {0:?}: use a number with an optional unit, e.g. 512M, 2G or 1048576")]
    BadSize(String),
    #[error("bad parameter {0:?}: use key=value (value may be JSON, e.g. epochs=10 or tags=[\"a\"])")]
    BadParam(String),
    #[error("dataset not found: {0} (give an existing file or folder)")]
    DatasetMissing(PathBuf),
    #[error("algorithm not found: {0} (give an existing script or executable)")]
    AlgorithmMissing(PathBuf),
    #[error("a job needs at least one dataset (add --dataset PATH)")]
    NoDataset,
    #[error("unknown job {0:?} (run %c2d list to see the jobs)")]
    UnknownJob(String),
    #[error("job id prefix {0:?} matches several jobs; give more characters")]
    AmbiguousJob(String),
    #[error("unknown compute environment {0:?} (run %c2d envs to list them)")]
    UnknownEnvironment(String),
    #[error("{what} {asked} exceeds what environment {env} allows ({max})")]
    OverLimit { what: &'static str, asked: String, max: String, env: String },
    #[error("no source resolver handles {0:?} (give a local path; CIDs and DIDs need the ipfs/ocean plug-ins)")]
    NoResolver(String),
    #[error("job {id} has no result {index} (it has {count})")]
    NoResult { id: String, index: usize, count: usize },
    #[error("job {id} is still running (status {status}); wait for it or stop it")]
    NotFinished { id: String, status: String },
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("journal entry {path} is unreadable: {why}")]
    Journal { path: PathBuf, why: String },
    #[error("sandbox unavailable: {0}")]
    Sandbox(String),
    /// A remote compute node (e.g. an Ocean Node) refused or failed; the message says what to do.
    #[error("{0}")]
    Remote(String),
    #[error(
        "job {0} runs on a remote node, but this session has no {1:?} compute backend to reach it (use the kelp kernel)"
    )]
    NoRemote(String, String),
    #[error(
        "a job runs either locally or on a remote node: {0:?} and {1:?} cannot be mixed (publish the local data first)"
    )]
    MixedSources(String, String),
    #[error("IPFS: {0}")]
    Ipfs(String),
}

impl C2dError {
    /// An I/O error with what was being done.
    pub fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        C2dError::Io { what: what.into(), source }
    }
}

/// Result type of the library.
pub type Result<T, E = C2dError> = std::result::Result<T, E>;
