//! Hand-written protobuf for the two formats UnixFS needs: the DAG-PB node (`PBNode`/`PBLink`)
//! and the UnixFS `Data` message inside it. Encoding is canonical (links before data, fields in
//! number order, empty `Name` kept as Kubo writes it), which is what makes our CIDs Kubo's.

use crate::IpfsError;
use cid::Cid;

/// UnixFS node types (`unixfs.proto` `DataType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataType {
    Raw = 0,
    Directory = 1,
    File = 2,
    Metadata = 3,
    Symlink = 4,
    HamtShard = 5,
}

impl DataType {
    fn from_u64(v: u64) -> Option<Self> {
        Some(match v {
            0 => DataType::Raw,
            1 => DataType::Directory,
            2 => DataType::File,
            3 => DataType::Metadata,
            4 => DataType::Symlink,
            5 => DataType::HamtShard,
            _ => return None,
        })
    }
}

/// One link of a DAG-PB node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PbLink {
    pub cid: Cid,
    pub name: String,
    /// Cumulative size of the linked DAG (encoded blocks).
    pub tsize: u64,
}

/// A DAG-PB node: links and an opaque data field (a UnixFS `Data` message for UnixFS).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PbNode {
    pub links: Vec<PbLink>,
    pub data: Option<Vec<u8>>,
}

/// The UnixFS `Data` message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnixFsData {
    pub kind: DataType,
    pub data: Option<Vec<u8>>,
    pub filesize: Option<u64>,
    pub blocksizes: Vec<u64>,
    pub hash_type: Option<u64>,
    pub fanout: Option<u64>,
}

impl UnixFsData {
    pub fn new(kind: DataType) -> Self {
        UnixFsData { kind, data: None, filesize: None, blocksizes: Vec::new(), hash_type: None, fanout: None }
    }
}

pub(crate) fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

pub(crate) fn put_bytes_field(out: &mut Vec<u8>, field: u64, bytes: &[u8]) {
    put_varint(out, (field << 3) | 2);
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

pub(crate) fn put_varint_field(out: &mut Vec<u8>, field: u64, v: u64) {
    put_varint(out, field << 3);
    put_varint(out, v);
}

impl UnixFsData {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16 + self.data.as_ref().map_or(0, Vec::len) + self.blocksizes.len() * 5);
        put_varint_field(&mut out, 1, self.kind as u64);
        if let Some(d) = &self.data {
            put_bytes_field(&mut out, 2, d);
        }
        if let Some(s) = self.filesize {
            put_varint_field(&mut out, 3, s);
        }
        for b in &self.blocksizes {
            put_varint_field(&mut out, 4, *b);
        }
        if let Some(h) = self.hash_type {
            put_varint_field(&mut out, 5, h);
        }
        if let Some(f) = self.fanout {
            put_varint_field(&mut out, 6, f);
        }
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, IpfsError> {
        let mut d = UnixFsData::new(DataType::Raw);
        let mut kind = None;
        for f in Fields::new(bytes) {
            match f? {
                (1, Value::Varint(v)) => kind = DataType::from_u64(v),
                (2, Value::Bytes(b)) => d.data = Some(b.to_vec()),
                (3, Value::Varint(v)) => d.filesize = Some(v),
                (4, Value::Varint(v)) => d.blocksizes.push(v),
                (4, Value::Bytes(packed)) => {
                    let mut r = packed;
                    while !r.is_empty() {
                        let (v, n) = get_varint(r)?;
                        d.blocksizes.push(v);
                        r = &r[n..];
                    }
                }
                (5, Value::Varint(v)) => d.hash_type = Some(v),
                (6, Value::Varint(v)) => d.fanout = Some(v),
                _ => {}
            }
        }
        d.kind = kind.ok_or_else(|| IpfsError::Corrupt("UnixFS data without a known type".into()))?;
        Ok(d)
    }
}

impl PbNode {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.links.len() * 48 + self.data.as_ref().map_or(0, Vec::len) + 8);
        let mut link = Vec::with_capacity(64);
        for l in &self.links {
            link.clear();
            put_bytes_field(&mut link, 1, &l.cid.to_bytes());
            put_bytes_field(&mut link, 2, l.name.as_bytes());
            put_varint_field(&mut link, 3, l.tsize);
            put_bytes_field(&mut out, 2, &link);
        }
        if let Some(d) = &self.data {
            put_bytes_field(&mut out, 1, d);
        }
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, IpfsError> {
        let mut node = PbNode::default();
        for f in Fields::new(bytes) {
            match f? {
                (1, Value::Bytes(b)) => node.data = Some(b.to_vec()),
                (2, Value::Bytes(b)) => {
                    let mut cid = None;
                    let mut name = String::new();
                    let mut tsize = 0;
                    for lf in Fields::new(b) {
                        match lf? {
                            (1, Value::Bytes(h)) => {
                                cid = Some(
                                    Cid::try_from(h)
                                        .map_err(|e| IpfsError::Corrupt(format!("bad CID in a link: {e}")))?,
                                )
                            }
                            (2, Value::Bytes(n)) => name = String::from_utf8_lossy(n).into_owned(),
                            (3, Value::Varint(v)) => tsize = v,
                            _ => {}
                        }
                    }
                    let cid = cid.ok_or_else(|| IpfsError::Corrupt("DAG-PB link without a hash".into()))?;
                    node.links.push(PbLink { cid, name, tsize });
                }
                _ => {}
            }
        }
        Ok(node)
    }

    /// The UnixFS message in the data field.
    pub fn unixfs(&self) -> Result<UnixFsData, IpfsError> {
        match &self.data {
            Some(d) => UnixFsData::decode(d),
            None => Err(IpfsError::Corrupt("DAG-PB node without UnixFS data".into())),
        }
    }
}

pub(crate) fn get_varint(b: &[u8]) -> Result<(u64, usize), IpfsError> {
    let mut v: u64 = 0;
    for (i, byte) in b.iter().enumerate().take(10) {
        v |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Ok((v, i + 1));
        }
    }
    Err(IpfsError::Corrupt("truncated or overlong varint".into()))
}

pub(crate) enum Value<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Fixed,
}

pub(crate) struct Fields<'a> {
    rest: &'a [u8],
    failed: bool,
}

impl<'a> Fields<'a> {
    pub(crate) fn new(b: &'a [u8]) -> Self {
        Fields { rest: b, failed: false }
    }
    fn next_field(&mut self) -> Result<(u64, Value<'a>), IpfsError> {
        let (key, n) = get_varint(self.rest)?;
        self.rest = &self.rest[n..];
        let value = match key & 7 {
            0 => {
                let (v, n) = get_varint(self.rest)?;
                self.rest = &self.rest[n..];
                Value::Varint(v)
            }
            2 => {
                let (len, n) = get_varint(self.rest)?;
                let len = usize::try_from(len).map_err(|_| IpfsError::Corrupt("field too long".into()))?;
                let body = self.rest.get(n..n.saturating_add(len)).ok_or_else(truncated)?;
                self.rest = &self.rest[n + len..];
                Value::Bytes(body)
            }
            1 => {
                self.rest = self.rest.get(8..).ok_or_else(truncated)?;
                Value::Fixed
            }
            5 => {
                self.rest = self.rest.get(4..).ok_or_else(truncated)?;
                Value::Fixed
            }
            w => return Err(IpfsError::Corrupt(format!("unsupported protobuf wire type {w}"))),
        };
        Ok((key >> 3, value))
    }
}

fn truncated() -> IpfsError {
    IpfsError::Corrupt("truncated protobuf field".into())
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<(u64, Value<'a>), IpfsError>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() || self.failed {
            return None;
        }
        let r = self.next_field();
        self.failed = r.is_err();
        Some(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_node_is_kubos() {
        let mut d = UnixFsData::new(DataType::File);
        d.filesize = Some(0);
        let node = PbNode { links: vec![], data: Some(d.encode()) };
        assert_eq!(node.encode(), vec![0x0a, 0x04, 0x08, 0x02, 0x18, 0x00]);
    }

    #[test]
    fn round_trip_with_links() {
        let cid: Cid = "QmPnnvFkvSCmPvMdMtSNbXrFWQX5XYc4YkcVU4cujyyH8Z".parse().unwrap();
        let mut d = UnixFsData::new(DataType::File);
        d.filesize = Some(300);
        d.blocksizes = vec![200, 100];
        let node = PbNode {
            links: vec![
                PbLink { cid, name: String::new(), tsize: 18 },
                PbLink { cid, name: "x".into(), tsize: 1 << 40 },
            ],
            data: Some(d.encode()),
        };
        let back = PbNode::decode(&node.encode()).unwrap();
        assert_eq!(back, node);
        assert_eq!(back.unixfs().unwrap(), d);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(PbNode::decode(&[0x12, 0xff, 0xff]).is_err());
        assert!(PbNode::decode(&[0x0a, 0x02, 0x08]).is_err());
        assert!(UnixFsData::decode(&[0x08, 0x09]).is_err());
    }
}
