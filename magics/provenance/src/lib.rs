//! Reproducible notebooks for kelp (issue #14), with no Jupyter or engine types.
//!
//! The kernel saves a [`kelp_magic::Record`] with every output (`metadata.kelp`); this crate
//! reads them back and owns what is built on them:
//! - [`notebook`]: a saved `.ipynb`'s code cells, texts and records;
//! - [`graph`]: inputs → cells → outputs, as text, JSON, HTML and an SVG picture (`%provenance`);
//! - [`bundle`]: the notebook and its recorded inputs as one CAR with one root CID (`%bundle`);
//! - [`lineage`]: a saved notebook's inputs and outputs for an Ocean asset's metadata (`%publish`);
//! - [`verify`]: inputs checked, the notebook re-run headless, every cell compared (`%verify`);
//!   [`onchain`]: with `--network`, the recorded transactions and DIDs looked up;
//! - [`results`]: the three magics' typed results (schemas in docs/schema/results/provenance.*);
//! - [`magic`]: the three magics and the session log the kernel fills.

pub mod bundle;
mod error;
pub mod graph;
pub mod lineage;
pub mod magic;
pub mod notebook;
pub mod onchain;
mod record_schema;
pub mod results;
mod status;
mod svg;
pub mod verify;

pub use error::ProvenanceError;
pub use magic::{BundleMagic, ProvenanceMagic, SessionLog, VerifyMagic, session};

/// The magics of this crate, for the kernel's registry.
pub fn magics() -> Vec<std::sync::Arc<dyn kelp_magic::Magic>> {
    vec![std::sync::Arc::new(ProvenanceMagic), std::sync::Arc::new(BundleMagic), std::sync::Arc::new(VerifyMagic)]
}
