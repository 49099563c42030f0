//! Folders kelp makes once under `KELP_HOME` and every kernel then shares (the prelude, std's
//! sources): named by a hash of what they hold ([`fnv`]), filled under a temporary name
//! `.tmp-<pid>-<n>` beside them and renamed into place ([`make_once`]), so kernels starting
//! together never see a half-made folder: the first rename wins and the others use its folder.
//! Temporaries of kernels that died while making one are swept.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// The FNV-1a start value for [`fnv`].
pub const FNV_START: u64 = 0xcbf2_9ce4_8422_2325;

/// 64-bit FNV-1a, enough to tell contents apart (nobody chooses them adversarially: they are
/// kelp's own sources, the toolchain's and the user's own settings).
pub fn fnv(h: &mut u64, bytes: &[u8]) {
    for b in bytes {
        *h ^= u64::from(*b);
        *h = h.wrapping_mul(0x100_0000_01b3);
    }
}

/// Make the folder `dir` with `fill` unless it is there. `Ok(true)`: this call made it;
/// `Ok(false)`: it was there, or another kernel renamed its own into place first (the same
/// content). `io` turns an I/O error at a path into `E`; on any error the temporary is removed.
pub fn make_once<E>(
    dir: &Path,
    fill: impl FnOnce(&Path) -> Result<(), E>,
    io: impl Fn(&Path, std::io::Error) -> E,
) -> Result<bool, E> {
    if dir.is_dir() {
        return Ok(false);
    }
    let root = dir.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(root).map_err(|e| io(root, e))?;
    sweep(root);
    static MADE: AtomicU64 = AtomicU64::new(0);
    let tmp = root.join(format!(".tmp-{}-{}", std::process::id(), MADE.fetch_add(1, Ordering::Relaxed)));
    let made =
        std::fs::create_dir(&tmp).map_err(|e| io(&tmp, e)).and_then(|()| fill(&tmp)).and_then(
            |()| match std::fs::rename(&tmp, dir) {
                Ok(()) => Ok(true),
                Err(_) if dir.is_dir() => Ok(false),
                Err(e) => Err(io(dir, e)),
            },
        );
    if !matches!(made, Ok(true)) {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    made
}

/// Remove temporary folders under `root` of kernels that died while making one.
fn sweep(root: &Path) {
    remove_temporaries(root, gone);
}

/// Whether no process has the id `pid` (a decimal string) any more.
pub fn gone(pid: &str) -> bool {
    !Path::new("/proc").join(pid).exists()
}

/// Remove this process's temporary folders under `root` (a kernel shutting down while it makes
/// one: a process still writing there then fails, it does not make the folder).
pub fn remove_own_temporaries(root: &Path) {
    let me = std::process::id().to_string();
    remove_temporaries(root, |pid| pid == me);
}

fn remove_temporaries(root: &Path, whose: impl Fn(&str) -> bool) {
    for entry in std::fs::read_dir(root).into_iter().flatten().flatten() {
        let name = entry.file_name();
        let pid = name.to_str().and_then(|n| n.strip_prefix(".tmp-")).and_then(|n| n.split('-').next());
        if pid.is_some_and(&whose) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}
