//! The error of kelp-ocean-node: starting the node (its key, the devnet's files, the port) and
//! talking to the chain, each one line saying what went wrong and what to do. Request handlers
//! answer HTTP errors of their own ([`crate::state::ApiError`]); this is for the node's own operations.

use kelp_ocean_wire::WireError;

/// Everything that can go wrong running the node.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// The node cannot start or run (its key, the devnet's files, the port, a task).
    #[error("{0}")]
    Setup(String),
    /// Bad input (a request body the node cannot use).
    #[error("{0}")]
    Input(String),
    /// The chain could not be reached or refused a call.
    #[error("chain at {url}: {reason}")]
    Chain { url: String, reason: String },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl NodeError {
    /// An I/O error on `path`.
    pub fn io(path: impl AsRef<std::path::Path>, source: std::io::Error) -> Self {
        NodeError::Io { path: path.as_ref().display().to_string(), source }
    }
    /// A setup problem.
    pub fn setup(msg: impl Into<String>) -> Self {
        NodeError::Setup(msg.into())
    }
    /// Bad input.
    pub fn input(msg: impl Into<String>) -> Self {
        NodeError::Input(msg.into())
    }
}

impl From<WireError> for NodeError {
    fn from(e: WireError) -> Self {
        match e {
            WireError::Io { path, source } => NodeError::Io { path, source },
            WireError::Malformed(m) => NodeError::Setup(m),
        }
    }
}

/// Result type of kelp-ocean-node.
pub type Result<T, E = NodeError> = std::result::Result<T, E>;

/// Fold a message to one line (RPC errors and engine messages sometimes carry newlines).
pub fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
