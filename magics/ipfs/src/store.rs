//! The embedded block store under `$KELP_HOME/ipfs`: content-addressed block files, pins, gc.
//!
//! Layout (all below the store directory):
//! - `blocks/XY/<hex sha2-256 digest>`: one file per block, named by the digest of its multihash
//!   (so a CIDv0 and a CIDv1 of the same bytes share one file);
//! - `pins/<cid>.json`: one file per pinned root `{cid, name, created}`;
//! - `tmp/`: blocks and pins being written; a write is temp file + rename, so a block or a pin
//!   either exists whole or not at all, and a killed add leaves at most unpinned blocks (gc
//!   removes them) plus stray temp files (removed by gc and on open);
//! - `lock`: adds hold a shared lock, gc an exclusive one, so gc never deletes blocks of an add
//!   that is still running;
//! - `config.json`: settings of `%ipfs config`.
//!
//! Every block read is verified against its hash.

use crate::IpfsError;
use crate::block::{BlockSink, DAG_PB, RAW, SHA2_256, sha256_multihash};
use crate::limits::ReadLimits;
use crate::pb::PbNode;
use cid::Cid;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

static TMP_SEQ: AtomicU64 = AtomicU64::new(0);

/// A pin record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pin {
    pub cid: String,
    #[serde(default)]
    pub name: Option<String>,
    /// Seconds since the Unix epoch.
    pub created: u64,
}

/// What gc did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct GcReport {
    pub removed_blocks: u64,
    pub removed_bytes: u64,
    pub kept_blocks: u64,
}

/// An open block store. Cheap to clone; all state is on disk.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
    limits: ReadLimits,
}

/// A held store lock (released on drop).
#[derive(Debug)]
pub struct StoreLock(#[allow(dead_code)] File);

impl Store {
    /// Open (creating if needed) a store in `dir`.
    pub fn open(dir: &Path) -> Result<Store, IpfsError> {
        let err = |source| IpfsError::Store { path: dir.to_path_buf(), source };
        for sub in ["blocks", "pins", "tmp"] {
            fs::create_dir_all(dir.join(sub)).map_err(err)?;
        }
        let s = Store { root: dir.to_path_buf(), limits: ReadLimits::default() };
        File::options().create(true).append(true).open(s.root.join("lock")).map_err(err)?;
        Ok(s)
    }

    /// Open the store of a kelp config: `$KELP_HOME/ipfs`.
    pub fn open_default(config: &kelp_magic::Config) -> Result<Store, IpfsError> {
        Store::open(&config.dir("ipfs"))
    }

    /// The store's directory.
    pub fn dir(&self) -> &Path {
        &self.root
    }

    /// This handle with other bounds on reading DAGs (see [`ReadLimits`]).
    pub fn with_limits(mut self, limits: ReadLimits) -> Store {
        self.limits = limits;
        self
    }

    /// The bounds reads through this handle observe.
    pub fn limits(&self) -> ReadLimits {
        self.limits
    }

    fn lock_file(&self) -> Result<File, IpfsError> {
        File::options()
            .create(true)
            .append(true)
            .open(self.root.join("lock"))
            .map_err(|source| IpfsError::Store { path: self.root.clone(), source })
    }

    /// Shared lock: held by writers (add, import) so gc waits for them.
    pub fn lock_shared(&self) -> Result<StoreLock, IpfsError> {
        let f = self.lock_file()?;
        f.lock_shared().map_err(IpfsError::io("locking the IPFS store"))?;
        Ok(StoreLock(f))
    }

    /// Exclusive lock: held by gc.
    pub fn lock_exclusive(&self) -> Result<StoreLock, IpfsError> {
        let f = self.lock_file()?;
        f.lock().map_err(IpfsError::io("locking the IPFS store"))?;
        Ok(StoreLock(f))
    }

    fn digest_hex(cid: &Cid) -> Result<String, IpfsError> {
        let mh = cid.hash();
        if mh.code() != SHA2_256 || mh.digest().len() != 32 {
            return Err(IpfsError::Unsupported(format!(
                "{cid} uses multihash 0x{:x}; the local store supports sha2-256 only",
                mh.code()
            )));
        }
        Ok(hex::encode(mh.digest()))
    }

    fn block_path(&self, cid: &Cid) -> Result<PathBuf, IpfsError> {
        let h = Self::digest_hex(cid)?;
        Ok(self.root.join("blocks").join(&h[..2]).join(h))
    }

    pub(crate) fn temp_path(&self, tag: &str) -> PathBuf {
        let n = TMP_SEQ.fetch_add(1, Ordering::Relaxed);
        self.root.join("tmp").join(format!("{tag}-{}-{n}-{:08x}", std::process::id(), rand::random::<u32>()))
    }

    /// Whether the block is present (not verified).
    pub fn has(&self, cid: &Cid) -> bool {
        self.block_path(cid).map(|p| p.exists()).unwrap_or(false)
    }

    /// Store a block after checking that it hashes to `cid`.
    pub fn put_verified(&self, cid: &Cid, block: &[u8]) -> Result<(), IpfsError> {
        if cid.hash().code() != SHA2_256 || sha256_multihash(block) != *cid.hash() {
            return Err(IpfsError::CorruptBlock(cid.to_string()));
        }
        self.put(cid, block)
    }

    /// Store a block (the caller computed `cid` from `block`). Atomic: temp file + rename.
    pub fn put(&self, cid: &Cid, block: &[u8]) -> Result<(), IpfsError> {
        let path = self.block_path(cid)?;
        // Already stored and intact: nothing to do. A damaged copy is replaced (re-adding the
        // data repairs the store).
        if let Ok(existing) = fs::read(&path)
            && existing.len() == block.len()
            && sha256_multihash(&existing) == sha256_multihash(block)
        {
            return Ok(());
        }
        let dir = path.parent().expect("block paths have a parent");
        fs::create_dir_all(dir).map_err(IpfsError::io("creating a block directory"))?;
        let tmp = self.temp_path("blk");
        let write = || -> std::io::Result<()> {
            let mut f = File::create(&tmp)?;
            f.write_all(block)?;
            fs::rename(&tmp, &path)
        };
        write().map_err(|e| {
            let _ = fs::remove_file(&tmp);
            IpfsError::io(format!("writing block {cid} (is the disk full?)"))(e)
        })
    }

    /// Read a block and verify its hash.
    pub fn get_block(&self, cid: &Cid) -> Result<Vec<u8>, IpfsError> {
        let path = self.block_path(cid)?;
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(IpfsError::NotFound(cid.to_string())),
            Err(e) => return Err(IpfsError::io(format!("reading block {cid}"))(e)),
        };
        if sha256_multihash(&bytes) != *cid.hash() {
            return Err(IpfsError::CorruptBlock(cid.to_string()));
        }
        Ok(bytes)
    }

    /// The CIDs a block links to (DAG-PB links; raw blocks have none).
    pub fn links_of(cid: &Cid, block: &[u8]) -> Result<Vec<Cid>, IpfsError> {
        match cid.codec() {
            DAG_PB => Ok(PbNode::decode(block)?.links.into_iter().map(|l| l.cid).collect()),
            RAW => Ok(Vec::new()),
            c => Err(IpfsError::Unsupported(format!("{cid} has codec 0x{c:x}; only dag-pb and raw are supported"))),
        }
    }

    /// Every block of the DAG under `root`, depth-first pre-order, each once (verified).
    pub fn walk(
        &self,
        root: &Cid,
        mut visit: impl FnMut(&Cid, &[u8]) -> Result<(), IpfsError>,
    ) -> Result<(), IpfsError> {
        let mut seen = HashSet::new();
        let mut stack = vec![*root];
        while let Some(c) = stack.pop() {
            if !seen.insert(c.hash().to_bytes()) {
                continue;
            }
            let b = self.get_block(&c)?;
            visit(&c, &b)?;
            let links = Self::links_of(&c, &b)?;
            stack.extend(links.into_iter().rev());
        }
        Ok(())
    }

    // ---- pins ----

    fn pin_path(&self, cid: &Cid) -> PathBuf {
        self.root.join("pins").join(format!("{cid}.json"))
    }

    /// Pin `cid` (recursively). Every block must be present.
    pub fn pin(&self, cid: &Cid, name: Option<&str>) -> Result<Pin, IpfsError> {
        let _lock = self.lock_shared()?;
        self.walk(cid, |_, _| Ok(()))?;
        let created =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        let pin = Pin { cid: cid.to_string(), name: name.map(str::to_string), created };
        let tmp = self.temp_path("pin");
        let bytes = serde_json::to_vec(&pin).expect("pins serialise");
        let write = || -> std::io::Result<()> {
            let mut f = File::create(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
            fs::rename(&tmp, self.pin_path(cid))
        };
        write().map_err(|e| {
            let _ = fs::remove_file(&tmp);
            IpfsError::io(format!("writing the pin of {cid}"))(e)
        })?;
        Ok(pin)
    }

    /// Remove a pin; `false` if it was not pinned.
    pub fn unpin(&self, cid: &Cid) -> Result<bool, IpfsError> {
        match fs::remove_file(self.pin_path(cid)) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(IpfsError::io(format!("removing the pin of {cid}"))(e)),
        }
    }

    pub fn is_pinned(&self, cid: &Cid) -> bool {
        self.pin_path(cid).exists()
    }

    /// All pins, sorted by CID.
    pub fn pins(&self) -> Result<Vec<Pin>, IpfsError> {
        let mut out = Vec::new();
        for e in fs::read_dir(self.root.join("pins")).map_err(IpfsError::io("listing pins"))? {
            let e = e.map_err(IpfsError::io("listing pins"))?;
            if e.path().extension().is_some_and(|x| x == "json") {
                let b = fs::read(e.path()).map_err(IpfsError::io("reading a pin"))?;
                match serde_json::from_slice::<Pin>(&b) {
                    Ok(p) => out.push(p),
                    Err(err) => return Err(IpfsError::Corrupt(format!("pin file {}: {err}", e.path().display()))),
                }
            }
        }
        out.sort_by(|a, b| a.cid.cmp(&b.cid));
        Ok(out)
    }

    /// Delete every block not reachable from a pin, and stray temp files.
    pub fn gc(&self) -> Result<GcReport, IpfsError> {
        let _lock = self.lock_exclusive()?;
        let mut keep = HashSet::new();
        for p in self.pins()? {
            let cid = crate::parse_cid(&p.cid)?;
            // A pinned DAG with a missing or corrupt block keeps what is reachable.
            let mut stack = vec![cid];
            while let Some(c) = stack.pop() {
                let Ok(h) = Self::digest_hex(&c) else { continue };
                if !keep.insert(h) {
                    continue;
                }
                if c.codec() == DAG_PB
                    && let Ok(b) = self.get_block(&c)
                {
                    stack.extend(Self::links_of(&c, &b)?);
                }
            }
        }
        let mut report = GcReport::default();
        for shard in fs::read_dir(self.root.join("blocks")).map_err(IpfsError::io("listing blocks"))? {
            let shard = shard.map_err(IpfsError::io("listing blocks"))?;
            for e in fs::read_dir(shard.path()).map_err(IpfsError::io("listing blocks"))? {
                let e = e.map_err(IpfsError::io("listing blocks"))?;
                let name = e.file_name().to_string_lossy().into_owned();
                if keep.contains(&name) {
                    report.kept_blocks += 1;
                } else {
                    report.removed_bytes += e.metadata().map(|m| m.len()).unwrap_or(0);
                    fs::remove_file(e.path()).map_err(IpfsError::io("removing a block"))?;
                    report.removed_blocks += 1;
                }
            }
        }
        for e in fs::read_dir(self.root.join("tmp")).map_err(IpfsError::io("listing tmp"))?.flatten() {
            let _ = fs::remove_file(e.path()).or_else(|_| fs::remove_dir_all(e.path()));
        }
        Ok(report)
    }

    /// Number of blocks and bytes stored.
    pub fn stats(&self) -> Result<(u64, u64), IpfsError> {
        let (mut n, mut bytes) = (0, 0);
        for shard in fs::read_dir(self.root.join("blocks")).map_err(IpfsError::io("listing blocks"))?.flatten() {
            for e in fs::read_dir(shard.path()).map_err(IpfsError::io("listing blocks"))?.flatten() {
                n += 1;
                bytes += e.metadata().map(|m| m.len()).unwrap_or(0);
            }
        }
        Ok((n, bytes))
    }

    /// Path of a stored block's file (tests use it to simulate corruption).
    pub fn block_file(&self, cid: &Cid) -> Result<PathBuf, IpfsError> {
        self.block_path(cid)
    }
}

/// Sends blocks to a writer thread (see [`Store::with_writer`]).
struct ChannelSink {
    tx: std::sync::mpsc::SyncSender<(Cid, Vec<u8>)>,
    blocks: u64,
}

impl BlockSink for ChannelSink {
    fn put(&mut self, cid: &Cid, block: &[u8]) -> Result<(), IpfsError> {
        self.blocks += 1;
        self.tx.send((*cid, block.to_vec())).map_err(|_| IpfsError::Store {
            path: PathBuf::new(),
            source: std::io::Error::other("block writer stopped"),
        })
    }
}

impl Store {
    /// Run `f` with a sink whose blocks are written by a second thread, so hashing and disk
    /// writes overlap; at most 8 blocks wait in between (bounded memory). Returns once every
    /// block is on disk, with the number of blocks.
    pub fn with_writer<T>(
        &self,
        f: impl FnOnce(&mut dyn BlockSink) -> Result<T, IpfsError>,
    ) -> Result<(T, u64), IpfsError> {
        std::thread::scope(|scope| {
            let (tx, rx) = std::sync::mpsc::sync_channel::<(Cid, Vec<u8>)>(8);
            let writer = scope.spawn(move || -> Result<(), IpfsError> {
                for (cid, block) in rx {
                    self.put(&cid, &block)?;
                }
                Ok(())
            });
            let mut sink = ChannelSink { tx, blocks: 0 };
            let r = f(&mut sink);
            let blocks = sink.blocks;
            drop(sink);
            let w = writer.join().unwrap_or_else(|_| Err(IpfsError::Corrupt("block writer panicked".into())));
            // A writer error (disk full…) explains a send failure, so it wins.
            w?;
            r.map(|v| (v, blocks))
        })
    }
}

/// Writes blocks into a store (the importer's sink).
#[derive(Debug)]
pub struct StoreSink<'a> {
    pub store: &'a Store,
    pub blocks: u64,
}

impl BlockSink for StoreSink<'_> {
    fn put(&mut self, cid: &Cid, block: &[u8]) -> Result<(), IpfsError> {
        self.blocks += 1;
        self.store.put(cid, block)
    }
}
