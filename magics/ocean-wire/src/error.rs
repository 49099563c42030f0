//! The error of reading wire data: a file that cannot be read, or a value that is not in the
//! expected shape. Each side turns it into its own error type.

/// What went wrong reading wire data.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    /// A file could not be read.
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// A value is missing or not in the expected shape (the message names it).
    #[error("{0}")]
    Malformed(String),
}

impl WireError {
    /// An I/O error on `path`.
    pub fn io(path: impl AsRef<std::path::Path>, source: std::io::Error) -> Self {
        WireError::Io { path: path.as_ref().display().to_string(), source }
    }
}
