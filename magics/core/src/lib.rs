//! The magic seam of kelp (ARCHITECTURE.md, Seam 1).
//!
//! This crate owns what every magic family and every front end agree on, and nothing else:
//! - [`Magic`]: one `%name` (or `%%name`), its clap definition, and its `run`;
//! - [`MagicCall`]: a parsed invocation (argv, raw line, cell body, variable to bind);
//! - [`MagicContext`]: what a running magic may touch (cwd, config, output sink, cancellation);
//! - [`Output`]: a MIME bundle (`text/plain`, `text/html`, `application/json`), optionally
//!   bound to a Rust value for later cells;
//! - [`MagicResult`]: a typed result (one struct per subcommand) rendered into that bundle, with
//!   its JSON Schema ([`ResultSchema`]) generated from the type;
//! - [`Registry`]: the one table that answers `%lsmagic`, `%magic`, `%name?` and completion;
//! - [`Record`]: what a call read and wrote (CIDs, DIDs, files + sha256, transactions, jobs),
//!   carried by its [`Output`] into the notebook's `metadata.kelp`.
//!
//! - `testing::Cell` (feature `testing`, for tests): a magic line run as a notebook cell, and
//!   `testing::check_result_schemas` / `assert_result_snapshot!` for typed results.
//!
//! It has no Jupyter types and no engine: the kernel and the CLI are both front ends on it.

mod builtins;
mod context;
mod error;
mod magic;
mod output;
mod progress;
mod record;
mod registry;
mod result;
#[cfg(test)]
mod results_tests;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use builtins::{EnvMagic, FileMagic};
pub use context::{CancelToken, Config, EnvVars, MagicContext, OutputSink, RecordingSink, SinkEvent, Stream};
pub use error::MagicError;
pub use magic::{Magic, MagicCall, MagicKind, parse_args, parse_matches};
pub use output::{Output, RustValue, html_escape};
pub use progress::Progress;
pub use record::{
    Item, KELP_VERSION, RECORD_FORMAT, Record, RecordFn, RecordKind, Recorded, attach_record, looks_like_cid, redact,
    sha256_file, sha256_hex, source_item,
};
pub use registry::{Completion, Registry};
pub use result::{MagicResult, ResultSchema};

/// Result type of every magic.
pub type Result<T, E = MagicError> = std::result::Result<T, E>;
