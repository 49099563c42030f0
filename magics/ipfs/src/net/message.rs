//! Bitswap 1.2 messages (the `bitswap.message.proto` of the spec): encoding, decoding and the
//! CID prefix a block travels with. Decoding never trusts a length: malformed bytes are an
//! error, never a panic; a block's CID is always computed from its bytes (sha2-256 only, the
//! store's hash), so a peer cannot pass off bytes as another block.

use crate::IpfsError;
use crate::block::{SHA2_256, sha256_multihash};
use crate::pb::{Fields, Value, get_varint, put_bytes_field, put_varint, put_varint_field};
use cid::{Cid, Version};

/// The protocol kelp speaks (the one Helia, Kubo and boxo speak today).
pub(crate) const PROTOCOL: &str = "/ipfs/bitswap/1.2.0";
/// Largest message read from a peer (Helia's and boxo's limit: 4 MiB).
pub(crate) const MAX_MESSAGE: usize = 4 << 20;

/// One want of a wantlist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Want {
    pub cid: Cid,
    pub cancel: bool,
    /// `want-have` (true) or `want-block` (false).
    pub have: bool,
    pub send_dont_have: bool,
}

/// A block as it arrived: its computed CID, or why none could be computed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Payload {
    pub cid: Option<Cid>,
    pub data: Vec<u8>,
}

/// A Bitswap message (the parts kelp uses; `pendingBytes` is ignored).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Message {
    pub wants: Vec<Want>,
    pub full: bool,
    pub blocks: Vec<Payload>,
    /// (CID, has it) presences.
    pub presences: Vec<(Cid, bool)>,
}

impl Message {
    pub(crate) fn is_empty(&self) -> bool {
        self.wants.is_empty() && !self.full && self.blocks.is_empty() && self.presences.is_empty()
    }

    /// Protobuf bytes (without the length prefix).
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        if !self.wants.is_empty() || self.full {
            let mut wl = Vec::new();
            for w in &self.wants {
                let mut e = Vec::new();
                put_bytes_field(&mut e, 1, &w.cid.to_bytes());
                put_varint_field(&mut e, 2, 1);
                if w.cancel {
                    put_varint_field(&mut e, 3, 1);
                }
                if w.have {
                    put_varint_field(&mut e, 4, 1);
                }
                if w.send_dont_have {
                    put_varint_field(&mut e, 5, 1);
                }
                put_bytes_field(&mut wl, 1, &e);
            }
            if self.full {
                put_varint_field(&mut wl, 2, 1);
            }
            put_bytes_field(&mut out, 1, &wl);
        }
        for b in &self.blocks {
            let Some(cid) = &b.cid else { continue };
            let mut p = Vec::new();
            put_bytes_field(&mut p, 1, &prefix(cid));
            put_bytes_field(&mut p, 2, &b.data);
            put_bytes_field(&mut out, 3, &p);
        }
        for (cid, has) in &self.presences {
            let mut p = Vec::new();
            put_bytes_field(&mut p, 1, &cid.to_bytes());
            if !has {
                put_varint_field(&mut p, 2, 1);
            }
            put_bytes_field(&mut out, 4, &p);
        }
        out
    }

    /// The message with its varint length prefix, as sent on a stream.
    pub(crate) fn frame(&self) -> Vec<u8> {
        let body = self.encode();
        let mut out = Vec::with_capacity(body.len() + 5);
        put_varint(&mut out, body.len() as u64);
        out.extend_from_slice(&body);
        out
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<Message, IpfsError> {
        let mut m = Message::default();
        for f in Fields::new(bytes) {
            match f? {
                (1, Value::Bytes(wl)) => {
                    for f in Fields::new(wl) {
                        match f? {
                            (1, Value::Bytes(e)) => m.wants.push(decode_want(e)?),
                            (2, Value::Varint(v)) => m.full = v != 0,
                            _ => {}
                        }
                    }
                }
                // Bitswap 1.0 blocks: CIDv0 of their bytes.
                (2, Value::Bytes(b)) => {
                    let cid = Cid::new_v0(sha256_multihash(b)).ok();
                    m.blocks.push(Payload { cid, data: b.to_vec() });
                }
                (3, Value::Bytes(p)) => {
                    let (mut pre, mut data) = (None, None);
                    for f in Fields::new(p) {
                        match f? {
                            (1, Value::Bytes(b)) => pre = Some(b),
                            (2, Value::Bytes(b)) => data = Some(b),
                            _ => {}
                        }
                    }
                    let data = data.unwrap_or_default();
                    let cid = pre.and_then(|pre| cid_from_prefix(pre, data));
                    m.blocks.push(Payload { cid, data: data.to_vec() });
                }
                (4, Value::Bytes(p)) => {
                    let (mut cid, mut dont) = (None, false);
                    for f in Fields::new(p) {
                        match f? {
                            (1, Value::Bytes(b)) => cid = Cid::try_from(b).ok(),
                            (2, Value::Varint(v)) => dont = v == 1,
                            _ => {}
                        }
                    }
                    if let Some(c) = cid {
                        m.presences.push((c, !dont));
                    }
                }
                _ => {}
            }
        }
        Ok(m)
    }
}

fn decode_want(e: &[u8]) -> Result<Want, IpfsError> {
    let mut w = Want { cid: Cid::default(), cancel: false, have: false, send_dont_have: false };
    let mut cid = None;
    for f in Fields::new(e) {
        match f? {
            (1, Value::Bytes(b)) => cid = Cid::try_from(b).ok(),
            (3, Value::Varint(v)) => w.cancel = v != 0,
            (4, Value::Varint(v)) => w.have = v == 1,
            (5, Value::Varint(v)) => w.send_dont_have = v != 0,
            _ => {}
        }
    }
    w.cid = cid.ok_or_else(|| IpfsError::Corrupt("a Bitswap want without a valid CID".into()))?;
    Ok(w)
}

/// A CID's prefix: version, codec, multihash code, digest length (varints).
pub(crate) fn prefix(cid: &Cid) -> Vec<u8> {
    let mut p = Vec::new();
    put_varint(&mut p, u64::from(cid.version()));
    put_varint(&mut p, cid.codec());
    put_varint(&mut p, cid.hash().code());
    put_varint(&mut p, u64::from(cid.hash().size()));
    p
}

/// The CID of `data` under `prefix` (`None`: malformed, or a hash other than sha2-256).
fn cid_from_prefix(prefix: &[u8], data: &[u8]) -> Option<Cid> {
    let mut rest = prefix;
    let mut next = || -> Option<u64> {
        let (v, n) = get_varint(rest).ok()?;
        rest = &rest[n..];
        Some(v)
    };
    let (version, codec, code, len) = (next()?, next()?, next()?, next()?);
    if code != SHA2_256 || len != 32 {
        return None;
    }
    let version = Version::try_from(version).ok()?;
    Cid::new(version, codec, sha256_multihash(data)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::block::RAW;

    #[test]
    fn round_trip_and_prefixes() {
        let data = b"a block".to_vec();
        let cid = Cid::new_v1(RAW, sha256_multihash(&data));
        let v0 = Cid::new_v0(sha256_multihash(b"x")).unwrap();
        let m = Message {
            wants: vec![Want { cid: v0, cancel: false, have: true, send_dont_have: true }],
            full: true,
            blocks: vec![Payload { cid: Some(cid), data: data.clone() }],
            presences: vec![(v0, false), (cid, true)],
        };
        let back = Message::decode(&m.encode()).unwrap();
        assert_eq!(back, m);
        // The CID comes from the bytes: other bytes under the same prefix are another block.
        let mut lie = m.clone();
        lie.blocks[0].data = b"other".to_vec();
        let got = Message::decode(&lie.encode()).unwrap();
        assert_ne!(got.blocks[0].cid, Some(cid));
        // A prefix naming another hash gives no CID; garbage is an error, not a panic.
        assert_eq!(cid_from_prefix(&[1, 0x55, 0x13, 64], b"x"), None);
        for bad in [&[0x0a, 0xff][..], &[0x1a, 0x05, 0x0a, 0x09][..], &[0xff; 12][..]] {
            assert!(Message::decode(bad).is_err(), "{bad:?}");
        }
        let f = m.frame();
        let (n, k) = get_varint(&f).unwrap();
        assert_eq!(n as usize, f.len() - k);
    }
}
