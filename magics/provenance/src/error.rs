//! The one error type of this crate: one line each, saying what was wrong and what to do.

/// What went wrong reading, bundling or verifying a notebook.
#[derive(Debug, thiserror::Error)]
pub enum ProvenanceError {
    /// The file is not a notebook kelp can read.
    #[error("{0}")]
    Notebook(String),
    /// The notebook carries no kelp records.
    #[error(
        "{0} has no kelp records: run it with the kelp kernel (every magic and Rust cell then records what it read and wrote), save it, and try again"
    )]
    NoRecords(String),
    /// Reading or writing a file failed.
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    /// The IPFS store or a CAR failed.
    #[error("{0}")]
    Ipfs(String),
    /// Re-running the notebook failed before any cell could be compared.
    #[error("{0}")]
    Run(String),
}

impl ProvenanceError {
    pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Self {
        let what = what.into();
        move |source| ProvenanceError::Io { what, source }
    }
}

impl From<kelp_ipfs::IpfsError> for ProvenanceError {
    fn from(e: kelp_ipfs::IpfsError) -> Self {
        ProvenanceError::Ipfs(e.to_string())
    }
}

impl From<ProvenanceError> for kelp_magic::MagicError {
    fn from(e: ProvenanceError) -> Self {
        kelp_magic::MagicError::failed(e)
    }
}
