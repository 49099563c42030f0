//! HAMT-sharded UnixFS directories (type 5), as Kubo builds them: murmur3-x64-64 of the entry
//! name, fanout 256 (one hash byte per level), link names = two upper-case hex digits of the
//! slot, followed by the entry name for a value or nothing for a child shard; the bitfield is
//! the big-endian set of occupied slots without leading zero bytes (go-bitfield's `Bytes()`).
//! Checked against Kubo's own sharding vectors (tests/vectors.rs).

use crate::IpfsError;
use crate::block::{BlockSink, DirChild, Node, put_pb};
use crate::options::{AddOptions, HamtEstimate};
use crate::pb::{DataType, PbLink, PbNode, UnixFsData};

/// Multicodec of murmur3-x64-64, recorded in the shard's `hashType`.
pub const MURMUR3_X64_64: u64 = 0x22;

/// Whether a basic directory node is over the options' threshold (strictly greater, as boxo).
pub fn should_shard(node: &PbNode, opts: &AddOptions) -> bool {
    if opts.hamt_threshold == 0 {
        return false;
    }
    let estimate = match opts.hamt_estimate {
        HamtEstimate::Links => node.links.iter().map(|l| l.name.len() + l.cid.encoded_len()).sum::<usize>(),
        HamtEstimate::Block => node.encode().len(),
    };
    estimate > opts.hamt_threshold
}

/// The first 64 bits of murmur3 x64 128 (seed 0), big-endian: the key bytes a HAMT consumes.
pub fn hash_key(name: &[u8]) -> [u8; 8] {
    murmur3_x64_128(name, 0).0.to_be_bytes()
}

fn fmix(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^ (k >> 33)
}

/// MurmurHash3 x64 128-bit.
pub fn murmur3_x64_128(data: &[u8], seed: u64) -> (u64, u64) {
    const C1: u64 = 0x87c3_7b91_1142_53d5;
    const C2: u64 = 0x4cf5_ad43_2745_937f;
    let (mut h1, mut h2) = (seed, seed);
    let mut blocks = data.chunks_exact(16);
    for b in &mut blocks {
        let mut k1 = u64::from_le_bytes(b[..8].try_into().expect("8 bytes"));
        let mut k2 = u64::from_le_bytes(b[8..].try_into().expect("8 bytes"));
        k1 = k1.wrapping_mul(C1).rotate_left(31).wrapping_mul(C2);
        h1 ^= k1;
        h1 = h1.rotate_left(27).wrapping_add(h2).wrapping_mul(5).wrapping_add(0x52dc_e729);
        k2 = k2.wrapping_mul(C2).rotate_left(33).wrapping_mul(C1);
        h2 ^= k2;
        h2 = h2.rotate_left(31).wrapping_add(h1).wrapping_mul(5).wrapping_add(0x3849_5ab5);
    }
    let tail = blocks.remainder();
    let (mut k1, mut k2) = (0u64, 0u64);
    for (i, b) in tail.iter().enumerate() {
        if i < 8 {
            k1 |= u64::from(*b) << (8 * i);
        } else {
            k2 |= u64::from(*b) << (8 * (i - 8));
        }
    }
    if tail.len() > 8 {
        h2 ^= k2.wrapping_mul(C2).rotate_left(33).wrapping_mul(C1);
    }
    if !tail.is_empty() {
        h1 ^= k1.wrapping_mul(C1).rotate_left(31).wrapping_mul(C2);
    }
    let len = data.len() as u64;
    h1 ^= len;
    h2 ^= len;
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    h1 = fmix(h1);
    h2 = fmix(h2);
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    (h1, h2)
}

enum Slot {
    Value(DirChild),
    Shard(Vec<DirChild>),
}

/// Build the shard tree for `children` and store its nodes; returns the root.
pub fn build(children: Vec<DirChild>, opts: &AddOptions, sink: &mut dyn BlockSink) -> Result<Node, IpfsError> {
    let fanout = opts.hamt_fanout;
    if !(8..=256).contains(&fanout) || !fanout.is_power_of_two() {
        return Err(IpfsError::BadOption(format!(
            "HAMT fanout {fanout} is not valid: use a power of two from 8 to 256"
        )));
    }
    shard(children, 0, opts, sink)
}

fn slot_of(name: &str, depth: usize, fanout: usize) -> Result<usize, IpfsError> {
    let bits = fanout.trailing_zeros() as usize;
    let key = hash_key(name.as_bytes());
    let (start, end) = (depth * bits, depth * bits + bits);
    if end > 64 {
        return Err(IpfsError::Unsupported(format!("HAMT too deep for entry {name:?} (hash collision)")));
    }
    let mut v = 0usize;
    for bit in start..end {
        let byte = key[bit / 8];
        v = (v << 1) | usize::from((byte >> (7 - bit % 8)) & 1);
    }
    Ok(v)
}

fn shard(
    children: Vec<DirChild>,
    depth: usize,
    opts: &AddOptions,
    sink: &mut dyn BlockSink,
) -> Result<Node, IpfsError> {
    let fanout = opts.hamt_fanout;
    let mut slots: Vec<Option<Slot>> = (0..fanout).map(|_| None).collect();
    for c in children {
        let i = slot_of(&c.name, depth, fanout)?;
        slots[i] = Some(match slots[i].take() {
            None => Slot::Value(c),
            Some(Slot::Value(prev)) => Slot::Shard(vec![prev, c]),
            Some(Slot::Shard(mut v)) => {
                v.push(c);
                Slot::Shard(v)
            }
        });
    }
    let pad = format!("{:X}", fanout - 1).len();
    let mut bitfield = vec![0u8; fanout / 8];
    let mut links = Vec::new();
    let mut size = 0;
    for (i, slot) in slots.into_iter().enumerate() {
        let Some(slot) = slot else { continue };
        let len = bitfield.len();
        bitfield[len - 1 - i / 8] |= 1 << (i % 8);
        let prefix = format!("{i:0pad$X}");
        match slot {
            Slot::Value(c) => {
                size += c.node.size;
                links.push(PbLink { cid: c.node.cid, name: format!("{prefix}{}", c.name), tsize: c.node.tsize });
            }
            Slot::Shard(v) => {
                let child = shard(v, depth + 1, opts, sink)?;
                size += child.size;
                links.push(PbLink { cid: child.cid, name: prefix, tsize: child.tsize });
            }
        }
    }
    // Serialised like go-bitfield's Bytes(): big-endian with leading zero bytes dropped.
    let first = bitfield.iter().position(|b| *b != 0).unwrap_or(bitfield.len());
    let mut d = UnixFsData::new(DataType::HamtShard);
    d.data = Some(bitfield[first..].to_vec());
    d.hash_type = Some(MURMUR3_X64_64);
    d.fanout = Some(fanout as u64);
    put_pb(opts.effective_cid_version(), &PbNode { links, data: Some(d.encode()) }, size, sink)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn murmur3_known_values() {
        // Reference values of MurmurHash3_x64_128 with seed 0.
        assert_eq!(murmur3_x64_128(b"", 0), (0, 0));
        assert_eq!(murmur3_x64_128(b"hello", 0), (0xcbd8a7b341bd9b02, 0x5b1e906a48ae1d19));
    }

    #[test]
    fn slot_uses_leading_hash_bits() {
        let key = hash_key(b"hello");
        assert_eq!(slot_of("hello", 0, 256).unwrap(), key[0] as usize);
        assert_eq!(slot_of("hello", 1, 256).unwrap(), key[1] as usize);
        assert_eq!(slot_of("hello", 0, 16).unwrap(), (key[0] >> 4) as usize);
    }
}
