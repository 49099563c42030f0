//! The standard library's sources as evcxr's rust-analyzer reads them (issue #17).
//!
//! evcxr runs rust-analyzer on every cell (its variables' types), and rust-analyzer's first
//! reading of std is most of a kernel's cold start. Given the toolchain's `library/` folder it
//! runs `cargo metadata` on that folder's Cargo workspace, which brings std's own dependencies
//! (libc, hashbrown, compiler_builtins, …: thousands of macro-made items) into the analysis;
//! given a folder without that workspace it reads core, alloc, std and their in-tree
//! companions alone ("stitched"), which is what it did before it had the workspace, and about
//! 0.6 s of CPU less at every start here. What std declares, and so every type a cell's
//! variable can have, is the same either way.
//!
//! So the kernel, before anything else, makes `$KELP_HOME/std-src/<key>/`: a link to each entry
//! of the toolchain's `library/` folder but its `Cargo.toml`/`Cargo.lock` (the key names the
//! folder and its entries; made under a temporary name and renamed into place, so kernels
//! starting together share one), and starts itself again with `RUST_SRC_PATH` set to it, the
//! variable rust-analyzer takes the library sources from. A `RUST_SRC_PATH` the user set is
//! kept, and `KELP_STD_WORKSPACE=1` keeps rust-analyzer's own choice.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The variable rust-analyzer reads the standard library's sources from.
pub const SRC_VAR: &str = "RUST_SRC_PATH";
/// `1`: leave rust-analyzer the toolchain's library workspace.
pub const KEEP_VAR: &str = "KELP_STD_WORKSPACE";
/// The entries of `library/` left out: the Cargo workspace.
const LEFT_OUT: [&str; 2] = ["Cargo.toml", "Cargo.lock"];

/// What to start again with, if anything: `RUST_SRC_PATH`'s new value. `None` when the user set
/// it or [`KEEP_VAR`], the toolchain has no library sources, or the folder cannot be made (one
/// line in the kernel's log: the kernel still works, rust-analyzer reads the workspace).
pub fn sources_for_restart(home: &Path) -> Option<PathBuf> {
    let set = |v: &str| std::env::var_os(v).is_some_and(|x| !x.is_empty());
    if set(SRC_VAR) || std::env::var(KEEP_VAR).is_ok_and(|v| v.trim() == "1") {
        return None;
    }
    let library = library_dir()?;
    match ensure(home, &library) {
        Ok(dir) => Some(dir),
        Err(e) => {
            eprintln!(
                "kelp: cannot make the std sources folder under {} ({e}); evcxr reads std slower",
                home.display()
            );
            None
        }
    }
}

/// Where rust-analyzer reads std from in this process: `kelp` (the folder made here), `user`
/// (a `RUST_SRC_PATH` of the user's) or `workspace` (the toolchain's library workspace).
pub fn which(home: &Path) -> &'static str {
    match std::env::var_os(SRC_VAR).filter(|v| !v.is_empty()) {
        Some(p) if Path::new(&p).starts_with(home.join("std-src")) => "kelp",
        Some(_) => "user",
        None => "workspace",
    }
}

/// Start this kernel again (same process, same arguments) with `RUST_SRC_PATH=dir`. Returns
/// only if that failed (one line in the log), and the kernel then goes on as it is.
pub fn restart_with(dir: &Path) {
    use std::os::unix::process::CommandExt;
    let Ok(exe) = std::env::current_exe() else { return };
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let err = std::process::Command::new(exe).args(args).env(SRC_VAR, dir).exec();
    eprintln!("kelp: could not start again with {SRC_VAR} ({err}); evcxr reads std slower");
}

/// The toolchain's `library/` folder, found as rust-analyzer finds it (`rustc --print sysroot`,
/// outside any project folder, so no `rust-toolchain` file of the notebook's applies).
fn library_dir() -> Option<PathBuf> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let out = std::process::Command::new(rustc)
        .args(["--print", "sysroot"])
        .current_dir(std::env::temp_dir())
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    let sysroot = PathBuf::from(String::from_utf8(out.stdout).ok()?.trim());
    let library = sysroot.join("lib/rustlib/src/rust/library");
    library.join("core").is_dir().then_some(library)
}

/// `$home/std-src/<key>` linking `library`'s entries (module docs), made if missing.
pub fn ensure(home: &Path, library: &Path) -> std::io::Result<PathBuf> {
    let mut names: Vec<OsString> = std::fs::read_dir(library)?
        .flatten()
        .map(|e| e.file_name())
        .filter(|n| !LEFT_OUT.iter().any(|l| n == l))
        .collect();
    names.sort();
    let mut h = 0xcbf2_9ce4_8422_2325_u64;
    crate::prelude::fnv(&mut h, library.as_os_str().as_encoded_bytes());
    for n in &names {
        crate::prelude::fnv(&mut h, &[0]);
        crate::prelude::fnv(&mut h, n.as_encoded_bytes());
    }
    let root = home.join("std-src");
    let dir = root.join(format!("{h:016x}"));
    if dir.join("core").exists() {
        return Ok(dir);
    }
    std::fs::create_dir_all(&root)?;
    crate::prelude::sweep(&root);
    static MADE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = MADE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = root.join(format!(".tmp-{}-{n}", std::process::id()));
    let made = (|| {
        std::fs::create_dir(&tmp)?;
        for n in &names {
            std::os::unix::fs::symlink(library.join(n), tmp.join(n))?;
        }
        std::fs::rename(&tmp, &dir)
    })();
    match made {
        Ok(()) => Ok(dir),
        // Another kernel renamed its folder first: the same links, so use that one.
        Err(_) if dir.join("core").exists() => {
            let _ = std::fs::remove_dir_all(&tmp);
            Ok(dir)
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&tmp);
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn library(at: &Path, extra: &[&str]) -> PathBuf {
        let lib = at.join("library");
        for d in ["core/src", "alloc/src", "std/src"].iter().chain(extra) {
            std::fs::create_dir_all(lib.join(d)).unwrap();
        }
        std::fs::write(lib.join("core/src/lib.rs"), "// core\n").unwrap();
        std::fs::write(lib.join("Cargo.toml"), "[workspace]\n").unwrap();
        std::fs::write(lib.join("Cargo.lock"), "").unwrap();
        lib
    }

    fn entries(dir: &Path) -> Vec<String> {
        let mut v: Vec<_> =
            std::fs::read_dir(dir).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
        v.sort();
        v
    }

    #[test]
    fn the_folder_links_every_crate_but_not_the_workspace_and_is_made_once() {
        let t = tempfile::tempdir().unwrap();
        let lib = library(t.path(), &[]);
        let home = t.path().join("home");
        let dir = ensure(&home, &lib).unwrap();
        assert_eq!(entries(&dir), ["alloc", "core", "std"]);
        assert_eq!(std::fs::read_to_string(dir.join("core/src/lib.rs")).unwrap(), "// core\n");
        assert_eq!(ensure(&home, &lib).unwrap(), dir);
        assert_eq!(entries(&home.join("std-src")).len(), 1, "one folder, no temporary");
        // A toolchain whose library has another crate gets a folder of its own.
        let other = library(&t.path().join("t2"), &["proc_macro/src"]);
        let dir2 = ensure(&home, &other).unwrap();
        assert_ne!(dir2, dir);
        assert_eq!(entries(&dir2), ["alloc", "core", "proc_macro", "std"]);
    }

    #[test]
    fn kernels_making_it_together_share_one_folder() {
        let t = tempfile::tempdir().unwrap();
        let lib = library(t.path(), &[]);
        let home = t.path().join("home");
        let dirs: Vec<PathBuf> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..8).map(|_| s.spawn(|| ensure(&home, &lib).unwrap())).collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(dirs.iter().all(|d| d == &dirs[0]), "{dirs:?}");
        assert_eq!(entries(&home.join("std-src")), [dirs[0].file_name().unwrap().to_string_lossy().into_owned()]);
        assert_eq!(entries(&dirs[0]), ["alloc", "core", "std"]);
    }
}
