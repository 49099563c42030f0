//! Listing a HAMT-sharded directory (UnixFS type 5) without recursion: an explicit stack of
//! shards, at most as deep as the shard's hash bits allow (8 levels at fanout 256), every child
//! shard linked once and with its parent's fanout. Link names are checked to start with the
//! slot's hex digits before the entry name is cut off them, so no name can split a character.

use super::{Decoded, decode};
use crate::IpfsError;
use crate::pb::{DataType, PbLink, PbNode, UnixFsData};
use crate::store::Store;
use cid::Cid;
use std::collections::HashSet;

/// Largest fanout accepted when reading (boxo's limit; kelp writes at most 256).
const MAX_FANOUT: u64 = 1024;

/// Bits of the name hash a HAMT consumes; past them no shard can nest.
const HASH_BITS: u32 = 64;

/// The `(name, cid, tsize)` of every entry under the shard `root` (decoded as `n`, `d`), in
/// link order.
pub(super) fn entries(
    store: &Store,
    root: &Cid,
    n: PbNode,
    d: &UnixFsData,
) -> Result<Vec<(String, Cid, u64)>, IpfsError> {
    let fanout = d.fanout.unwrap_or(256);
    if !(2..=MAX_FANOUT).contains(&fanout) || !fanout.is_power_of_two() {
        return Err(IpfsError::Corrupt(format!(
            "HAMT shard {root} has fanout {fanout}: it must be a power of two from 2 to {MAX_FANOUT}"
        )));
    }
    let bits = fanout.trailing_zeros();
    // Shard levels below the root the hash can address, and no more than the store allows.
    let max_depth = (HASH_BITS.div_ceil(bits) as usize).min(store.limits().max_depth);
    let pad = format!("{:X}", fanout - 1).len();
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut stack: Vec<(std::vec::IntoIter<PbLink>, usize)> = vec![(n.links.into_iter(), 0)];
    while let Some((links, depth)) = stack.last_mut() {
        let depth = *depth;
        let Some(l) = links.next() else {
            stack.pop();
            continue;
        };
        let slot = l.name.get(..pad).filter(|p| p.bytes().all(|b| b.is_ascii_hexdigit()));
        let Some(rest) = slot.and_then(|_| l.name.get(pad..)) else {
            return Err(IpfsError::Corrupt(format!(
                "HAMT link name {:?} under {root} does not start with a {pad}-digit hex slot",
                l.name
            )));
        };
        if !rest.is_empty() {
            out.push((rest.to_string(), l.cid, l.tsize));
            continue;
        }
        if depth + 1 > max_depth {
            return Err(IpfsError::Corrupt(format!(
                "HAMT directory {root} nests shards deeper than {max_depth} levels, more than its hash allows"
            )));
        }
        if !seen.insert(l.cid.hash().to_bytes()) {
            return Err(IpfsError::Corrupt(format!("HAMT directory {root} links the shard {} twice", l.cid)));
        }
        match decode(store, &l.cid)? {
            Decoded::Pb(cn, cd, _) if cd.kind == DataType::HamtShard && cd.fanout.unwrap_or(256) == fanout => {
                stack.push((cn.links.into_iter(), depth + 1));
            }
            Decoded::Pb(_, cd, _) if cd.kind == DataType::HamtShard => {
                return Err(IpfsError::Corrupt(format!("HAMT child {} has a different fanout from {root}", l.cid)));
            }
            _ => return Err(IpfsError::Corrupt(format!("HAMT child {} is not a shard", l.cid))),
        }
    }
    Ok(out)
}
