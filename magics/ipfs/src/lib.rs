//! kelp-ipfs: Kubo-identical content addressing with an embedded block store.
//!
//! - [`importer`]: the UnixFS importer (fixed-size chunker, balanced layout, directories, HAMT);
//! - [`store`]: the persistent block store under `$KELP_HOME/ipfs` (atomic writes, pins, gc);
//! - [`api`]: the blocking API other crates call ([`Store::add_path`], [`Store::cat`], …);
//! - [`exporter`]: reading files and directories back, verifying every block.

pub mod api;
pub mod car;
mod error;
pub mod exporter;
pub mod hamt;
pub mod importer;
pub mod kubo;
pub mod options;
pub mod pb;
pub mod store;

pub use api::{Added, AddedEntry, cid_of_bytes, cid_of_path};
pub use cid::Cid;
pub use error::{IpfsError, parse_cid};
pub use options::{AddOptions, HamtEstimate};
pub use store::{Pin, Store};
mod magic;

pub use magic::{IpfsConfig, IpfsMagic};

/// The `%ipfs` magic, for the kernel's registry.
pub fn magics() -> Vec<std::sync::Arc<dyn kelp_magic::Magic>> {
    vec![std::sync::Arc::new(IpfsMagic)]
}
