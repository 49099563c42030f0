//! The standard library's sources as evcxr's rust-analyzer reads them (issue #17).
//!
//! evcxr runs rust-analyzer on every cell (its variables' types), and rust-analyzer's first
//! reading of std is most of a kernel's cold start. Given the toolchain's `library/` folder it
//! runs `cargo metadata` on that folder's Cargo workspace, which brings std's own dependencies
//! (libc, hashbrown, compiler_builtins, …: thousands of macro-made items) into the analysis;
//! given a folder without that workspace it reads core, alloc, std and their in-tree
//! companions alone ("stitched"), which is what it did before it had the workspace, and about
//! 0.6 s of CPU less at every start here. The folder also leaves out `stdarch`, the sources of
//! `core::arch` (the SIMD intrinsics: 16 MB, more than core, alloc and std together; another
//! ~0.5 s of CPU), unless `KELP_STD_ARCH=1`. Everything else std declares, and so the type of
//! every other variable, is the same; a variable whose type is an intrinsic's (`__m256`) needs
//! its type written, and the error then says so ([`arch_left_out`]).
//!
//! So the kernel, before anything else (while it has one thread), sets `RUST_SRC_PATH`, the
//! variable rust-analyzer takes the library sources from, to a link
//! `$KELP_HOME/std-src/kernel-<pid>` ([`link_for_this_kernel`]: naming it needs no process, so the
//! kernel answers as soon as before; no `exec`, whose extra start could make a client's first
//! connection miss and wait ZeroMQ's 100 ms reconnect). Its engine thread then, before evcxr
//! starts, makes `$KELP_HOME/std-src/<key>/` for the toolchain's library (a link to each entry
//! of `library/` but `Cargo.toml`/`Cargo.lock`; the key names the folder and its entries; made
//! under a temporary name and renamed into place, so kernels starting together share one) and
//! points the link at it ([`point`]). A `RUST_SRC_PATH` the user set is kept, and
//! `KELP_STD_WORKSPACE=1` keeps rust-analyzer's own choice; if anything fails the link is
//! removed and rust-analyzer, finding no `core` there, reads the toolchain's workspace.
//!
//! **Read when first needed.** Even so, rust-analyzer's first reading of std (its name
//! resolution: every item and macro of core, alloc and std) is a second of a cold start, and
//! a cell that binds no variable (`1 + 1`, `println!`, a `fn`) gets nothing from it: evcxr asks
//! rust-analyzer only for the types of the cell's top-level `let`s. So the link first points at
//! a stand-in ([`stand_in`]: core, alloc and std with empty roots), and [`Deferred::real`]
//! points it at the real folder when the session first needs std's types; rust-analyzer reads
//! it at its next workspace load, which a change to the session's Cargo.toml causes: the
//! prelude's attachment, or a `:dep` on an empty crate ([`Deferred::reload_command`]).
//! [`crate::prelude::Pending`] does both, when a cell binds a variable, asks for completions or
//! hovers, or the engine is idle. `KELP_STD_EAGER=1` reads it at start.

use crate::cache_dir::{FNV_START, fnv, gone, make_once};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The variable rust-analyzer reads the standard library's sources from.
pub const SRC_VAR: &str = "RUST_SRC_PATH";
/// `1`: leave rust-analyzer the toolchain's library workspace.
pub const KEEP_VAR: &str = "KELP_STD_WORKSPACE";
/// `1`: give rust-analyzer std's SIMD intrinsics (`core::arch`) too.
pub const ARCH_VAR: &str = "KELP_STD_ARCH";
/// `1`: rust-analyzer reads the real std from the start, not first the stand-in.
pub const EAGER_VAR: &str = "KELP_STD_EAGER";
/// The stand-in's folder under the std-src root (a new name if its content ever changes).
const STAND_IN: &str = "stand-in-1";
/// The entries of `library/` always left out: the Cargo workspace.
const LEFT_OUT: [&str; 2] = ["Cargo.toml", "Cargo.lock"];
/// The entry left out unless [`ARCH_VAR`]: `core::arch`'s sources (module docs).
const ARCH: &str = "stdarch";

fn on(var: &str) -> bool {
    std::env::var(var).is_ok_and(|v| v.trim() == "1")
}

/// Where the folders and links are: `$home/std-src`, absolute, as rust-analyzer wants paths.
fn root(home: &Path) -> Option<PathBuf> {
    Some(std::path::absolute(home).ok()?.join("std-src"))
}

/// Where rust-analyzer reads std from ([`point`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sources {
    /// kelp's folder; `arch`: with `core::arch` ([`ARCH_VAR`]).
    Kelp { arch: bool },
    /// A `RUST_SRC_PATH` the user set.
    User,
    /// The toolchain's library workspace (turned off, or kelp's folder could not be made).
    Workspace,
}

impl Sources {
    /// As the start-up log says it.
    pub fn name(self) -> &'static str {
        match self {
            Sources::Kelp { .. } => "kelp",
            Sources::User => "user",
            Sources::Workspace => "workspace",
        }
    }

    /// Whether rust-analyzer reads std without `core::arch`: a variable of an intrinsic's type
    /// then needs a written type.
    pub fn arch_left_out(self) -> bool {
        self == Sources::Kelp { arch: false }
    }
}

/// The prefix of a kernel's link (`kernel-<pid>`).
const LINK_PREFIX: &str = "kernel-";

/// This process's link's name.
fn own_link_name() -> String {
    format!("{LINK_PREFIX}{}", std::process::id())
}

/// Whether `value` (of `RUST_SRC_PATH`) is a kelp process's link under `home`: this one's, or
/// one inherited from the kernel that started this process (a spare engine).
pub fn is_kelp_link(home: &Path, value: &std::ffi::OsStr) -> bool {
    let v = Path::new(value);
    root(home).is_some_and(|r| v.parent() == Some(r.as_path()))
        && v.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(LINK_PREFIX))
}

/// The link `RUST_SRC_PATH` names: `$home/std-src/kernel-<pid>`, this process's own (each
/// engine points its link at the stand-in and later at std when it needs, [`point`], so
/// kernels never share one); absolute, as rust-analyzer wants it. Naming it needs no process;
/// the engine thread points it before rust-analyzer reads it. `None` when the user set
/// `RUST_SRC_PATH` or [`KEEP_VAR`].
pub fn link_for_this_kernel(home: &Path) -> Option<PathBuf> {
    let user = std::env::var_os(SRC_VAR).filter(|v| !v.is_empty() && !is_kelp_link(home, v));
    if user.is_some() || on(KEEP_VAR) {
        return None;
    }
    Some(root(home)?.join(own_link_name()))
}

/// Remove the links of processes that are gone (under `root`).
fn sweep_links(root: &Path) {
    for entry in std::fs::read_dir(root).into_iter().flatten().flatten() {
        let name = entry.file_name();
        let pid = name.to_str().and_then(|n| n.strip_prefix(LINK_PREFIX)).filter(|p| p.parse::<u32>().is_ok());
        if pid.is_some_and(gone) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Remove this process's link (a kernel shutting down).
pub fn remove_own_link(home: &Path) {
    if let Some(r) = root(home) {
        let _ = std::fs::remove_file(r.join(own_link_name()));
    }
}

/// Set `RUST_SRC_PATH=link` in this process's environment. Call it only while the process has
/// one thread: the start of `kelp kernel`, before the runtime, the engine or any other thread
/// exists (setting the environment races only with other threads reading it).
#[allow(unsafe_code)]
pub fn set_while_single_threaded(link: &Path) {
    // SAFETY: called first thing in `main_entry` for `kelp kernel` and `kelp engine-serve`:
    // evcxr's runtime hook and the child's output filter start no thread in the kernel process,
    // and nothing else has run, so no other thread can read the environment while it is written.
    unsafe { std::env::set_var(SRC_VAR, link) };
}

/// On the engine thread, before evcxr starts: when `RUST_SRC_PATH` is kelp's link, make the
/// folder for the toolchain's library (if missing) and point the link at it, or, unless
/// [`EAGER_VAR`], at the stand-in until [`Deferred::real`]; and say where rust-analyzer reads
/// std from. If a folder cannot be made: one log line, the link is removed, and
/// rust-analyzer (finding no `core` there) reads the toolchain's workspace.
pub fn point(home: &Path) -> (Sources, Option<Deferred>) {
    let Some(link) = std::env::var_os(SRC_VAR).filter(|v| !v.is_empty()).map(PathBuf::from) else {
        return (Sources::Workspace, None);
    };
    let Some(root) = root(home).filter(|r| link.parent() == Some(r.as_path())) else {
        return (Sources::User, None);
    };
    if link.file_name() != Some(std::ffi::OsStr::new(&own_link_name())) {
        // Another process's link (this process did not name its own): not ours to point.
        return (Sources::Workspace, None);
    }
    sweep_links(&root);
    let arch = on(ARCH_VAR);
    let pointed = library_dir().ok_or_else(|| "no library sources in the toolchain".to_string()).and_then(|lib| {
        let left_out: &[&str] = if arch { &[] } else { &[ARCH] };
        let real = ensure(&root, &lib, left_out).map_err(|e| e.to_string())?;
        let first = if on(EAGER_VAR) { None } else { stand_in(&root).ok() };
        relink(&link, first.as_deref().unwrap_or(&real)).map_err(|e| e.to_string())?;
        Ok(first.map(|stand_in| Deferred { link: link.clone(), real, stand_in }))
    });
    match pointed {
        Ok(deferred) => (Sources::Kelp { arch }, deferred),
        Err(e) => {
            eprintln!(
                "kelp: cannot make the std sources folder under {} ({e}); evcxr reads std slower",
                root.display()
            );
            let _ = std::fs::remove_file(&link);
            (Sources::Workspace, None)
        }
    }
}

/// The link while it points at the stand-in ([`point`]).
#[derive(Debug)]
pub struct Deferred {
    link: PathBuf,
    real: PathBuf,
    stand_in: PathBuf,
}

impl Deferred {
    /// Point the link at the real folder; rust-analyzer reads it at its next workspace load.
    /// If that fails, the link is removed, so rust-analyzer reads the toolchain's workspace.
    pub fn real(&self) {
        if let Err(e) = relink(&self.link, &self.real) {
            eprintln!("kelp: cannot point {} at std's sources ({e}); evcxr reads std slower", self.link.display());
            let _ = std::fs::remove_file(&self.link);
        }
    }

    /// An empty crate (beside the stand-in): a `:dep` on it makes rust-analyzer load the
    /// workspace again when nothing else changes the session's Cargo.toml.
    pub fn reload_crate(&self) -> PathBuf {
        self.stand_in.join("reload")
    }

    /// The evcxr command that depends on [`Deferred::reload_crate`].
    pub fn reload_command(&self) -> String {
        let dir = self.reload_crate().to_string_lossy().replace('\\', "\\\\").replace('"', "\\\"");
        format!(":dep kelp_std_reload = {{ path = \"{dir}\" }}")
    }
}

/// `root/stand-in-1`: core, alloc and std with empty roots, and the empty crate of
/// [`Deferred::reload_crate`]; made once ([`make_once`]).
pub fn stand_in(root: &Path) -> std::io::Result<PathBuf> {
    let dir = root.join(STAND_IN);
    let files = [
        ("core/src/lib.rs", "//! A stand-in: kelp points rust-analyzer at std's sources when a cell needs them.\n"),
        ("alloc/src/lib.rs", ""),
        ("std/src/lib.rs", ""),
        ("reload/Cargo.toml", "[package]\nname = \"kelp_std_reload\"\nversion = \"0.0.0\"\nedition = \"2021\"\n"),
        ("reload/src/lib.rs", ""),
    ];
    make_once(
        &dir,
        |tmp| {
            files.iter().try_for_each(|(p, c)| {
                let path = tmp.join(p);
                std::fs::create_dir_all(path.parent().unwrap_or(tmp))?;
                std::fs::write(path, c)
            })
        },
        |_, e| e,
    )?;
    Ok(dir)
}

/// Make `link` a symlink to `dir`'s name (a sibling), replacing an old one in one rename.
fn relink(link: &Path, dir: &Path) -> std::io::Result<()> {
    let target = dir.file_name().map(PathBuf::from).unwrap_or_else(|| dir.to_path_buf());
    if std::fs::read_link(link).is_ok_and(|t| t == target) {
        return Ok(());
    }
    let tmp = link.with_extension(format!("tmp-{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(&target, &tmp)?;
    std::fs::rename(&tmp, link).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
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

/// `root/<key>` linking `library`'s entries but the workspace and `left_out` (module docs),
/// made if missing ([`make_once`]).
pub fn ensure(root: &Path, library: &Path, left_out: &[&str]) -> std::io::Result<PathBuf> {
    let mut names: Vec<OsString> = std::fs::read_dir(library)?
        .flatten()
        .map(|e| e.file_name())
        .filter(|n| !LEFT_OUT.iter().chain(left_out).any(|l| n == l))
        .collect();
    names.sort();
    let mut h = FNV_START;
    fnv(&mut h, library.as_os_str().as_encoded_bytes());
    for n in &names {
        fnv(&mut h, &[0]);
        fnv(&mut h, n.as_encoded_bytes());
    }
    let dir = root.join(format!("{h:016x}"));
    make_once(
        &dir,
        |tmp| names.iter().try_for_each(|n| std::os::unix::fs::symlink(library.join(n), tmp.join(n))),
        |_, e| e,
    )?;
    Ok(dir)
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
        let dir = ensure(&home.join("std-src"), &lib, &[]).unwrap();
        assert_eq!(entries(&dir), ["alloc", "core", "std"]);
        assert_eq!(std::fs::read_to_string(dir.join("core/src/lib.rs")).unwrap(), "// core\n");
        assert_eq!(ensure(&home.join("std-src"), &lib, &[]).unwrap(), dir);
        assert_eq!(entries(&home.join("std-src")).len(), 1, "one folder, no temporary");
        // A toolchain whose library has another crate gets a folder of its own.
        let other = library(&t.path().join("t2"), &["proc_macro/src"]);
        let dir2 = ensure(&home.join("std-src"), &other, &[]).unwrap();
        assert_ne!(dir2, dir);
        assert_eq!(entries(&dir2), ["alloc", "core", "proc_macro", "std"]);
        // Without core::arch's sources: another folder.
        let arch = library(&t.path().join("t3"), &["stdarch/crates/core_arch"]);
        let without = ensure(&home.join("std-src"), &arch, &[ARCH]).unwrap();
        assert_eq!(entries(&without), ["alloc", "core", "std"]);
        assert_eq!(entries(&ensure(&home.join("std-src"), &arch, &[]).unwrap()), ["alloc", "core", "std", "stdarch"]);
    }

    #[test]
    fn the_link_is_pointed_at_the_folder_and_repointed_in_one_step() {
        let t = tempfile::tempdir().unwrap();
        let home = t.path().join("home");
        let one = ensure(&home.join("std-src"), &library(t.path(), &[]), &[]).unwrap();
        let two = ensure(&home.join("std-src"), &library(&t.path().join("t2"), &["test/src"]), &[]).unwrap();
        let link = home.join("std-src/kernel-0123");
        relink(&link, &one).unwrap();
        assert_eq!(std::fs::read_link(&link).unwrap(), PathBuf::from(one.file_name().unwrap()));
        assert!(link.join("core/src/lib.rs").is_file());
        relink(&link, &two).unwrap();
        assert!(link.join("test").is_dir());
        relink(&link, &two).unwrap();
        let names = entries(&home.join("std-src"));
        assert_eq!(names.len(), 3, "two folders and the link, no temporary: {names:?}");
    }

    #[test]
    fn the_stand_in_has_empty_std_crates_and_the_link_moves_to_the_real_folder() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("home/std-src");
        let real = ensure(&root, &library(t.path(), &[]), &[]).unwrap();
        let made = stand_in(&root).unwrap();
        assert_eq!(stand_in(&root).unwrap(), made);
        assert_eq!(entries(&made), ["alloc", "core", "reload", "std"]);
        for c in ["alloc", "std"] {
            assert_eq!(std::fs::read_to_string(made.join(c).join("src/lib.rs")).unwrap(), "");
        }
        let link = root.join("kernel-0123");
        relink(&link, &made).unwrap();
        let d = Deferred { link: link.clone(), real: real.clone(), stand_in: made.clone() };
        assert!(d.reload_crate().join("Cargo.toml").is_file());
        assert_eq!(
            d.reload_command(),
            format!(":dep kelp_std_reload = {{ path = \"{}\" }}", made.join("reload").display())
        );
        d.real();
        assert_eq!(std::fs::read_link(&link).unwrap(), PathBuf::from(real.file_name().unwrap()));
        assert_eq!(std::fs::read_to_string(link.join("core/src/lib.rs")).unwrap(), "// core\n");
        // A link that cannot be pointed is removed: rust-analyzer then reads the toolchain's.
        let gone = Deferred { link: t.path().join("no/such/dir/kernel-1"), real, stand_in: made };
        gone.real();
        assert!(!t.path().join("no").exists());
    }

    #[test]
    fn each_process_has_its_own_link_and_the_links_of_gone_processes_are_swept() {
        let t = tempfile::tempdir().unwrap();
        let home = t.path();
        let root = home.join("std-src");
        std::fs::create_dir_all(&root).unwrap();
        let me = root.join(format!("kernel-{}", std::process::id()));
        assert!(is_kelp_link(home, me.as_os_str()));
        assert!(is_kelp_link(home, root.join("kernel-1").as_os_str()), "another kernel's, inherited");
        for other in [home.join("kernel-1"), root.join("stand-in-1"), PathBuf::from("/usr/lib/rustlib/src")] {
            assert!(!is_kelp_link(home, other.as_os_str()), "{other:?}");
        }
        // A pid no process has (above the kernel's pid_max), a live one (this), and a folder.
        let dead = root.join("kernel-4294967");
        for l in [&dead, &me] {
            std::os::unix::fs::symlink("stand-in-1", l).unwrap();
        }
        std::fs::create_dir(root.join("stand-in-1")).unwrap();
        sweep_links(&root);
        assert_eq!(entries(&root), [me.file_name().unwrap().to_string_lossy().into_owned(), "stand-in-1".into()]);
        remove_own_link(home);
        assert_eq!(entries(&root), ["stand-in-1"]);
    }

    #[test]
    fn kernels_making_it_together_share_one_folder() {
        let t = tempfile::tempdir().unwrap();
        let lib = library(t.path(), &[]);
        let home = t.path().join("home");
        let dirs: Vec<PathBuf> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..8).map(|_| s.spawn(|| ensure(&home.join("std-src"), &lib, &[]).unwrap())).collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(dirs.iter().all(|d| d == &dirs[0]), "{dirs:?}");
        assert_eq!(entries(&home.join("std-src")), [dirs[0].file_name().unwrap().to_string_lossy().into_owned()]);
        assert_eq!(entries(&dirs[0]), ["alloc", "core", "std"]);
    }
}
