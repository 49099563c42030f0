//! CAR v1 (ipld.io/specs/transport/car/carv1): export of a DAG from the store and import into
//! it. Header = uvarint length + DAG-CBOR `{"roots": [CID], "version": 1}`; then sections of
//! uvarint length + CID bytes + block. Import verifies every block's hash and streams (one
//! section in memory at a time).

use crate::IpfsError;
use crate::importer::Observer;
use crate::pb::{get_varint, put_varint};
use crate::store::Store;
use cid::Cid;
use std::io::{Read, Write};

/// Largest section accepted on import (blocks are ≤ 4 MiB in practice).
const MAX_SECTION: u64 = 16 << 20;

fn cbor_head(out: &mut Vec<u8>, major: u8, v: u64) {
    let m = major << 5;
    match v {
        0..=23 => out.push(m | v as u8),
        24..=0xff => out.extend_from_slice(&[m | 24, v as u8]),
        0x100..=0xffff => {
            out.push(m | 25);
            out.extend_from_slice(&(v as u16).to_be_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(m | 26);
            out.extend_from_slice(&(v as u32).to_be_bytes());
        }
        _ => {
            out.push(m | 27);
            out.extend_from_slice(&v.to_be_bytes());
        }
    }
}

/// The DAG-CBOR header with the given roots.
pub fn header(roots: &[Cid]) -> Vec<u8> {
    let mut h = Vec::new();
    cbor_head(&mut h, 5, 2);
    cbor_head(&mut h, 3, 5);
    h.extend_from_slice(b"roots");
    cbor_head(&mut h, 4, roots.len() as u64);
    for r in roots {
        let b = r.to_bytes();
        cbor_head(&mut h, 6, 42);
        cbor_head(&mut h, 2, b.len() as u64 + 1);
        h.push(0);
        h.extend_from_slice(&b);
    }
    cbor_head(&mut h, 3, 7);
    h.extend_from_slice(b"version");
    cbor_head(&mut h, 0, 1);
    h
}

/// Write the DAG under `root` as a CAR v1 (one root; blocks depth-first, each once).
/// Returns (blocks, bytes written).
pub fn export(store: &Store, root: &Cid, w: &mut dyn Write) -> Result<(u64, u64), IpfsError> {
    let io = IpfsError::io("writing the CAR");
    let h = header(&[*root]);
    let mut pre = Vec::with_capacity(10);
    put_varint(&mut pre, h.len() as u64);
    w.write_all(&pre).and_then(|()| w.write_all(&h)).map_err(io)?;
    let mut total = (pre.len() + h.len()) as u64;
    let mut blocks = 0;
    store.walk(root, |c, b| {
        let cb = c.to_bytes();
        let mut pre = Vec::with_capacity(10);
        put_varint(&mut pre, (cb.len() + b.len()) as u64);
        w.write_all(&pre)
            .and_then(|()| w.write_all(&cb))
            .and_then(|()| w.write_all(b))
            .map_err(IpfsError::io("writing the CAR"))?;
        total += (pre.len() + cb.len() + b.len()) as u64;
        blocks += 1;
        Ok(())
    })?;
    Ok((blocks, total))
}

fn read_uvarint(r: &mut dyn Read) -> Result<Option<u64>, IpfsError> {
    let mut v = 0u64;
    for i in 0..10 {
        let mut b = [0u8; 1];
        match r.read(&mut b) {
            Ok(0) if i == 0 => return Ok(None),
            Ok(0) => return Err(IpfsError::Corrupt("CAR ends inside a length".into())),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(IpfsError::io("reading the CAR")(e)),
        }
        v |= u64::from(b[0] & 0x7f) << (7 * i);
        if b[0] & 0x80 == 0 {
            return Ok(Some(v));
        }
    }
    Err(IpfsError::Corrupt("overlong varint in CAR".into()))
}

/// Minimal CBOR reader for the header.
struct Cbor<'a>(&'a [u8]);

#[derive(Debug)]
enum Item {
    Uint(u64),
    Bytes(Vec<u8>),
    Text(String),
    Array(Vec<Item>),
    Map(Vec<(Item, Item)>),
    Tag(u64, Box<Item>),
    Simple,
}

impl Cbor<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], IpfsError> {
        if self.0.len() < n {
            return Err(IpfsError::Corrupt("truncated CAR header".into()));
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }
    fn arg(&mut self, info: u8) -> Result<u64, IpfsError> {
        Ok(match info {
            0..=23 => u64::from(info),
            24 => u64::from(self.take(1)?[0]),
            25 => u64::from(u16::from_be_bytes(self.take(2)?.try_into().expect("2"))),
            26 => u64::from(u32::from_be_bytes(self.take(4)?.try_into().expect("4"))),
            27 => u64::from_be_bytes(self.take(8)?.try_into().expect("8")),
            _ => return Err(IpfsError::Corrupt("unsupported CBOR in CAR header".into())),
        })
    }
    fn item(&mut self, depth: usize) -> Result<Item, IpfsError> {
        if depth > 16 {
            return Err(IpfsError::Corrupt("CAR header nested too deeply".into()));
        }
        let b = self.take(1)?[0];
        let (major, info) = (b >> 5, b & 31);
        let n = self.arg(info)?;
        let len = |n: u64| usize::try_from(n).map_err(|_| IpfsError::Corrupt("CAR header too large".into()));
        Ok(match major {
            0 => Item::Uint(n),
            1 => Item::Uint(0),
            2 => Item::Bytes(self.take(len(n)?)?.to_vec()),
            3 => Item::Text(String::from_utf8_lossy(self.take(len(n)?)?).into_owned()),
            4 => Item::Array((0..n.min(1 << 16)).map(|_| self.item(depth + 1)).collect::<Result<_, _>>()?),
            5 => Item::Map(
                (0..n.min(1 << 16))
                    .map(|_| Ok((self.item(depth + 1)?, self.item(depth + 1)?)))
                    .collect::<Result<_, IpfsError>>()?,
            ),
            6 => Item::Tag(n, Box::new(self.item(depth + 1)?)),
            _ => Item::Simple,
        })
    }
}

/// Parse a CAR v1 header: its roots.
pub fn parse_header(h: &[u8]) -> Result<Vec<Cid>, IpfsError> {
    let Item::Map(entries) = Cbor(h).item(0)? else {
        return Err(IpfsError::Corrupt("CAR header is not a map".into()));
    };
    let mut roots = None;
    let mut version = None;
    for (k, v) in entries {
        match (k, v) {
            (Item::Text(k), Item::Uint(n)) if k == "version" => version = Some(n),
            (Item::Text(k), Item::Array(items)) if k == "roots" => {
                let mut rs = Vec::new();
                for it in items {
                    match it {
                        Item::Tag(42, b) => match *b {
                            Item::Bytes(bytes) if bytes.first() == Some(&0) => rs.push(
                                Cid::try_from(&bytes[1..])
                                    .map_err(|e| IpfsError::Corrupt(format!("bad root CID: {e}")))?,
                            ),
                            _ => return Err(IpfsError::Corrupt("CAR root is not a CID".into())),
                        },
                        _ => return Err(IpfsError::Corrupt("CAR root is not a CID".into())),
                    }
                }
                roots = Some(rs);
            }
            _ => {}
        }
    }
    match version {
        Some(1) => {}
        Some(v) => return Err(IpfsError::Unsupported(format!("CAR version {v} is not supported; only CAR v1"))),
        None => return Err(IpfsError::Corrupt("CAR header has no version".into())),
    }
    roots.ok_or_else(|| IpfsError::Corrupt("CAR header has no roots".into()))
}

pub(crate) fn cid_len(section: &[u8]) -> Result<usize, IpfsError> {
    if section.len() >= 34 && section[0] == 0x12 && section[1] == 0x20 {
        return Ok(34);
    }
    let mut pos = 0;
    for _ in 0..3 {
        let (_, n) = get_varint(section.get(pos..).unwrap_or_default())?;
        pos += n;
    }
    let (len, n) = get_varint(section.get(pos..).unwrap_or_default())?;
    pos += n;
    let end = pos.checked_add(len as usize).filter(|e| *e <= section.len());
    end.ok_or_else(|| IpfsError::Corrupt("CID runs past its CAR section".into()))
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    pub roots: Vec<Cid>,
    pub blocks: u64,
    pub bytes: u64,
    /// Roots whose whole DAG is now in the store (and were pinned when asked).
    pub complete_roots: Vec<Cid>,
}

/// Import a CAR v1 stream into the store (every block verified); pin complete roots if `pin`.
pub fn import(store: &Store, r: &mut dyn Read, pin: bool, observe: &mut Observer<'_>) -> Result<Imported, IpfsError> {
    let hlen = read_uvarint(r)?.ok_or_else(|| IpfsError::Corrupt("empty file: not a CAR".into()))?;
    if hlen == 0 || hlen > 1 << 20 {
        return Err(IpfsError::Corrupt("not a CAR v1 file (bad header length)".into()));
    }
    let mut h = vec![0u8; hlen as usize];
    r.read_exact(&mut h).map_err(|_| IpfsError::Corrupt("CAR ends inside its header".into()))?;
    let roots = parse_header(&h)?;
    let lock = store.lock_shared()?;
    let (mut blocks, mut bytes) = (0, 0);
    let mut buf = Vec::new();
    while let Some(len) = read_uvarint(r)? {
        if len == 0 || len > MAX_SECTION {
            return Err(IpfsError::Corrupt(format!("CAR section of {len} bytes is not valid")));
        }
        buf.resize(len as usize, 0);
        r.read_exact(&mut buf).map_err(|_| IpfsError::Corrupt("CAR ends inside a block".into()))?;
        let n = cid_len(&buf)?;
        let cid = Cid::try_from(&buf[..n]).map_err(|e| IpfsError::Corrupt(format!("bad CID in CAR: {e}")))?;
        store.put_verified(&cid, &buf[n..])?;
        blocks += 1;
        bytes += len;
        observe(len)?;
    }
    let mut complete = Vec::new();
    for root in &roots {
        if store.walk(root, |_, _| Ok(())).is_ok() {
            complete.push(*root);
        }
    }
    if pin {
        for root in &complete {
            store.pin(root, None)?;
        }
    }
    drop(lock);
    Ok(Imported { roots, blocks, bytes, complete_roots: complete })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trip() {
        let c: Cid = "bafybeidx7xmnxeh74bqk563q5m3osfqd4za47fneggxdwemxjxr6cryj6a".parse().unwrap();
        let v0: Cid = "QmQRiXcmgocXXUZHXdndiE9LSKM45YJnCFsyjjPmg2p8MN".parse().unwrap();
        assert_eq!(parse_header(&header(&[c, v0])).unwrap(), vec![c, v0]);
        // Canonical DAG-CBOR: map(2), "roots" before "version".
        let h = header(&[c]);
        assert_eq!(&h[..7], &[0xa2, 0x65, b'r', b'o', b'o', b't', b's']);
        assert_eq!(&h[h.len() - 9..], &[0x67, b'v', b'e', b'r', b's', b'i', b'o', b'n', 0x01]);
    }

    #[test]
    fn bad_headers_are_errors() {
        assert!(parse_header(&[0x01]).is_err());
        assert!(parse_header(&[0xa1, 0x65, b'r', b'o', b'o', b't', b's', 0x80]).is_err());
    }
}
