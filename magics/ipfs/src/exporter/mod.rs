//! Reading UnixFS back out of the store: file bytes (with offset/length), directory listings
//! (basic and HAMT), `stat`, and `get` to a path. Every block read is hash-verified by the store.
//!
//! DAGs read here may come from anyone (a CAR, a Kubo node), so every walk is iterative (an
//! explicit stack, never the thread's) and bounded by [`ReadLimits::max_depth`]; a deeper DAG is
//! a one-line error, not a crash. HAMT shards may not nest deeper than their hash allows nor
//! share a child. Nothing here panics on malformed input. Submodules: [`file`] (bytes of a
//! file DAG, streamed), `shard` (HAMT listing), `write` (`get`: no-follow writes inside the
//! output path).

pub mod file;
mod shard;
mod write;

use crate::IpfsError;
use crate::block::{DAG_PB, RAW};
use crate::pb::{DataType, PbNode, UnixFsData};
use crate::store::Store;
use cid::Cid;
use serde::Serialize;

pub use crate::limits::{MAX_DEPTH_ENV, ReadLimits};
pub use file::read_file;
pub use write::get;

/// What a CID is, as UnixFS sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    File,
    Directory,
    Symlink,
    Raw,
}

/// One directory entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct DirEntry {
    pub name: String,
    pub cid: String,
    /// Cumulative DAG size from the link.
    pub tsize: u64,
    pub kind: Kind,
    /// File size (0 for directories).
    pub size: u64,
}

/// `stat` of a CID.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Stat {
    pub cid: String,
    pub kind: Kind,
    /// File size in bytes (for a directory: 0).
    pub size: u64,
    /// Size of the root block.
    pub block_size: u64,
    /// Cumulative size of the DAG (root block + link sizes), Kubo's `CumulativeSize`.
    pub cumulative_size: u64,
    pub links: u64,
    pub hamt: bool,
}

pub(crate) enum Decoded {
    Raw(Vec<u8>),
    Pb(PbNode, UnixFsData, usize),
}

pub(crate) fn decode(store: &Store, cid: &Cid) -> Result<Decoded, IpfsError> {
    let b = store.get_block(cid)?;
    match cid.codec() {
        RAW => Ok(Decoded::Raw(b)),
        DAG_PB => {
            let n = PbNode::decode(&b)?;
            let d = n.unixfs()?;
            Ok(Decoded::Pb(n, d, b.len()))
        }
        c => Err(IpfsError::Unsupported(format!("{cid} has codec 0x{c:x}; only UnixFS (dag-pb, raw) can be read"))),
    }
}

fn kind_of(d: &UnixFsData) -> Kind {
    match d.kind {
        DataType::Directory | DataType::HamtShard => Kind::Directory,
        DataType::Symlink => Kind::Symlink,
        DataType::Raw => Kind::Raw,
        _ => Kind::File,
    }
}

/// Stat a CID (reads only the root block).
pub fn stat(store: &Store, cid: &Cid) -> Result<Stat, IpfsError> {
    Ok(match decode(store, cid)? {
        Decoded::Raw(b) => Stat {
            cid: cid.to_string(),
            kind: Kind::File,
            size: b.len() as u64,
            block_size: b.len() as u64,
            cumulative_size: b.len() as u64,
            links: 0,
            hamt: false,
        },
        Decoded::Pb(n, d, len) => {
            let kind = kind_of(&d);
            let size = match kind {
                Kind::File | Kind::Raw => d.filesize.unwrap_or_else(|| d.data.as_ref().map_or(0, |x| x.len() as u64)),
                Kind::Symlink => d.data.as_ref().map_or(0, |x| x.len() as u64),
                Kind::Directory => 0,
            };
            // Link sizes are claims of whoever made the block: add without overflowing.
            let linked = n.links.iter().fold(0u64, |acc, l| acc.saturating_add(l.tsize));
            Stat {
                cid: cid.to_string(),
                kind,
                size,
                block_size: len as u64,
                cumulative_size: (len as u64).saturating_add(linked),
                links: n.links.len() as u64,
                hamt: d.kind == DataType::HamtShard,
            }
        }
    })
}

/// List a directory (basic or HAMT); entries sorted by name (duplicates kept, in link order).
pub fn ls(store: &Store, cid: &Cid) -> Result<Vec<DirEntry>, IpfsError> {
    let (n, d) = match decode(store, cid)? {
        Decoded::Pb(n, d, _) if matches!(d.kind, DataType::Directory | DataType::HamtShard) => (n, d),
        _ => return Err(IpfsError::Unsupported(format!("{cid} is not a directory: use cat or stat"))),
    };
    let raw = if d.kind == DataType::HamtShard {
        shard::entries(store, cid, n, &d)?
    } else {
        n.links.into_iter().map(|l| (l.name, l.cid, l.tsize)).collect()
    };
    let mut out = Vec::with_capacity(raw.len());
    for (name, c, tsize) in raw {
        let (kind, size) = match stat(store, &c) {
            Ok(s) => (s.kind, s.size),
            Err(IpfsError::NotFound(_)) if c.codec() == RAW => (Kind::File, tsize),
            Err(e) => return Err(e),
        };
        out.push(DirEntry { name, cid: c.to_string(), tsize, kind, size });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}
