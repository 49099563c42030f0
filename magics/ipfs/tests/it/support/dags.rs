//! Builders of hostile (and a few honest) DAGs straight into a store, block by block, the way a
//! malicious CAR would carry them: used by tests/hostile.rs and the fuzzer's seeds.

use kelp_ipfs::pb::{DataType, PbLink, PbNode, UnixFsData};
use kelp_ipfs::{Cid, Store};

const DAG_PB: u64 = 0x70;
const RAW: u64 = 0x55;

pub fn cid_for(codec: u64, bytes: &[u8]) -> Cid {
    let mh = kelp_ipfs::importer::sha256_multihash(bytes);
    Cid::new_v1(codec, mh)
}

pub fn put_raw(store: &Store, bytes: &[u8]) -> Cid {
    let c = cid_for(RAW, bytes);
    store.put(&c, bytes).unwrap();
    c
}

pub fn put_node(store: &Store, node: &PbNode) -> Cid {
    let b = node.encode();
    let c = cid_for(DAG_PB, &b);
    store.put(&c, &b).unwrap();
    c
}

pub fn link(cid: Cid, name: &str, tsize: u64) -> PbLink {
    PbLink { cid, name: name.to_string(), tsize }
}

/// A UnixFS file node over `children` (cid, content size).
pub fn file_node(children: &[(Cid, u64)]) -> PbNode {
    let mut d = UnixFsData::new(DataType::File);
    d.filesize = Some(children.iter().map(|c| c.1).sum());
    d.blocksizes = children.iter().map(|c| c.1).collect();
    PbNode { links: children.iter().map(|(c, s)| link(*c, "", *s)).collect(), data: Some(d.encode()) }
}

pub fn dir_node(links: Vec<PbLink>) -> PbNode {
    PbNode { links, data: Some(UnixFsData::new(DataType::Directory).encode()) }
}

pub fn symlink_node(target: &str) -> PbNode {
    let mut d = UnixFsData::new(DataType::Symlink);
    d.data = Some(target.as_bytes().to_vec());
    PbNode { links: vec![], data: Some(d.encode()) }
}

pub fn shard_node(links: Vec<PbLink>) -> PbNode {
    let mut d = UnixFsData::new(DataType::HamtShard);
    d.data = Some(vec![1]);
    d.hash_type = Some(0x22);
    d.fanout = Some(256);
    PbNode { links, data: Some(d.encode()) }
}

/// A file whose bytes ("x") sit `depth` file nodes below the root.
pub fn deep_file(store: &Store, depth: usize) -> Cid {
    let mut c = put_raw(store, b"x");
    for _ in 0..depth {
        c = put_node(store, &file_node(&[(c, 1)]));
    }
    c
}

/// A HAMT directory whose one entry sits below `depth` nested shards.
pub fn deep_hamt(store: &Store, depth: usize) -> Cid {
    let f = put_raw(store, b"deep");
    let mut c = put_node(store, &shard_node(vec![link(f, "00deep.txt", 4)]));
    for _ in 0..depth {
        c = put_node(store, &shard_node(vec![link(c, "00", 100)]));
    }
    c
}

/// A directory with two entries named `name`: first a symlink to `target`, then a file.
pub fn symlink_then_file(store: &Store, name: &str, target: &str) -> Cid {
    let s = put_node(store, &symlink_node(target));
    let f = put_raw(store, b"written through the link");
    put_node(store, &dir_node(vec![link(s, name, 10), link(f, name, 24)]))
}

/// A HAMT shard whose value link name has its 2-digit slot followed by a 2-byte character, so
/// a byte cut after 2 characters' worth of bytes would split it.
pub fn split_name_hamt(store: &Store) -> Cid {
    let f = put_raw(store, b"e");
    put_node(store, &shard_node(vec![link(f, "A\u{e9}.txt", 1)]))
}

/// A file that claims `links` × `block.len()` bytes by linking one raw block `links` times.
pub fn repeated_block_file(store: &Store, block: &[u8], links: usize) -> Cid {
    let b = put_raw(store, block);
    let children = vec![(b, block.len() as u64); links];
    put_node(store, &file_node(&children))
}
