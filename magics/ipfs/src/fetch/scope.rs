//! Which blocks below a root an operation needs: the Trustless Gateway spec's `dag-scope` and
//! `entity-bytes`, and the links of a block that a scope follows.

use crate::IpfsError;
use crate::block::{DAG_PB, RAW};
use crate::pb::{DataType, PbNode};
use cid::Cid;

/// How much of a DAG an operation needs (the spec's `dag-scope`, and `entity-bytes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The root block only (`stat`).
    Block,
    /// A file's whole DAG; for a directory, its own blocks (HAMT shards included) and the root
    /// block of each entry (`ls`).
    Entity,
    /// Everything below the root (`get`, `car export`).
    All,
    /// The blocks of a file that hold bytes `from..=to` (`to` `None`: to the end), as
    /// `entity-bytes=from:to` (`cat --offset/--length`); for a directory, as `Entity`.
    Bytes { from: u64, to: Option<u64> },
}

impl Scope {
    /// Parse a `dag-scope` value.
    pub fn parse(s: &str) -> Option<Scope> {
        match s {
            "block" => Some(Scope::Block),
            "entity" => Some(Scope::Entity),
            "all" => Some(Scope::All),
            _ => None,
        }
    }

    /// Parse an `entity-bytes` value `from:to` (`to` may be `*`; negative offsets are not
    /// supported).
    pub fn entity_bytes(s: &str) -> Option<Scope> {
        let (a, b) = s.split_once(':')?;
        let from = a.parse().ok()?;
        let to = if b == "*" { None } else { Some(b.parse().ok().filter(|t| *t >= from)?) };
        Some(Scope::Bytes { from, to })
    }

    /// The query parameters that ask a gateway for this scope.
    pub fn query(self) -> String {
        match self {
            Scope::Block => "dag-scope=block".into(),
            Scope::Entity => "dag-scope=entity".into(),
            Scope::All => "dag-scope=all".into(),
            Scope::Bytes { from, to } => {
                let to = to.map_or("*".to_string(), |t| t.to_string());
                format!("dag-scope=entity&entity-bytes={from}:{to}")
            }
        }
    }
}

/// Whether a block's links are wanted, and (for [`Scope::Bytes`]) where its bytes start in the
/// file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Want {
    pub follow: bool,
    pub offset: u64,
}

impl Want {
    pub const ROOT: Want = Want { follow: true, offset: 0 };
    const LEAF: Want = Want { follow: false, offset: 0 };
    const ALL: Want = Want { follow: true, offset: 0 };
}

/// The blocks below `cid` (whose bytes are `block`) that `scope` needs, each with what is
/// wanted of it in turn.
pub(crate) fn wanted_links(cid: &Cid, block: &[u8], scope: Scope, want: Want) -> Result<Vec<(Cid, Want)>, IpfsError> {
    if !want.follow || scope == Scope::Block || cid.codec() == RAW {
        return Ok(Vec::new());
    }
    if cid.codec() != DAG_PB {
        return Err(IpfsError::Unsupported(format!(
            "{cid} has codec 0x{:x}; only dag-pb and raw are supported",
            cid.codec()
        )));
    }
    let node = PbNode::decode(block)?;
    if scope == Scope::All {
        return Ok(node.links.into_iter().map(|l| (l.cid, Want::ALL)).collect());
    }
    let data = node.unixfs()?;
    Ok(match (data.kind, scope) {
        // Entries: their root block only (ls reads their kind and size).
        (DataType::Directory, _) => node.links.into_iter().map(|l| (l.cid, Want::LEAF)).collect(),
        // Shard links are the slot's hex digits alone; longer names are entries.
        (DataType::HamtShard, _) => {
            let pad = format!("{:X}", data.fanout.unwrap_or(256).saturating_sub(1)).len();
            node.links.into_iter().map(|l| (l.cid, Want { follow: l.name.len() <= pad, offset: 0 })).collect()
        }
        // A file's children in byte order: only those overlapping the range (a child whose
        // size is not recorded is kept).
        (DataType::File | DataType::Raw, Scope::Bytes { from, to }) => {
            let mut off = want.offset.saturating_add(data.data.as_ref().map_or(0, |d| d.len() as u64));
            let mut out = Vec::new();
            for (i, l) in node.links.into_iter().enumerate() {
                let size = data.blocksizes.get(i).copied().unwrap_or(u64::MAX);
                let end = off.saturating_add(size);
                if end > from && to.is_none_or(|t| off <= t) {
                    out.push((l.cid, Want { follow: true, offset: off }));
                }
                off = end;
            }
            out
        }
        _ => node.links.into_iter().map(|l| (l.cid, Want::ALL)).collect(),
    })
}
