//! The compile cache for `:dep` builds: evcxr's own cache (the rustc wrapper stores each
//! crate's compiled artifacts, keyed by its rustc command line, and copies them back for the
//! next session asking for the same crate), kept under `$KELP_HOME/cache/evcxr` with a size cap
//! (`KELP_DEP_CACHE_MB`, default 1024; 0 turns it off).
//!
//! evcxr finds its cache through `XDG_CACHE_HOME`; kelp sets that only for builds (`:build_env`),
//! never in the kernel's own environment, so evcxr's in-kernel bookkeeping (its size cap and its
//! `:cache`/`:clear_cache` commands) would look in the user's own evcxr cache instead. kelp
//! therefore answers `:cache`, `:cache N` and `:clear_cache` itself and enforces the cap here;
//! evcxr is given a cap it never reaches.
//!
//! evcxr's cache puts itself (the kernel binary) between cargo and every rustc it runs, and the
//! first build after that change makes cargo ask rustc about itself again through it (three
//! more processes before the cell's compile). A session that never uses `:dep` gains nothing
//! from it, so the cache is handed to evcxr only before the session's first `:dep`
//! ([`DepCache::setup_for`]): a first `1 + 1` does not wait for it and plain cells do not pay
//! the extra process.

use std::path::{Path, PathBuf};

/// The variable holding the cap in MiB.
pub const CAP_VAR: &str = "KELP_DEP_CACHE_MB";
const DEFAULT_CAP_MIB: u64 = 1024;
/// What evcxr is told (MiB): never reached, so evcxr deletes nothing anywhere.
const EVCXR_CAP_MIB: u64 = 1 << 40;
const MIB: u64 = 1024 * 1024;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum DepCacheError {
    #[error("{CAP_VAR} must be a whole number of MiB (0 turns the :dep cache off), not '{0}'")]
    BadCap(String),
    #[error(":cache takes a whole number of MiB (0 turns the cache off), not '{0}'")]
    BadCommand(String),
}

/// The cache's place and cap.
#[derive(Debug, Clone)]
pub struct DepCache {
    /// Given to builds as `XDG_CACHE_HOME`; evcxr's entries are in its `evcxr` folder.
    root: PathBuf,
    cap: u64,
    /// evcxr was given the cache's setting ([`DepCache::setup_for`]).
    handed: bool,
}

/// What `:cache` reports.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stats {
    pub entries: u64,
    pub bytes: u64,
    pub hits: u64,
}

/// Parse a cap in MiB.
fn parse_mib(s: &str) -> Option<u64> {
    s.trim().parse::<u64>().ok().filter(|m| *m < EVCXR_CAP_MIB)
}

impl DepCache {
    /// Under `home` (kelp's home), with the cap from `cap_mib` (the value of [`CAP_VAR`]).
    pub fn new(home: &Path, cap_mib: Option<&str>) -> Result<DepCache, DepCacheError> {
        let cap = match cap_mib.filter(|v| !v.trim().is_empty()) {
            None => DEFAULT_CAP_MIB,
            Some(v) => parse_mib(v).ok_or_else(|| DepCacheError::BadCap(v.to_string()))?,
        };
        Ok(DepCache { root: home.join("cache"), cap: cap * MIB, handed: false })
    }

    /// The folder holding the cache entries.
    pub fn dir(&self) -> PathBuf {
        self.root.join("evcxr")
    }

    pub fn enabled(&self) -> bool {
        self.cap > 0
    }

    /// The evcxr commands to run before `code` when it is the session's first to use `:dep`
    /// (module docs); afterwards a `:cache N` hands evcxr the new setting itself.
    pub fn setup_for(&mut self, code: &str) -> Option<String> {
        if self.handed || !self.enabled() || !uses_dep(code) {
            return None;
        }
        self.handed = true;
        Some(self.setup_commands())
    }

    /// evcxr commands that point builds at this cache and turn it on (or off).
    pub fn setup_commands(&self) -> String {
        if !self.enabled() {
            return ":cache 0".into();
        }
        format!(":build_env XDG_CACHE_HOME={}\n:cache {EVCXR_CAP_MIB}", self.root.display())
    }

    /// Entries: (folder, size, last use).
    fn entries(&self) -> Vec<(PathBuf, u64, std::time::SystemTime)> {
        let Ok(dir) = std::fs::read_dir(self.dir()) else { return vec![] };
        let mut out = vec![];
        for entry in dir.flatten() {
            let path = entry.path();
            // An entry is complete once its `hits` file is written; its mtime is the last use.
            let Ok(used) = std::fs::metadata(path.join("hits")).and_then(|m| m.modified()) else { continue };
            let size = std::fs::read_dir(&path)
                .into_iter()
                .flatten()
                .flatten()
                .filter_map(|f| f.metadata().ok())
                .map(|m| m.len())
                .sum();
            out.push((path, size, used));
        }
        out
    }

    pub fn stats(&self) -> Stats {
        let mut s = Stats::default();
        for (path, size, _) in self.entries() {
            s.entries += 1;
            s.bytes += size;
            let hits = std::fs::read_to_string(path.join("hits")).ok().and_then(|h| h.trim().parse::<u64>().ok());
            s.hits += hits.unwrap_or(0);
        }
        s
    }

    /// Delete the least recently used entries until at most `cap` bytes remain: (entries, bytes)
    /// deleted.
    pub fn trim_to(&self, cap: u64) -> std::io::Result<(u64, u64)> {
        let mut entries = self.entries();
        let mut total: u64 = entries.iter().map(|e| e.1).sum();
        entries.sort_by_key(|e| e.2);
        let (mut n, mut freed) = (0, 0);
        for (path, size, _) in entries {
            if total <= cap {
                break;
            }
            std::fs::remove_dir_all(&path)?;
            total -= size;
            freed += size;
            n += 1;
        }
        Ok((n, freed))
    }

    /// Keep the cache within its cap.
    pub fn trim(&self) -> std::io::Result<(u64, u64)> {
        if self.enabled() { self.trim_to(self.cap) } else { Ok((0, 0)) }
    }

    /// Answer `:cache`, `:cache N` or `:clear_cache` (`line` is the command line). `None` when
    /// `line` is another command. `Ok((text, evcxr command to run too))`.
    pub fn command(&mut self, line: &str) -> Option<Result<(String, Option<String>), DepCacheError>> {
        let line = line.trim();
        let (cmd, arg) = line.split_once(' ').map(|(c, a)| (c, a.trim())).unwrap_or((line, ""));
        match cmd {
            ":clear_cache" => Some(Ok(match self.trim_to(0) {
                Ok((n, freed)) => (format!("deleted {n} entries ({}) from {}", mib(freed), self.dir().display()), None),
                Err(e) => (format!("could not clear {}: {e}", self.dir().display()), None),
            })),
            ":cache" if arg.is_empty() => Some(Ok((self.describe(), None))),
            ":cache" => {
                let Some(m) = parse_mib(arg) else { return Some(Err(DepCacheError::BadCommand(arg.to_string()))) };
                self.cap = m * MIB;
                let _ = self.trim();
                Some(Ok((self.describe(), self.handed.then(|| self.setup_commands()))))
            }
            _ => None,
        }
    }

    /// `:cache`'s answer.
    pub fn describe(&self) -> String {
        if !self.enabled() {
            return format!("the :dep compile cache is off ({CAP_VAR}=0; `:cache 1024` turns it on)");
        }
        let s = self.stats();
        format!(
            ":dep compile cache: {}\nentries: {}, size: {} of {}, hits: {}\n(`:clear_cache` empties it; `:cache N` sets the cap in MiB, 0 = off)",
            self.dir().display(),
            s.entries,
            mib(s.bytes),
            mib(self.cap),
            s.hits
        )
    }
}

/// Whether a line of `code` is a `:dep` command (evcxr takes commands on any line).
fn uses_dep(code: &str) -> bool {
    code.lines().any(|l| {
        l.trim_start().strip_prefix(":dep").is_some_and(|r| r.is_empty() || r.starts_with(char::is_whitespace))
    })
}

/// A size as people read it: KiB under a MiB (a small crate's build is a few KiB), else MiB.
fn mib(bytes: u64) -> String {
    if bytes < MIB {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    } else {
        format!("{:.1} MiB", bytes as f64 / MIB as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(cache: &DepCache, name: &str, bytes: usize, hits: u32, used: u64) {
        let d = cache.dir().join(name);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("libx.rlib"), vec![0u8; bytes]).unwrap();
        std::fs::write(d.join("hits"), hits.to_string()).unwrap();
        // Entries are told apart by the mtime of `hits` (the last use).
        let f = std::fs::File::options().write(true).open(d.join("hits")).unwrap();
        f.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(used)).unwrap();
    }

    #[test]
    fn cap_from_the_variable() {
        let home = Path::new("/h");
        assert_eq!(DepCache::new(home, None).unwrap().cap, 1024 * MIB);
        assert!(!DepCache::new(home, Some("0")).unwrap().enabled());
        assert_eq!(DepCache::new(home, Some("12")).unwrap().dir(), Path::new("/h/cache/evcxr"));
        let e = DepCache::new(home, Some("1GB")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "KELP_DEP_CACHE_MB must be a whole number of MiB (0 turns the :dep cache off), not '1GB'"
        );
        assert!(DepCache::new(home, Some("-1")).is_err());
        assert_eq!((mib(0), mib(49_357), mib(3 * MIB / 2)), ("0.0 KiB".into(), "48.2 KiB".into(), "1.5 MiB".into()));
    }

    #[test]
    fn stats_trim_and_clear() {
        let tmp = tempfile::tempdir().unwrap();
        let mut c = DepCache::new(tmp.path(), Some("1")).unwrap();
        entry(&c, "old", 600_000, 2, 1_000);
        entry(&c, "new", 600_000, 1, 2_000);
        std::fs::create_dir_all(c.dir().join("half-written")).unwrap();
        let s = c.stats();
        assert_eq!((s.entries, s.hits), (2, 3));
        assert!(s.bytes >= 1_200_000);
        // Over the 1 MiB cap: the least recently used entry goes.
        assert_eq!(c.trim().unwrap().0, 1);
        assert!(!c.dir().join("old").exists() && c.dir().join("new").exists());
        let (text, _) = c.command(":clear_cache").unwrap().unwrap();
        assert!(text.starts_with("deleted 1 entries"), "{text}");
        assert_eq!(c.stats().entries, 0);
        assert!(c.command(":cache x").unwrap().is_err());
        // Before the session's first `:dep`, evcxr has no cache to turn off.
        let (text, then) = c.command(":cache 0").unwrap().unwrap();
        assert!(text.contains("off"), "{text}");
        assert_eq!(then, None);
        assert!(c.command(":dep x").is_none());
    }

    #[test]
    fn evcxr_gets_the_cache_before_the_first_dep_and_only_then() {
        let tmp = tempfile::tempdir().unwrap();
        let mut c = DepCache::new(tmp.path(), None).unwrap();
        for plain in ["1 + 1", "let dep = 1;\ndep", "// :dep x = \"1\"\n2", ":depx", ":cache"] {
            assert_eq!(c.setup_for(plain), None, "{plain}");
        }
        let first = c.setup_for("let a = 1;\n  :dep fnv = \"1\"\na").unwrap();
        assert_eq!(first, c.setup_commands());
        assert!(first.ends_with(":cache 1099511627776") && first.contains("XDG_CACHE_HOME="), "{first}");
        assert_eq!(c.setup_for(":dep serde = \"1\""), None);
        // Once evcxr has it, a new cap is handed over at once.
        let (_, then) = c.command(":cache 0").unwrap().unwrap();
        assert_eq!(then.as_deref(), Some(":cache 0"));
        // A cache turned off is never handed.
        let mut off = DepCache::new(tmp.path(), Some("0")).unwrap();
        assert_eq!(off.setup_for(":dep fnv = \"1\""), None);
    }
}
