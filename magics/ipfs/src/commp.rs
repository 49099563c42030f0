//! Filecoin piece commitment (CommP) of a byte stream, e.g. a CAR about to be stored in a deal:
//! zero-pad to the unpadded piece size (127/128 of a power of two ≥ 128), Fr32-pad (two zero
//! bits after every 254 bits), then a binary Merkle tree over 32-byte leaves with
//! sha2-256-trunc254 (the last byte's top two bits cleared). The piece CID is CIDv1,
//! codec fil-commitment-unsealed (0xf101), multihash sha2-256-trunc254-padded (0x1012).
//! Streaming: [`CommpWriter`] keeps one 127-byte block and one hash per tree level.

use cid::Cid;
use cid::multihash::Multihash;
use sha2::{Digest, Sha256};
use std::io::Write;

pub const FIL_COMMITMENT_UNSEALED: u64 = 0xf101;
pub const SHA2_256_TRUNC254_PADDED: u64 = 0x1012;

fn node(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(left);
    h.update(right);
    let mut out: [u8; 32] = h.finalize().into();
    out[31] &= 0x3f;
    out
}

/// Fr32-pad one 127-byte block into 128 bytes.
fn fr32(input: &[u8; 127], out: &mut [u8; 128]) {
    out[..32].copy_from_slice(&input[..32]);
    out[31] &= 0x3f;
    for j in 32..64 {
        out[j] = (input[j - 1] >> 6) | (input[j] << 2);
    }
    out[63] &= 0x3f;
    for j in 64..96 {
        out[j] = (input[j - 1] >> 4) | (input[j] << 4);
    }
    out[95] &= 0x3f;
    for j in 96..127 {
        out[j] = (input[j - 1] >> 2) | (input[j] << 6);
    }
    out[127] = input[126] >> 2;
}

/// The result of a CommP computation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    pub cid: Cid,
    /// Padded piece size (a power of two), what a deal is made for.
    pub padded_size: u64,
    /// Bytes of payload that went in.
    pub payload_size: u64,
}

/// Computes CommP over everything written to it.
#[derive(Debug)]
pub struct CommpWriter {
    block: [u8; 127],
    fill: usize,
    payload: u64,
    leaves: u64,
    stack: Vec<Option<[u8; 32]>>,
    zeros: Vec<[u8; 32]>,
}

impl Default for CommpWriter {
    fn default() -> Self {
        let mut zeros = vec![[0u8; 32]];
        for i in 0..63 {
            let z = zeros[i];
            zeros.push(node(&z, &z));
        }
        CommpWriter { block: [0; 127], fill: 0, payload: 0, leaves: 0, stack: Vec::new(), zeros }
    }
}

impl CommpWriter {
    pub fn new() -> Self {
        Self::default()
    }

    fn push(&mut self, mut level: usize, mut h: [u8; 32]) {
        loop {
            if self.stack.len() <= level {
                self.stack.resize(level + 1, None);
            }
            match self.stack[level].take() {
                Some(left) => {
                    h = node(&left, &h);
                    level += 1;
                }
                None => {
                    self.stack[level] = Some(h);
                    return;
                }
            }
        }
    }

    fn flush_block(&mut self) {
        let mut out = [0u8; 128];
        fr32(&self.block, &mut out);
        for leaf in out.chunks_exact(32) {
            self.push(0, leaf.try_into().expect("32 bytes"));
        }
        self.leaves += 4;
        self.fill = 0;
        self.block = [0; 127];
    }

    /// The piece, after all payload bytes were written.
    pub fn finish(mut self) -> Piece {
        let blocks = self.payload.div_ceil(127).max(1);
        let padded_size = (blocks * 128).next_power_of_two();
        if self.fill > 0 || self.payload == 0 {
            self.flush_block();
        }
        let total = padded_size / 32;
        while self.leaves < total {
            let mut level =
                if self.leaves == 0 { total.trailing_zeros() } else { self.leaves.trailing_zeros() } as usize;
            while self.leaves + (1u64 << level) > total {
                level -= 1;
            }
            let z = self.zeros[level];
            self.push(level, z);
            self.leaves += 1 << level;
        }
        let root = self.stack.iter().rev().find_map(|h| *h).expect("at least one leaf");
        let mh = Multihash::wrap(SHA2_256_TRUNC254_PADDED, &root).expect("32-byte digest fits");
        Piece { cid: Cid::new_v1(FIL_COMMITMENT_UNSEALED, mh), padded_size, payload_size: self.payload }
    }
}

impl Write for CommpWriter {
    fn write(&mut self, mut buf: &[u8]) -> std::io::Result<usize> {
        let n = buf.len();
        self.payload += n as u64;
        while !buf.is_empty() {
            let take = (127 - self.fill).min(buf.len());
            self.block[self.fill..self.fill + take].copy_from_slice(&buf[..take]);
            self.fill += take;
            buf = &buf[take..];
            if self.fill == 127 {
                self.flush_block();
            }
        }
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// CommP of a byte slice.
pub fn commp(bytes: &[u8]) -> Piece {
    let mut w = CommpWriter::new();
    w.write_all(bytes).expect("writing to memory");
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_piece_commitments_match_lotus() {
        // Lotus zerocomm values (unpadded 1016 and 2032 zero bytes).
        assert_eq!(
            commp(&[0u8; 1016]).cid.to_string(),
            "baga6ea4seaqb66wjlfkrbye6uqoemcyxmqylwmrm235uclwfpsyx3ge2imidoly"
        );
        assert_eq!(
            commp(&[0u8; 2032]).cid.to_string(),
            "baga6ea4seaqpy7usqklokfx2vxuynmupslkeutzexe2uqurdg5vhtebhxqmpqmy"
        );
        // Shorter payloads are zero-padded to the same piece.
        let p = commp(&[0u8; 900]);
        assert_eq!((p.padded_size, p.payload_size), (1024, 900));
        assert_eq!(p.cid, commp(&[0u8; 1016]).cid);
    }

    #[test]
    fn fr32_keeps_every_bit_and_clears_two_per_quarter() {
        let input: [u8; 127] = std::array::from_fn(|i| (i as u8).wrapping_mul(37).wrapping_add(11));
        let mut out = [0u8; 128];
        fr32(&input, &mut out);
        let bit = |b: &[u8], i: usize| (b[i / 8] >> (i % 8)) & 1;
        for q in 0..4 {
            for k in 0..254 {
                assert_eq!(bit(&out, q * 256 + k), bit(&input, q * 254 + k), "quarter {q} bit {k}");
            }
            assert_eq!(out[q * 32 + 31] & 0xc0, 0);
        }
    }

    #[test]
    fn sizes_and_sensitivity() {
        assert_eq!(commp(b"").padded_size, 128);
        assert_eq!(commp(&[1u8; 127]).padded_size, 128);
        assert_eq!(commp(&[1u8; 128]).padded_size, 256);
        assert_ne!(commp(&[1u8; 500]).cid, commp(&[2u8; 500]).cid);
        let mut w = CommpWriter::new();
        for chunk in vec![9u8; 5000].chunks(333) {
            w.write_all(chunk).unwrap();
        }
        assert_eq!(w.finish(), commp(&[9u8; 5000]));
    }
}
