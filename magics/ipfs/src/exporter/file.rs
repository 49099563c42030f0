//! The bytes of a file DAG, streamed: a depth-first walk with an explicit stack (one frame per
//! level, at most [`ReadLimits::max_depth`](super::ReadLimits) of them), one block in memory at
//! a time, subtrees before `offset` skipped by their recorded sizes, and the walk stops as soon
//! as `length` bytes are out. So reading the first megabyte of a DAG that claims terabytes reads
//! about a megabyte. A long run of blocks that hold no bytes (how a small DAG makes an
//! exponential walk) is an error.

use super::{Decoded, decode};
use crate::IpfsError;
use crate::importer::Observer;
use crate::pb::DataType;
use crate::store::Store;
use cid::Cid;
use std::io::Write;

/// One level of the walk: a file node's links still to visit.
struct Frame {
    links: Vec<Cid>,
    sizes: Vec<u64>,
    next: usize,
}

/// Where the walk is in the requested range.
struct Range<'w, 'o, 'a> {
    skip: u64,
    remaining: u64,
    written: u64,
    w: &'w mut dyn Write,
    observe: &'o mut Observer<'a>,
}

impl Range<'_, '_, '_> {
    fn emit(&mut self, data: &[u8]) -> Result<(), IpfsError> {
        let len = data.len() as u64;
        if self.skip >= len {
            self.skip -= len;
            return Ok(());
        }
        // skip < len ≤ usize::MAX, and take ≤ len - skip: both fit and stay inside `data`.
        let start = self.skip as usize;
        let take = (len - self.skip).min(self.remaining) as usize;
        self.skip = 0;
        let part = data.get(start..start + take).unwrap_or_default();
        self.w.write_all(part).map_err(IpfsError::io("writing file bytes"))?;
        self.remaining -= take as u64;
        self.written += take as u64;
        (self.observe)(take as u64)
    }
}

/// Write `length` bytes (all if `None`) of the file at `cid` from `offset`; returns the bytes
/// written. A DAG deeper than the store's [`ReadLimits`](super::ReadLimits) is an error.
pub fn read_file(
    store: &Store,
    cid: &Cid,
    offset: u64,
    length: Option<u64>,
    w: &mut dyn Write,
    observe: &mut Observer<'_>,
) -> Result<u64, IpfsError> {
    let limits = store.limits();
    let mut range = Range { skip: offset, remaining: length.unwrap_or(u64::MAX), written: 0, w, observe };
    let mut stack: Vec<Frame> = Vec::new();
    // Honest DAGs descend at most `max_depth` blocks before reaching bytes; linking empty blocks
    // over and over (2 links per level to one child: 2^depth visits) is refused instead.
    let max_empty_run = limits.max_depth.saturating_mul(4).max(4096);
    let mut empty_run = 0usize;
    if range.remaining > 0 {
        visit(store, cid, true, &mut range, &mut stack)?;
    }
    while range.remaining > 0 {
        let Some(top) = stack.last_mut() else { break };
        let Some(&child) = top.links.get(top.next) else {
            stack.pop();
            continue;
        };
        let size = top.sizes.get(top.next).copied();
        top.next += 1;
        if let Some(sz) = size
            && range.skip >= sz
        {
            range.skip -= sz;
            continue;
        }
        // The child sits `stack.len()` levels below the root.
        if stack.len() > limits.max_depth {
            return Err(limits.too_deep("file DAG", cid));
        }
        // Lets an interrupt stop a walk over blocks that hold no bytes.
        (range.observe)(0)?;
        let before = (range.written, range.skip);
        visit(store, &child, false, &mut range, &mut stack)?;
        empty_run = if before == (range.written, range.skip) { empty_run + 1 } else { 0 };
        if empty_run > max_empty_run {
            return Err(IpfsError::Corrupt(format!(
                "file DAG {cid} has more than {max_empty_run} blocks in a row that hold no bytes; \
                 not walking it further (a hostile DAG?)"
            )));
        }
    }
    Ok(range.written)
}

/// Emit one node's own bytes and push a frame for its links.
fn visit(
    store: &Store,
    cid: &Cid,
    top: bool,
    range: &mut Range<'_, '_, '_>,
    stack: &mut Vec<Frame>,
) -> Result<(), IpfsError> {
    match decode(store, cid)? {
        Decoded::Raw(b) => range.emit(&b),
        Decoded::Pb(n, d, _) => {
            match d.kind {
                DataType::File | DataType::Raw => {}
                DataType::Directory | DataType::HamtShard if top => {
                    return Err(IpfsError::Unsupported(format!("{cid} is a directory: use ls or get")));
                }
                DataType::Symlink if top => {
                    return Err(IpfsError::Unsupported(format!("{cid} is a symlink, not a file")));
                }
                _ => return Err(IpfsError::Corrupt(format!("{cid}: file DAG contains a non-file node"))),
            }
            range.emit(d.data.as_deref().unwrap_or_default())?;
            if !n.links.is_empty() {
                stack.push(Frame { links: n.links.into_iter().map(|l| l.cid).collect(), sizes: d.blocksizes, next: 0 });
            }
            Ok(())
        }
    }
}
