//! The error type of kelp-ocean: one variant per thing a person can act on, each rendered as
//! one line saying what went wrong and what to do.

use kelp_magic::MagicError;

/// Everything that can go wrong in kelp-ocean.
#[derive(Debug, thiserror::Error)]
pub enum OceanError {
    /// A tool or file kelp needs is not installed (anvil, the contract artifacts).
    #[error("{what} not found: {hint}")]
    Missing { what: String, hint: String },
    /// Bad input from the person (arguments, prices, file paths).
    #[error("{0}")]
    Input(String),
    /// The devnet is not running, or is in a state that prevents the operation.
    #[error("{0}")]
    Devnet(String),
    /// The JSON-RPC endpoint cannot be reached.
    #[error("cannot reach the chain at {url}: {reason} (is the devnet up? try `%devnet up`)")]
    RpcDown { url: String, reason: String },
    /// The chain answered with an error.
    #[error("chain error: {0}")]
    Rpc(String),
    /// A transaction reverted (or would revert); `reason` is the decoded revert reason.
    #[error("transaction {method} reverted: {reason}")]
    Reverted { method: String, reason: String },
    /// Not enough ETH or tokens for the operation.
    #[error("insufficient funds: {0}")]
    NoFunds(String),
    /// The signer is on another chain than the network in use.
    #[error("wrong chain: the signer is on chain {got}, the network is chain {expected} (switch the wallet's network)")]
    WrongChain { expected: u64, got: u64 },
    /// The person (or their wallet) rejected a signature or transaction.
    #[error("rejected by the wallet: {0}")]
    Rejected(String),
    /// The Ocean node answered with an error or cannot be reached.
    #[error("Ocean node {url}: {reason}")]
    Node { url: String, reason: String },
    /// Local files (state, journal, keystore) could not be read or written.
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// A cancelled operation (interrupt).
    #[error("cancelled while {0}")]
    Cancelled(String),
    /// A multi-step operation stopped midway: `done` says what already exists (and stays),
    /// `resume` how to finish it.
    #[error("{done}: {source} — {resume}")]
    Unfinished { done: String, resume: String, source: Box<OceanError> },
    /// The browser wallet, through the JupyterLab relay (rejected, expired, relay unreachable…).
    #[error(transparent)]
    Relay(#[from] kelp_relay::RelayError),
}

impl OceanError {
    /// An I/O error on `path`.
    pub fn io(path: impl AsRef<std::path::Path>, source: std::io::Error) -> Self {
        OceanError::Io { path: path.as_ref().display().to_string(), source }
    }
    /// Bad input.
    pub fn input(msg: impl Into<String>) -> Self {
        OceanError::Input(msg.into())
    }
    /// A devnet problem.
    pub fn devnet(msg: impl Into<String>) -> Self {
        OceanError::Devnet(msg.into())
    }
}

impl From<kelp_ocean_wire::WireError> for OceanError {
    fn from(e: kelp_ocean_wire::WireError) -> Self {
        match e {
            kelp_ocean_wire::WireError::Io { path, source } => OceanError::Io { path, source },
            kelp_ocean_wire::WireError::Malformed(m) => OceanError::Devnet(m),
        }
    }
}

/// Result type of kelp-ocean.
pub type Result<T, E = OceanError> = std::result::Result<T, E>;

impl From<OceanError> for MagicError {
    fn from(e: OceanError) -> Self {
        match e {
            OceanError::Input(m) => MagicError::Usage(m),
            OceanError::Cancelled(m) => MagicError::Cancelled(m),
            OceanError::Relay(e) => e.into(),
            other => MagicError::Failed(one_line(&other.to_string())),
        }
    }
}

/// Fold a message to one line (RPC errors sometimes carry newlines).
pub fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
