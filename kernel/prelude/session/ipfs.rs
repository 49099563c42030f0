//! `kelp::ipfs`: a CID's content from Rust code, as a path, bytes or a reader.
//!
//! The content is exported once (by `kelp ipfs get`, a child process of the kelp binary that runs
//! this session, with the session's `KELP_HOME`) into `$KELP_HOME/cache/cids/CID`; blocks missing
//! from the local store are fetched and verified as `%ipfs get` does. Later calls read that file.
//!
//! ```ignore
//! let path = kelp::ipfs::path("bafkrei…")?;            // a file (or folder) on disk
//! let text = String::from_utf8(kelp::ipfs::bytes("bafkrei…")?)?;
//! let mut r = kelp::ipfs::open("bafkrei…")?;            // impl std::io::Read
//! ```

use super::data::{err, Error};
use std::path::PathBuf;

/// The CID in `source` (`CID`, `/ipfs/CID`, `ipfs://CID`) if it looks like one: `Qm…` (base58)
/// or a multibase `b…` (base32) CIDv1; kelp checks it fully.
pub fn cid_of(source: &str) -> Option<&str> {
    let s = source.trim();
    let s = s.strip_prefix("/ipfs/").or_else(|| s.strip_prefix("ipfs://")).unwrap_or(s);
    let s = s.trim_end_matches('/');
    let v0 = s.len() == 46 && s.starts_with("Qm") && s.chars().all(|c| c.is_ascii_alphanumeric());
    let v1 = s.len() > 8 && s.starts_with('b') && s.chars().all(|c| c.is_ascii_lowercase() || ('2'..='7').contains(&c));
    (v0 || v1).then_some(s)
}

/// kelp's home as the kelp binary finds it: `KELP_HOME`, else the user's data dir.
fn home() -> PathBuf {
    let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    var("KELP_HOME")
        .or_else(|| var("XDG_DATA_HOME").map(|d| d.join("kelp")))
        .or_else(|| var("HOME").map(|h| h.join(".local/share/kelp")))
        .unwrap_or_else(|| PathBuf::from(".kelp"))
}

/// The kelp binary: `KELP_BIN`, else the program running this session (evcxr runs user code in
/// a child of the kelp binary).
fn kelp_bin() -> PathBuf {
    std::env::var_os("KELP_BIN")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::current_exe().ok())
        .unwrap_or_else(|| PathBuf::from("kelp"))
}

/// The CID's content on disk (a file, or a folder for a directory CID), exported on first use.
pub fn path(cid: &str) -> Result<PathBuf, Error> {
    let Some(cid) = cid_of(cid) else {
        return err(format!("{cid:?} is not an IPFS CID: give a Qm… or bafy… CID"));
    };
    let dir = home().join("cache").join("cids");
    let out = dir.join(cid);
    if out.exists() {
        return Ok(out);
    }
    std::fs::create_dir_all(&dir).map_err(|e| Error(format!("cannot create {}: {e}", dir.display())))?;
    // Exported beside its final name, then renamed: a reader never sees half a file.
    let part = dir.join(format!(".{cid}.{}.part", std::process::id()));
    let _ = std::fs::remove_dir_all(&part);
    let _ = std::fs::remove_file(&part);
    let bin = kelp_bin();
    let run = std::process::Command::new(&bin)
        .args(["ipfs", "get", cid, "-o"])
        .arg(&part)
        .env("KELP_HOME", home())
        // This process is evcxr's runtime (the kelp binary with this variable set): without
        // removing it, the child would start as another runtime instead of running the command.
        .env_remove("EVCXR_IS_RUNTIME")
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| {
            Error(format!("cannot run {} to fetch {cid}: {e}; set KELP_BIN to the kelp binary", bin.display()))
        })?;
    if !run.status.success() {
        let _ = std::fs::remove_dir_all(&part);
        let _ = std::fs::remove_file(&part);
        let stderr = String::from_utf8_lossy(&run.stderr);
        let why = stderr.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("no reason given");
        let why = why.strip_prefix("kelp: error: ").unwrap_or(why);
        return err(format!("kelp ipfs get {cid} failed: {why}"));
    }
    match std::fs::rename(&part, &out) {
        Ok(()) => Ok(out),
        // Another session exported it first: same content.
        Err(_) if out.exists() => {
            let _ = std::fs::remove_dir_all(&part);
            let _ = std::fs::remove_file(&part);
            Ok(out)
        }
        Err(e) => err(format!("cannot move the export of {cid} into {}: {e}", out.display())),
    }
}

/// The bytes of a file CID.
pub fn bytes(cid: &str) -> Result<Vec<u8>, Error> {
    let p = path(cid)?;
    if p.is_dir() {
        return err(format!("{cid} is a directory: use kelp::ipfs::path to list it"));
    }
    std::fs::read(&p).map_err(|e| Error(format!("cannot read {}: {e}", p.display())))
}

/// A file CID as a reader (`std::io::Read`), from its exported file.
pub fn open(cid: &str) -> Result<std::fs::File, Error> {
    let p = path(cid)?;
    if p.is_dir() {
        return err(format!("{cid} is a directory: use kelp::ipfs::path to list it"));
    }
    std::fs::File::open(&p).map_err(|e| Error(format!("cannot open {}: {e}", p.display())))
}
