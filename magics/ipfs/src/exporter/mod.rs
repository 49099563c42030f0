//! Reading UnixFS back out of the store: file bytes (with offset/length), directory listings
//! (basic and HAMT), `stat`, and `get` to a path. Every block read is hash-verified by the store,
//! and `get` writes into a temporary sibling that is renamed only when complete.

use crate::importer::{DAG_PB, RAW};
use crate::pb::{DataType, PbNode, UnixFsData};
use crate::store::Store;
use crate::{IpfsError, importer::Observer};
use cid::Cid;
use serde::Serialize;
use std::io::Write;
use std::path::Path;

/// What a CID is, as UnixFS sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    File,
    Directory,
    Symlink,
    Raw,
}

/// One directory entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DirEntry {
    pub name: String,
    pub cid: String,
    /// Cumulative DAG size from the link.
    pub tsize: u64,
    pub kind: Kind,
    /// File size (0 for directories).
    pub size: u64,
}

/// `stat` of a CID.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stat {
    pub cid: String,
    pub kind: Kind,
    /// File size in bytes (for a directory: 0).
    pub size: u64,
    /// Size of the root block.
    pub block_size: u64,
    /// Cumulative size of the DAG (root block + link sizes), Kubo's `CumulativeSize`.
    pub cumulative_size: u64,
    pub links: u64,
    pub hamt: bool,
}

enum Decoded {
    Raw(Vec<u8>),
    Pb(PbNode, UnixFsData, usize),
}

fn decode(store: &Store, cid: &Cid) -> Result<Decoded, IpfsError> {
    let b = store.get_block(cid)?;
    match cid.codec() {
        RAW => Ok(Decoded::Raw(b)),
        DAG_PB => {
            let n = PbNode::decode(&b)?;
            let d = n.unixfs()?;
            Ok(Decoded::Pb(n, d, b.len()))
        }
        c => Err(IpfsError::Unsupported(format!("{cid} has codec 0x{c:x}; only UnixFS (dag-pb, raw) can be read"))),
    }
}

fn kind_of(d: &UnixFsData) -> Kind {
    match d.kind {
        DataType::Directory | DataType::HamtShard => Kind::Directory,
        DataType::Symlink => Kind::Symlink,
        DataType::Raw => Kind::Raw,
        _ => Kind::File,
    }
}

/// Stat a CID (reads only the root block).
pub fn stat(store: &Store, cid: &Cid) -> Result<Stat, IpfsError> {
    Ok(match decode(store, cid)? {
        Decoded::Raw(b) => Stat {
            cid: cid.to_string(),
            kind: Kind::File,
            size: b.len() as u64,
            block_size: b.len() as u64,
            cumulative_size: b.len() as u64,
            links: 0,
            hamt: false,
        },
        Decoded::Pb(n, d, len) => {
            let kind = kind_of(&d);
            let size = match kind {
                Kind::File | Kind::Raw => d.filesize.unwrap_or_else(|| d.data.as_ref().map_or(0, |x| x.len() as u64)),
                Kind::Symlink => d.data.as_ref().map_or(0, |x| x.len() as u64),
                Kind::Directory => 0,
            };
            Stat {
                cid: cid.to_string(),
                kind,
                size,
                block_size: len as u64,
                cumulative_size: len as u64 + n.links.iter().map(|l| l.tsize).sum::<u64>(),
                links: n.links.len() as u64,
                hamt: d.kind == DataType::HamtShard,
            }
        }
    })
}

/// Write `length` bytes (all if `None`) of the file at `cid` from `offset`.
pub fn read_file(
    store: &Store,
    cid: &Cid,
    offset: u64,
    length: Option<u64>,
    w: &mut dyn Write,
    observe: &mut Observer<'_>,
) -> Result<u64, IpfsError> {
    let mut remaining = length.unwrap_or(u64::MAX);
    let mut skip = offset;
    let mut written = 0;
    copy_range(store, cid, &mut skip, &mut remaining, &mut written, w, observe, true)?;
    Ok(written)
}

#[allow(clippy::too_many_arguments)]
fn copy_range(
    store: &Store,
    cid: &Cid,
    skip: &mut u64,
    remaining: &mut u64,
    written: &mut u64,
    w: &mut dyn Write,
    observe: &mut Observer<'_>,
    top: bool,
) -> Result<(), IpfsError> {
    if *remaining == 0 {
        return Ok(());
    }
    let (own, links, sizes) = match decode(store, cid)? {
        Decoded::Raw(b) => (b, Vec::new(), Vec::new()),
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
            (d.data.unwrap_or_default(), n.links, d.blocksizes)
        }
    };
    emit(&own, skip, remaining, written, w, observe)?;
    for (i, l) in links.iter().enumerate() {
        if *remaining == 0 {
            break;
        }
        if let Some(&sz) = sizes.get(i)
            && *skip >= sz
        {
            *skip -= sz;
            continue;
        }
        copy_range(store, &l.cid, skip, remaining, written, w, observe, false)?;
    }
    Ok(())
}

fn emit(
    data: &[u8],
    skip: &mut u64,
    remaining: &mut u64,
    written: &mut u64,
    w: &mut dyn Write,
    observe: &mut Observer<'_>,
) -> Result<(), IpfsError> {
    let len = data.len() as u64;
    if *skip >= len {
        *skip -= len;
        return Ok(());
    }
    let start = *skip as usize;
    let take = (len - *skip).min(*remaining) as usize;
    *skip = 0;
    w.write_all(&data[start..start + take]).map_err(IpfsError::io("writing file bytes"))?;
    *remaining -= take as u64;
    *written += take as u64;
    observe(take as u64)
}

/// List a directory (basic or HAMT); entries sorted by name.
pub fn ls(store: &Store, cid: &Cid) -> Result<Vec<DirEntry>, IpfsError> {
    let (n, d) = match decode(store, cid)? {
        Decoded::Pb(n, d, _) if matches!(d.kind, DataType::Directory | DataType::HamtShard) => (n, d),
        _ => return Err(IpfsError::Unsupported(format!("{cid} is not a directory: use cat or stat"))),
    };
    let mut raw = Vec::new();
    if d.kind == DataType::HamtShard {
        hamt_links(store, &n, &d, &mut raw)?;
    } else {
        raw.extend(n.links.into_iter().map(|l| (l.name, l.cid, l.tsize)));
    }
    let mut out = Vec::with_capacity(raw.len());
    for (name, c, tsize) in raw {
        let (kind, size) = match store.get_block(&c) {
            Ok(_) => {
                let s = stat(store, &c)?;
                (s.kind, s.size)
            }
            Err(IpfsError::NotFound(_)) if c.codec() == RAW => (Kind::File, tsize),
            Err(e) => return Err(e),
        };
        out.push(DirEntry { name, cid: c.to_string(), tsize, kind, size });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

fn hamt_links(store: &Store, n: &PbNode, d: &UnixFsData, out: &mut Vec<(String, Cid, u64)>) -> Result<(), IpfsError> {
    let fanout = d.fanout.unwrap_or(256).max(2);
    let pad = format!("{:X}", fanout - 1).len();
    for l in &n.links {
        if l.name.len() < pad {
            return Err(IpfsError::Corrupt(format!("HAMT link name {:?} is shorter than its prefix", l.name)));
        }
        if l.name.len() == pad {
            match decode(store, &l.cid)? {
                Decoded::Pb(cn, cd, _) if cd.kind == DataType::HamtShard => hamt_links(store, &cn, &cd, out)?,
                _ => return Err(IpfsError::Corrupt(format!("HAMT child {} is not a shard", l.cid))),
            }
        } else {
            out.push((l.name[pad..].to_string(), l.cid, l.tsize));
        }
    }
    Ok(())
}

/// Write the file or directory at `cid` to `out` (which must not exist). Written under a
/// temporary name next to `out` and renamed when complete; removed on any error.
pub fn get(store: &Store, cid: &Cid, out: &Path, observe: &mut Observer<'_>) -> Result<(), IpfsError> {
    if out.symlink_metadata().is_ok() {
        return Err(IpfsError::BadOption(format!(
            "{} already exists: choose another output path or remove it",
            out.display()
        )));
    }
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    if !parent.is_dir() {
        return Err(IpfsError::BadOption(format!("directory {} does not exist: create it first", parent.display())));
    }
    let name = out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into());
    let tmp = parent.join(format!(".{name}.kelp-partial-{:08x}", rand::random::<u32>()));
    let r =
        write_node(store, cid, &tmp, observe).and_then(|()| std::fs::rename(&tmp, out).map_err(IpfsError::path(out)));
    if r.is_err() {
        let _ = std::fs::remove_dir_all(&tmp).or_else(|_| std::fs::remove_file(&tmp));
    }
    r
}

fn write_node(store: &Store, cid: &Cid, path: &Path, observe: &mut Observer<'_>) -> Result<(), IpfsError> {
    let s = stat(store, cid)?;
    match s.kind {
        Kind::Directory => {
            std::fs::create_dir(path).map_err(IpfsError::path(path))?;
            for e in ls(store, cid)? {
                if e.name.is_empty() || e.name == "." || e.name == ".." || e.name.contains('/') || e.name.contains('\0')
                {
                    return Err(IpfsError::Corrupt(format!("unsafe entry name {:?} in directory {cid}", e.name)));
                }
                let c = crate::parse_cid(&e.cid)?;
                write_node(store, &c, &path.join(&e.name), observe)?;
            }
            Ok(())
        }
        Kind::Symlink => {
            let Decoded::Pb(_, d, _) = decode(store, cid)? else {
                return Err(IpfsError::Corrupt(format!("{cid}: symlink is not dag-pb")));
            };
            let target = String::from_utf8_lossy(&d.data.unwrap_or_default()).into_owned();
            #[cfg(unix)]
            {
                std::os::unix::fs::symlink(&target, path).map_err(IpfsError::path(path))
            }
            #[cfg(not(unix))]
            {
                Err(IpfsError::Unsupported(format!("symlink {target} cannot be created on this system")))
            }
        }
        Kind::File | Kind::Raw => {
            let f = std::fs::File::create(path).map_err(IpfsError::path(path))?;
            let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
            read_file(store, cid, 0, None, &mut w, observe)?;
            w.flush().map_err(IpfsError::path(path))?;
            Ok(())
        }
    }
}
