//! The UnixFS importer: fixed-size chunking, Kubo's balanced file layout, directories (basic and
//! HAMT), symlinks. It streams: a file is read one chunk at a time and at most one pending link
//! list per tree level is kept, so memory does not grow with the file size. The block-level
//! pieces it shares with [`crate::hamt`] and the store (codecs, hashing, [`BlockSink`], [`Node`],
//! [`DirChild`]) live in the crate's `block` module and are re-exported here.

use crate::block::put_pb;
use crate::options::AddOptions;
use crate::pb::{DataType, PbLink, PbNode, UnixFsData};
use crate::{IpfsError, hamt};
use cid::Cid;
use std::io::Read;
use std::path::Path;

pub use crate::block::{BlockSink, DAG_PB, DirChild, Node, RAW, SHA2_256, block_cid, sha256_multihash};

/// Computes CIDs only (`--only-hash`).
#[derive(Debug, Default)]
pub struct NullSink {
    pub blocks: u64,
}

impl BlockSink for NullSink {
    fn put(&mut self, _cid: &Cid, _block: &[u8]) -> Result<(), IpfsError> {
        self.blocks += 1;
        Ok(())
    }
}

/// Called with the number of content bytes read since the last call; an `Err` stops the import.
pub type Observer<'a> = dyn FnMut(u64) -> Result<(), IpfsError> + 'a;

/// One line of an import listing (Kubo prints one per file and directory, root last).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedEntry {
    pub path: String,
    pub node: Node,
    pub is_dir: bool,
}

/// Balanced-layout builder: feed chunks, then `finish`.
struct FileBuilder<'s> {
    version: u8,
    raw_leaves: bool,
    max_links: usize,
    /// Pending links per level (0 = leaves); each entry also carries its content size.
    levels: Vec<Vec<(PbLink, u64)>>,
    sink: &'s mut dyn BlockSink,
    leaves: u64,
}

impl<'s> FileBuilder<'s> {
    fn new(opts: &AddOptions, sink: &'s mut dyn BlockSink) -> Self {
        FileBuilder {
            version: opts.effective_cid_version(),
            raw_leaves: opts.leaves_are_raw(),
            max_links: opts.max_links,
            levels: vec![Vec::new()],
            sink,
            leaves: 0,
        }
    }

    fn leaf(&mut self, chunk: &[u8]) -> Result<Node, IpfsError> {
        if self.raw_leaves {
            let cid = block_cid(1, RAW, chunk);
            self.sink.put(&cid, chunk)?;
            return Ok(Node { cid, tsize: chunk.len() as u64, size: chunk.len() as u64 });
        }
        let mut d = UnixFsData::new(DataType::File);
        d.data = (!chunk.is_empty()).then(|| chunk.to_vec());
        d.filesize = Some(chunk.len() as u64);
        put_pb(self.version, &PbNode { links: vec![], data: Some(d.encode()) }, chunk.len() as u64, self.sink)
    }

    fn push_chunk(&mut self, chunk: &[u8]) -> Result<(), IpfsError> {
        let n = self.leaf(chunk)?;
        self.leaves += 1;
        self.push(0, n)
    }

    fn push(&mut self, level: usize, n: Node) -> Result<(), IpfsError> {
        if self.levels.len() <= level {
            self.levels.push(Vec::new());
        }
        self.levels[level].push((PbLink { cid: n.cid, name: String::new(), tsize: n.tsize }, n.size));
        if self.levels[level].len() == self.max_links {
            let links = std::mem::take(&mut self.levels[level]);
            let parent = self.parent(links)?;
            self.push(level + 1, parent)?;
        }
        Ok(())
    }

    fn parent(&mut self, links: Vec<(PbLink, u64)>) -> Result<Node, IpfsError> {
        let mut d = UnixFsData::new(DataType::File);
        d.blocksizes = links.iter().map(|(_, s)| *s).collect();
        let size: u64 = d.blocksizes.iter().sum();
        d.filesize = Some(size);
        let node = PbNode { links: links.into_iter().map(|(l, _)| l).collect(), data: Some(d.encode()) };
        put_pb(self.version, &node, size, self.sink)
    }

    fn finish(mut self) -> Result<Node, IpfsError> {
        if self.leaves == 0 {
            return self.leaf(&[]);
        }
        let mut level = 0;
        loop {
            let top = self.levels.iter().rposition(|l| !l.is_empty()).expect("at least one leaf was pushed");
            if level == top && self.levels[level].len() == 1 {
                let (link, size) = self.levels[level].pop().expect("one link");
                return Ok(Node { cid: link.cid, tsize: link.tsize, size });
            }
            if !self.levels[level].is_empty() {
                let links = std::mem::take(&mut self.levels[level]);
                let parent = self.parent(links)?;
                if self.levels.len() <= level + 1 {
                    self.levels.push(Vec::new());
                }
                // Not `push`: a level never holds max_links here, and we must not re-flush.
                self.levels[level + 1]
                    .push((PbLink { cid: parent.cid, name: String::new(), tsize: parent.tsize }, parent.size));
            }
            level += 1;
        }
    }
}

/// Read until `buf` is full or the reader ends; returns the bytes read.
fn fill(r: &mut dyn Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Import one file's bytes from a reader.
pub fn import_reader(
    reader: &mut dyn Read,
    opts: &AddOptions,
    sink: &mut dyn BlockSink,
    observe: &mut Observer<'_>,
) -> Result<Node, IpfsError> {
    opts.validate()?;
    let mut buf = vec![0u8; opts.chunk_size];
    let mut b = FileBuilder::new(opts, sink);
    loop {
        let n = fill(reader, &mut buf).map_err(IpfsError::io("reading the data to add"))?;
        if n == 0 {
            break;
        }
        b.push_chunk(&buf[..n])?;
        observe(n as u64)?;
        if n < buf.len() {
            break;
        }
    }
    b.finish()
}

/// Build a directory node (basic, or a HAMT shard above the options' threshold).
pub fn build_directory(
    mut children: Vec<DirChild>,
    opts: &AddOptions,
    sink: &mut dyn BlockSink,
) -> Result<Node, IpfsError> {
    children.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    let version = opts.effective_cid_version();
    let size = children.iter().map(|c| c.node.size).sum();
    let node = PbNode {
        links: children.iter().map(|c| PbLink { cid: c.node.cid, name: c.name.clone(), tsize: c.node.tsize }).collect(),
        data: Some(UnixFsData::new(DataType::Directory).encode()),
    };
    if hamt::should_shard(&node, opts) {
        return hamt::build(children, opts, sink);
    }
    put_pb(version, &node, size, sink)
}

/// Import a path (file, symlink, or with `opts.recursive` a directory); returns the listing
/// with the root last, as Kubo prints it.
pub fn import_path(
    path: &Path,
    opts: &AddOptions,
    sink: &mut dyn BlockSink,
    observe: &mut Observer<'_>,
) -> Result<Vec<ImportedEntry>, IpfsError> {
    opts.validate()?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.to_string_lossy().into_owned());
    let mut out = Vec::new();
    let root = import_any(path, &name, opts, sink, observe, &mut out)?;
    if opts.wrap_with_directory {
        let dir = build_directory(vec![DirChild { name: name.clone(), node: root }], opts, sink)?;
        out.push(ImportedEntry { path: String::new(), node: dir, is_dir: true });
    }
    Ok(out)
}

fn import_any(
    path: &Path,
    rel: &str,
    opts: &AddOptions,
    sink: &mut dyn BlockSink,
    observe: &mut Observer<'_>,
    out: &mut Vec<ImportedEntry>,
) -> Result<Node, IpfsError> {
    let meta = std::fs::symlink_metadata(path).map_err(IpfsError::path(path))?;
    let ft = meta.file_type();
    if ft.is_symlink() {
        let target = std::fs::read_link(path).map_err(IpfsError::path(path))?;
        let mut d = UnixFsData::new(DataType::Symlink);
        d.data = Some(target.to_string_lossy().into_owned().into_bytes());
        let node = put_pb(opts.effective_cid_version(), &PbNode { links: vec![], data: Some(d.encode()) }, 0, sink)?;
        out.push(ImportedEntry { path: rel.to_string(), node: node.clone(), is_dir: false });
        return Ok(node);
    }
    if ft.is_dir() {
        if !opts.recursive {
            return Err(IpfsError::IsDirectory(path.to_path_buf()));
        }
        let mut names = Vec::new();
        for e in std::fs::read_dir(path).map_err(IpfsError::path(path))? {
            let e = e.map_err(IpfsError::path(path))?;
            let n = e.file_name().into_string().map_err(|n| {
                IpfsError::Unsupported(format!("{}: file name {n:?} is not UTF-8; rename it", path.display()))
            })?;
            if !opts.hidden && n.starts_with('.') {
                continue;
            }
            names.push(n);
        }
        names.sort();
        let mut children = Vec::with_capacity(names.len());
        for n in names {
            let child = import_any(&path.join(&n), &format!("{rel}/{n}"), opts, sink, observe, out)?;
            children.push(DirChild { name: n, node: child });
        }
        let node = build_directory(children, opts, sink)?;
        out.push(ImportedEntry { path: rel.to_string(), node: node.clone(), is_dir: true });
        return Ok(node);
    }
    if !ft.is_file() {
        return Err(IpfsError::Unsupported(format!(
            "{} is not a regular file, directory or symlink; only those can be added",
            path.display()
        )));
    }
    let mut f = std::fs::File::open(path).map_err(IpfsError::path(path))?;
    let node = import_reader(&mut f, opts, sink, observe)?;
    out.push(ImportedEntry { path: rel.to_string(), node: node.clone(), is_dir: false });
    Ok(node)
}
