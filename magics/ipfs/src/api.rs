//! The blocking library API other crates call (Ocean publishes by CID, C2D reads CID inputs):
//! `add_path`, `add_bytes`, `cat`, `get` on [`Store`], plus variants taking an observer for
//! progress and cancellation. Callers in async code use `spawn_blocking`.

use crate::exporter;
use crate::importer::{self, ImportedEntry, NullSink, Observer};
use crate::options::AddOptions;
use crate::store::Store;
use crate::{IpfsError, parse_cid};
use cid::Cid;
use serde::Serialize;
use std::path::Path;

/// The result of an add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Added {
    /// The root CID (the wrapping directory with `wrap_with_directory`).
    pub cid: Cid,
    /// Content bytes (sum of file sizes for a directory).
    pub size: u64,
    /// Cumulative DAG size (Kubo's `Size` in `ipfs add` output).
    pub tsize: u64,
    /// Name of the added entry (file or directory name; empty for bytes).
    pub name: String,
    /// Every file and directory added, root last (Kubo's output lines).
    pub entries: Vec<AddedEntry>,
    /// Blocks produced (including duplicates already stored).
    pub blocks: u64,
    pub pinned: bool,
}

/// One line of an add listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct AddedEntry {
    pub path: String,
    pub cid: String,
    pub size: u64,
    pub tsize: u64,
    pub is_dir: bool,
}

fn no_observer() -> impl FnMut(u64) -> Result<(), IpfsError> {
    |_| Ok(())
}

impl Store {
    /// Add a file or (with `opts.recursive`) a directory, Kubo-identically.
    pub fn add_path(&self, path: &Path, opts: &AddOptions) -> Result<Added, IpfsError> {
        self.add_path_with(path, opts, &mut no_observer())
    }

    /// [`Store::add_path`] with an observer (bytes read so far; an `Err` interrupts).
    pub fn add_path_with(
        &self,
        path: &Path,
        opts: &AddOptions,
        observe: &mut Observer<'_>,
    ) -> Result<Added, IpfsError> {
        opts.validate()?;
        std::fs::symlink_metadata(path).map_err(IpfsError::path(path))?;
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        // Held until the pin is written, so a concurrent gc cannot take the new blocks.
        let _lock = if opts.only_hash { None } else { Some(self.lock_shared()?) };
        let (entries, blocks) = if opts.only_hash {
            let mut sink = NullSink::default();
            (importer::import_path(path, opts, &mut sink, observe)?, sink.blocks)
        } else {
            self.with_writer(|sink| importer::import_path(path, opts, sink, observe))?
        };
        self.finish_add(entries, blocks, name, opts)
    }

    /// Add bytes as one file.
    pub fn add_bytes(&self, bytes: &[u8], opts: &AddOptions) -> Result<Added, IpfsError> {
        self.add_reader_with(&mut &bytes[..], opts, &mut no_observer())
    }

    /// Add a stream as one file.
    pub fn add_reader_with(
        &self,
        reader: &mut dyn std::io::Read,
        opts: &AddOptions,
        observe: &mut Observer<'_>,
    ) -> Result<Added, IpfsError> {
        opts.validate()?;
        let _lock = if opts.only_hash { None } else { Some(self.lock_shared()?) };
        let (node, blocks) = if opts.only_hash {
            let mut sink = NullSink::default();
            (importer::import_reader(reader, opts, &mut sink, observe)?, sink.blocks)
        } else {
            self.with_writer(|sink| importer::import_reader(reader, opts, sink, observe))?
        };
        let mut entries = vec![ImportedEntry { path: String::new(), node, is_dir: false }];
        if opts.wrap_with_directory {
            // Bytes have no name: wrapping them is not meaningful.
            entries.truncate(1);
        }
        self.finish_add(entries, blocks, String::new(), opts)
    }

    fn finish_add(
        &self,
        entries: Vec<ImportedEntry>,
        blocks: u64,
        name: String,
        opts: &AddOptions,
    ) -> Result<Added, IpfsError> {
        let root = entries.last().cloned().ok_or_else(|| IpfsError::Corrupt("import produced nothing".into()))?;
        let pinned = opts.pin && !opts.only_hash;
        if pinned {
            self.pin(&root.node.cid, opts.pin_name.as_deref())?;
        }
        Ok(Added {
            cid: root.node.cid,
            size: root.node.size,
            tsize: root.node.tsize,
            name,
            entries: entries
                .into_iter()
                .map(|e| AddedEntry {
                    path: e.path,
                    cid: e.node.cid.to_string(),
                    size: e.node.size,
                    tsize: e.node.tsize,
                    is_dir: e.is_dir,
                })
                .collect(),
            blocks,
            pinned,
        })
    }

    /// The whole content of a file CID (verified). For large files prefer [`Store::cat_to`].
    pub fn cat(&self, cid: &Cid) -> Result<Vec<u8>, IpfsError> {
        let mut out = Vec::new();
        exporter::read_file(self, cid, 0, None, &mut out, &mut no_observer())?;
        Ok(out)
    }

    /// Stream `length` bytes from `offset` of a file CID into `w`; returns the bytes written.
    pub fn cat_to(
        &self,
        cid: &Cid,
        offset: u64,
        length: Option<u64>,
        w: &mut dyn std::io::Write,
        observe: &mut Observer<'_>,
    ) -> Result<u64, IpfsError> {
        exporter::read_file(self, cid, offset, length, w, observe)
    }

    /// Write the file or directory at `cid` to `out` (must not exist); every block verified.
    pub fn get(&self, cid: &Cid, out: &Path) -> Result<(), IpfsError> {
        exporter::get(self, cid, out, &mut no_observer())
    }

    /// [`Store::get`] with an observer.
    pub fn get_with(&self, cid: &Cid, out: &Path, observe: &mut Observer<'_>) -> Result<(), IpfsError> {
        exporter::get(self, cid, out, observe)
    }

    /// Parse `cid` and [`Store::cat`] it.
    pub fn cat_str(&self, cid: &str) -> Result<Vec<u8>, IpfsError> {
        self.cat(&parse_cid(cid)?)
    }
}

/// Compute the CID of bytes without storing anything.
pub fn cid_of_bytes(bytes: &[u8], opts: &AddOptions) -> Result<Cid, IpfsError> {
    let mut sink = NullSink::default();
    Ok(importer::import_reader(&mut &bytes[..], opts, &mut sink, &mut no_observer())?.cid)
}

/// Compute the CID of a path without storing anything.
pub fn cid_of_path(path: &Path, opts: &AddOptions) -> Result<Cid, IpfsError> {
    let mut sink = NullSink::default();
    let e = importer::import_path(path, opts, &mut sink, &mut no_observer())?;
    e.last().map(|e| e.node.cid).ok_or_else(|| IpfsError::Corrupt("import produced nothing".into()))
}
