//! Provenance records (issue #14): what one piece of a cell read and wrote.
//!
//! A [`Record`] rides on an [`crate::Output`]; the kernel saves it in the output's
//! `metadata.kelp`, so every Jupyter frontend keeps it in the `.ipynb`. Magic families fill
//! `reads` and `writes` (content by CID, Ocean assets by DID, files by path + sha256, URLs +
//! sha256, transactions with their chain id, compute jobs with their result CIDs); the
//! registry adds the magic line and kelp's version. The JSON shape is the schema committed at
//! `docs/schema/kelp-record.schema.json` (a unit test keeps the two equal).
//!
//! Nothing secret is ever recorded: URLs lose their user:password part and secret-looking
//! query values ([`redact`]), and the magic line goes through the same filter.

use crate::{Magic, MagicCall, MagicContext, MagicKind, Output};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

/// Version of this record format (bumped when a field changes meaning).
pub const RECORD_FORMAT: u32 = 1;

/// kelp's version, written into every record.
pub const KELP_VERSION: &str = env!("CARGO_PKG_VERSION");

/// What one magic call or Rust piece read and wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Record {
    /// Record format version ([`RECORD_FORMAT`]).
    pub format: u32,
    /// Version of kelp that made the record.
    pub kelp: String,
    /// `magic` (a `%name` or `%%name` call) or `rust` (a piece of Rust code).
    pub kind: RecordKind,
    /// The magic line as run, `{var}` already filled in, e.g. `%ipfs add data.csv`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub magic: Option<String>,
    /// sha256 (hex) of the Rust source or of a cell magic's body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_sha256: Option<String>,
    /// Inputs: content, assets, files and URLs this piece read.
    #[serde(default)]
    pub reads: Vec<Item>,
    /// Results: content, files, assets, transactions and jobs this piece made.
    #[serde(default)]
    pub writes: Vec<Item>,
    /// Rust variables of the session this piece used (`{var}` in a magic line, names in Rust).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub uses: Vec<String>,
    /// The Rust variable this piece's result was bound to (`let cid = %ipfs add …`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binds: Option<String>,
    /// Rust variables this piece defined (`let NAME` in Rust code), so later pieces using them
    /// depend on it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub defines: Vec<String>,
    /// Why re-running this piece offline cannot reproduce it (a wallet prompt, a chain, a
    /// remote job), if so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uncheckable: Option<String>,
}

/// Whether a record describes a magic call or Rust code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    Magic,
    Rust,
}

/// One thing read or written.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Item {
    /// IPFS content by CID.
    Cid { cid: String },
    /// An Ocean asset by DID.
    Did { did: String },
    /// A file (or directory: no sha256) by path, relative to the notebook's directory when it is
    /// inside it.
    Path {
        path: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sha256: Option<String>,
    },
    /// A URL (secrets removed) and the sha256 of what it served, when known.
    Url {
        url: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sha256: Option<String>,
    },
    /// A transaction by hash, on the chain with this id.
    Tx { hash: String, chain_id: u64 },
    /// A compute-to-data job and the CIDs of its results.
    C2dJob {
        job_id: String,
        #[serde(default)]
        result_cids: Vec<String>,
    },
}

impl Item {
    pub fn cid(cid: impl Into<String>) -> Self {
        Item::Cid { cid: cid.into() }
    }
    pub fn did(did: impl Into<String>) -> Self {
        Item::Did { did: did.into() }
    }
    /// A URL with its secrets removed.
    pub fn url(url: &str, sha256: Option<String>) -> Self {
        Item::Url { url: redact(url), sha256 }
    }
    /// A file or directory at `path` (as `cwd` resolves it): its sha256 if it is a regular
    /// file, the path relative to `cwd` when it lies below it.
    pub fn file(cwd: &Path, path: &Path) -> Self {
        let full = if path.is_absolute() { path.to_path_buf() } else { cwd.join(path) };
        let sha256 = if full.is_file() { sha256_file(&full).ok() } else { None };
        let shown = full.strip_prefix(cwd).map(Path::to_path_buf).unwrap_or_else(|_| full.clone());
        Item::Path { path: shown.to_string_lossy().into_owned(), sha256 }
    }
    /// One short line: `cid bafy…`, `path data.csv (sha256 ab12…)`.
    pub fn label(&self) -> String {
        match self {
            Item::Cid { cid } => format!("cid {cid}"),
            Item::Did { did } => format!("did {did}"),
            Item::Path { path, sha256: Some(h) } => format!("path {path} (sha256 {})", &h[..h.len().min(12)]),
            Item::Path { path, sha256: None } => format!("path {path}"),
            Item::Url { url, .. } => format!("url {url}"),
            Item::Tx { hash, chain_id } => format!("tx {hash} on chain {chain_id}"),
            Item::C2dJob { job_id, .. } => format!("c2d job {job_id}"),
        }
    }
}

impl Record {
    /// An empty record of a magic call.
    pub fn magic() -> Self {
        Record::new(RecordKind::Magic)
    }
    /// An empty record of a Rust piece whose source is `source`.
    pub fn rust(source: &str) -> Self {
        Record { source_sha256: Some(sha256_hex(source.as_bytes())), ..Record::new(RecordKind::Rust) }
    }
    fn new(kind: RecordKind) -> Self {
        Record {
            format: RECORD_FORMAT,
            kelp: KELP_VERSION.to_string(),
            kind,
            magic: None,
            source_sha256: None,
            reads: vec![],
            writes: vec![],
            uses: vec![],
            binds: None,
            defines: vec![],
            uncheckable: None,
        }
    }
    pub fn read(mut self, item: Item) -> Self {
        if !self.reads.contains(&item) {
            self.reads.push(item);
        }
        self
    }
    pub fn wrote(mut self, item: Item) -> Self {
        if !self.writes.contains(&item) {
            self.writes.push(item);
        }
        self
    }
    pub fn uncheckable(mut self, why: impl Into<String>) -> Self {
        self.uncheckable = Some(why.into());
        self
    }
    /// Set the magic line (secrets removed) and the body's hash of a `%%` call.
    pub fn with_call(mut self, prefix: &str, name: &str, line: &str, body: Option<&str>) -> Self {
        let line = line.split(' ').map(redact).collect::<Vec<_>>().join(" ");
        let text = if line.is_empty() { format!("{prefix}{name}") } else { format!("{prefix}{name} {line}") };
        self.magic = Some(text);
        if let Some(b) = body {
            self.source_sha256 = Some(sha256_hex(b.as_bytes()));
        }
        self
    }
    /// The record as JSON (what goes into `metadata.kelp`).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

/// How a family derives a call's record from the call and its result (`None`: nothing to record).
pub type RecordFn = fn(&MagicCall, &MagicContext, &Output) -> Option<Record>;

/// A magic whose results get a record from a [`RecordFn`]: families fill records this way
/// without touching each subcommand (the function reads the arguments and the JSON result).
pub struct Recorded {
    inner: Arc<dyn Magic>,
    make: RecordFn,
}

impl Recorded {
    pub fn new(inner: Arc<dyn Magic>, make: RecordFn) -> Self {
        Recorded { inner, make }
    }
}

#[async_trait::async_trait]
impl Magic for Recorded {
    fn name(&self) -> &'static str {
        self.inner.name()
    }
    fn summary(&self) -> &'static str {
        self.inner.summary()
    }
    fn kind(&self) -> MagicKind {
        self.inner.kind()
    }
    fn command(&self) -> clap::Command {
        self.inner.command()
    }
    async fn run(&self, call: MagicCall, ctx: &MagicContext) -> crate::Result<Output> {
        let out = self.inner.run(call.clone(), ctx).await?;
        Ok(attach_record(self.make, &call, ctx, out))
    }
}

/// `out` with the record `make` finds for it, unless it has one already or `make` finds none
/// (what [`Recorded`] does; families that dispatch themselves call it at the end of `run`).
pub fn attach_record(make: RecordFn, call: &MagicCall, ctx: &MagicContext, out: Output) -> Output {
    match make(call, ctx, &out) {
        Some(r) if out.record.is_none() => out.with_record(r),
        _ => out,
    }
}

/// A source word as an item: `did:op:…` a DID, a CID a CID, a URL a URL, else a file under `cwd`.
pub fn source_item(cwd: &Path, word: &str) -> Item {
    if word.starts_with("did:op:") {
        Item::did(word)
    } else if word.starts_with("http://") || word.starts_with("https://") {
        Item::url(word, None)
    } else if looks_like_cid(word) && !cwd.join(word).exists() {
        Item::cid(word.trim_start_matches("/ipfs/"))
    } else {
        Item::file(cwd, Path::new(word))
    }
}

/// Whether `s` has the shape of a CID (`Qm…` base58 v0, or base32 `b…` v1); no decoding.
pub fn looks_like_cid(s: &str) -> bool {
    let s = s.trim_start_matches("/ipfs/");
    let v0 = s.len() == 46 && s.starts_with("Qm") && s.chars().all(|c| c.is_ascii_alphanumeric());
    let v1 =
        s.len() >= 50 && s.starts_with('b') && s.chars().all(|c| c.is_ascii_lowercase() || ('2'..='7').contains(&c));
    v0 || v1
}

/// sha256 of bytes as lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// sha256 of a file's bytes as lowercase hex, read in 1 MiB pieces.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex(&h.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Query parameter names whose values are never recorded.
const SECRET_WORDS: [&str; 9] =
    ["key", "token", "secret", "password", "passphrase", "auth", "sig", "signature", "credential"];

/// A URL (or any word) without secrets: `user:password@` is dropped, the values of
/// secret-looking query parameters become `REDACTED`, and so does an API key carried in the path
/// (the segment after `v1`/`v2`/`v3`, as RPC providers put it, or any 32-hex-digit segment). Words that are not URLs come back as is.
pub fn redact(word: &str) -> String {
    let Some(scheme_end) = word.find("://") else { return word.to_string() };
    let (scheme, rest) = word.split_at(scheme_end + 3);
    let auth_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(auth_end);
    let host = authority.rsplit_once('@').map(|(_, h)| h).unwrap_or(authority);
    let (path, query) = match tail.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (tail, None),
    };
    let mut out = format!("{scheme}{host}{}", redact_path(path));
    if let Some(q) = query {
        let (q, frag) = match q.split_once('#') {
            Some((q, f)) => (q, Some(f)),
            None => (q, None),
        };
        let parts: Vec<String> = q
            .split('&')
            .map(|kv| match kv.split_once('=') {
                Some((k, _)) if SECRET_WORDS.iter().any(|w| k.to_ascii_lowercase().contains(w)) => {
                    format!("{k}=REDACTED")
                }
                _ => kv.to_string(),
            })
            .collect();
        out.push('?');
        out.push_str(&parts.join("&"));
        if let Some(f) = frag {
            out.push('#');
            out.push_str(f);
        }
    }
    out
}

/// `path` with its key-like segments replaced by `REDACTED` (see [`redact`]).
fn redact_path(path: &str) -> String {
    let segments: Vec<&str> = path.split('/').collect();
    let keyish = |s: &str| s.len() >= 16 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    segments
        .iter()
        .enumerate()
        .map(|(i, seg)| {
            let after_version = i > 0 && matches!(segments[i - 1].to_ascii_lowercase().as_str(), "v1" | "v2" | "v3");
            let hex32 = seg.len() == 32 && seg.bytes().all(|b| b.is_ascii_hexdigit());
            if (after_version && keyish(seg)) || hex32 { "REDACTED" } else { seg }
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests;
