//! Blocks and how they are named, below every module that makes, stores or moves them: the
//! codecs and the hash kelp uses ([`DAG_PB`], [`RAW`], [`SHA2_256`]), a block's multihash and
//! CID, the largest block accepted from anyone ([`MAX_BLOCK`]), where new blocks go
//! ([`BlockSink`]), and the DAG-PB node write shared by the importer and the HAMT builder
//! ([`put_pb`], [`Node`], [`DirChild`]).
//!
//! Re-exported by [`crate::importer`] (and [`MAX_BLOCK`] by [`crate::fetch`]), the paths the
//! crate's users know.

use crate::IpfsError;
use crate::pb::PbNode;
use cid::Cid;
use cid::multihash::Multihash;
use sha2::{Digest, Sha256};

pub const DAG_PB: u64 = 0x70;
pub const RAW: u64 = 0x55;
pub const SHA2_256: u64 = 0x12;

/// Largest block accepted from a gateway or a peer (the Trustless Gateway spec's bound).
pub const MAX_BLOCK: usize = 2 << 20;

/// Where the importer puts the blocks it makes.
pub trait BlockSink {
    fn put(&mut self, cid: &Cid, block: &[u8]) -> Result<(), IpfsError>;
}

/// One imported node: what a parent links to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub cid: Cid,
    /// Cumulative size of the DAG (Kubo's `Size` / link Tsize).
    pub tsize: u64,
    /// Content bytes (file size, or the sum of file sizes below a directory).
    pub size: u64,
}

/// A named child of a directory being built.
#[derive(Debug, Clone)]
pub struct DirChild {
    pub name: String,
    pub node: Node,
}

pub fn sha256_multihash(bytes: &[u8]) -> Multihash<64> {
    let digest = Sha256::digest(bytes);
    Multihash::wrap(SHA2_256, &digest).expect("32-byte digest fits")
}

/// The CID of a block with the given codec under the options' CID version.
pub fn block_cid(version: u8, codec: u64, block: &[u8]) -> Cid {
    let mh = sha256_multihash(block);
    if version == 0 && codec == DAG_PB {
        Cid::new_v0(mh).expect("sha2-256 is valid for v0")
    } else {
        Cid::new_v1(codec, mh)
    }
}

/// Encode, hash and store a DAG-PB node; return what a parent links to.
pub(crate) fn put_pb(version: u8, node: &PbNode, size: u64, sink: &mut dyn BlockSink) -> Result<Node, IpfsError> {
    let bytes = node.encode();
    let cid = block_cid(version, DAG_PB, &bytes);
    sink.put(&cid, &bytes)?;
    let tsize = bytes.len() as u64 + node.links.iter().map(|l| l.tsize).sum::<u64>();
    Ok(Node { cid, tsize, size })
}
