//! The `kelp` prelude crate: the helpers every Rust session has (`kelp::display`,
//! `kelp::input`, `kelp::table`, `kelp::ipfs`, …), how it is cached, and how a session gets it.
//!
//! Its source is `kernel/prelude/` (std only). The helpers are a crate the session depends on
//! (`:dep`), not code in the session: evcxr compiles a dependency once, while items defined in
//! cells are compiled again with every later cell.
//!
//! **Cached once per content.** The crate is written to `$KELP_HOME/prelude/<hash>`, the hash
//! taking the sources, `rustc -vV` and [`EXTRA_VAR`]; every kernel of that kelp and toolchain
//! shares it. Beside the sources the folder holds the helpers compiled once by `rustc` as an
//! rlib (`kelp_prebuilt`). A folder is built under a temporary name and renamed into place, so
//! kernels starting together never see a half-written one: the first rename wins, the others
//! drop theirs.
//!
//! **Attached without compiling the helpers again.** The session's `kelp` crate is a wrapper:
//! built with `--cfg kelp_prebuilt --extern kelp_prebuilt=…` (the session's `RUSTFLAGS`, set
//! with `:build_env`) it only re-exports the rlib; rust-analyzer, which does not see those
//! flags, reads the full sources, so completions and evcxr's variable types work as before.
//! Without the rlib (rustc failed there, or the user replaced `RUSTFLAGS`) the wrapper compiles
//! the sources itself.
//!
//! The folder is prepared on a thread of its own while evcxr starts ([`Preparing`]).

use crate::cache_dir::{FNV_START, fnv, make_once};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Rust source appended to the prelude (a hook for tests, standing in for a kelp upgrade: other
/// prelude content, so another cache folder).
pub const EXTRA_VAR: &str = "KELP_PRELUDE_EXTRA";

/// The wrapper crate's manifest.
const MANIFEST: &str =
    "[package]\nname = \"kelp\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n[lib]\npath = \"src/lib.rs\"\n";

/// The wrapper: the rlib's items when built with kelp's flags, the sources otherwise.
const WRAPPER: &str = "//! kelp's session helpers (see src/session.rs).\n#![allow(unexpected_cfgs)]\n\
#[cfg(kelp_prebuilt)]\npub use kelp_prebuilt::*;\n\
#[cfg(not(kelp_prebuilt))]\nmod session;\n#[cfg(not(kelp_prebuilt))]\npub use session::*;\n";

/// The rlib's crate root.
const PREBUILT_ROOT: &str = "mod session;\npub use session::*;\n";

/// Files of the crate: (path in the crate folder, contents); `src/session.rs` gets [`EXTRA_VAR`].
const SOURCES: &[(&str, &str)] = &[
    ("Cargo.toml", MANIFEST),
    ("src/lib.rs", WRAPPER),
    ("src/prebuilt.rs", PREBUILT_ROOT),
    ("src/session.rs", include_str!("../prelude/session.rs")),
    ("src/session/data.rs", include_str!("../prelude/session/data.rs")),
    ("src/session/json.rs", include_str!("../prelude/session/json.rs")),
    ("src/session/ipfs.rs", include_str!("../prelude/session/ipfs.rs")),
];

/// The compiled helpers inside a prelude folder.
const RLIB: &str = "prebuilt/libkelp_prebuilt.rlib";

/// Why the prelude folder could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PreludeError {
    #[error("could not write the kelp prelude under {path}: {source}; check that KELP_HOME is writable")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("could not run rustc ({0}): install Rust (rustup) so that rustc is on PATH")]
    Rustc(String),
}

/// A prelude folder, ready for a session.
#[derive(Debug, Clone)]
pub struct Prelude {
    pub dir: PathBuf,
    /// Whether the rlib is there (else the wrapper compiles the sources).
    pub prebuilt: bool,
    /// Whether this kernel found the folder made (by an earlier kernel).
    pub cached: bool,
}

/// How long the steps of making a session's prelude took (for the start-up breakdown).
#[derive(Debug, Clone, Default)]
pub struct PrepareTimes {
    pub prepare: Duration,
    pub rlib_build: Option<Duration>,
}

/// The prelude folder being made on its own thread.
pub struct Preparing(std::thread::JoinHandle<(Result<Prelude, PreludeError>, PrepareTimes)>);

impl Preparing {
    /// Start making the folder under `home` (see the module docs).
    pub fn start(home: PathBuf) -> Preparing {
        Preparing(std::thread::spawn(move || {
            let t0 = Instant::now();
            let mut times = PrepareTimes::default();
            let r = ensure(&home, std::env::var(EXTRA_VAR).ok().as_deref(), &mut times);
            times.prepare = t0.elapsed();
            (r, times)
        }))
    }

    pub fn wait(self) -> (Result<Prelude, PreludeError>, PrepareTimes) {
        self.0.join().unwrap_or_else(|_| {
            (Err(PreludeError::Rustc("the prelude thread stopped".into())), PrepareTimes::default())
        })
    }
}

/// `rustc -vV`: the compiler the rlib is built for is part of the cache key.
fn rustc_version() -> Result<String, PreludeError> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let out = std::process::Command::new(&rustc)
        .arg("-vV")
        .output()
        .map_err(|e| PreludeError::Rustc(format!("{}: {e}", rustc.to_string_lossy())))?;
    if !out.status.success() {
        return Err(PreludeError::Rustc(String::from_utf8_lossy(&out.stderr).trim().to_string()));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The crate's files with `extra` appended to the session module.
fn files(extra: Option<&str>) -> Vec<(&'static str, String)> {
    SOURCES
        .iter()
        .map(|(p, c)| match (*p, extra) {
            ("src/session.rs", Some(x)) => (*p, format!("{c}\n{x}\n")),
            _ => (*p, c.to_string()),
        })
        .collect()
}

/// The folder name for these files and this compiler.
fn folder_name(files: &[(&str, String)], rustc: &str) -> String {
    let mut h = FNV_START;
    for (p, c) in files {
        fnv(&mut h, p.as_bytes());
        fnv(&mut h, &[0]);
        fnv(&mut h, c.as_bytes());
        fnv(&mut h, &[0]);
    }
    fnv(&mut h, rustc.as_bytes());
    format!("{h:016x}")
}

/// The prelude folder under `home`, made if missing (see the module docs).
pub fn ensure(home: &Path, extra: Option<&str>, times: &mut PrepareTimes) -> Result<Prelude, PreludeError> {
    let rustc = rustc_version()?;
    let files = files(extra);
    let dir = home.join("prelude").join(folder_name(&files, &rustc));
    let write = |path: &Path, e: std::io::Error| PreludeError::Write { path: path.to_path_buf(), source: e };
    let mut prebuilt = false;
    let made = make_once(
        &dir,
        |tmp| {
            for (p, c) in &files {
                let path = tmp.join(p);
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent).map_err(|e| write(parent, e))?;
                }
                std::fs::write(&path, c).map_err(|e| write(&path, e))?;
            }
            let t = Instant::now();
            prebuilt = build_rlib(tmp);
            times.rlib_build = Some(t.elapsed());
            Ok(())
        },
        write,
    )?;
    // Made by an earlier (or a concurrent) kernel: its rlib, if it could build one.
    let prebuilt = if made { prebuilt } else { dir.join(RLIB).is_file() };
    Ok(Prelude { dir, prebuilt, cached: !made })
}

/// Compile the helpers into `dir`'s rlib; false (and one line in the kernel's log) if rustc
/// failed, so the session compiles them itself.
fn build_rlib(dir: &Path) -> bool {
    if let Err(e) = std::fs::create_dir_all(dir.join("prebuilt")) {
        eprintln!("kelp: the prelude was not precompiled (sessions compile it): {e}");
        return false;
    }
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let out = std::process::Command::new(rustc)
        .args(["--edition", "2021", "--crate-type", "rlib", "--crate-name", "kelp_prebuilt"])
        .args(["-C", "opt-level=2", "--cap-lints", "allow", "-o"])
        .arg(dir.join(RLIB))
        .arg(dir.join("src/prebuilt.rs"))
        .output();
    match out {
        Ok(o) if o.status.success() => true,
        Ok(o) => {
            let err = String::from_utf8_lossy(&o.stderr);
            eprintln!(
                "kelp: the prelude was not precompiled (sessions compile it): {}",
                err.lines().next().unwrap_or("")
            );
            false
        }
        Err(e) => {
            eprintln!("kelp: the prelude was not precompiled (sessions compile it): {e}");
            false
        }
    }
}

/// Remove this process's temporary folders under `home`'s prelude folder (a kernel shutting
/// down while its prelude is being made; a rustc still writing there then fails, it does not
/// make the folder).
pub fn remove_own_temporaries(home: &Path) {
    crate::cache_dir::remove_own_temporaries(&home.join("prelude"));
}

impl Prelude {
    /// The evcxr commands that give the session this prelude: the build flags that select the
    /// rlib (kept with evcxr's own: `-Cprefer-dynamic`, and lld's flag when evcxr links with
    /// lld) and the `:dep` on the wrapper. `linker` is what evcxr's `:linker` says.
    pub fn commands(&self, linker: &str) -> String {
        let dir = self.dir.to_string_lossy();
        let dep = format!(":dep kelp = {{ path = \"{}\" }}", dir.replace('\\', "\\\\").replace('"', "\\\""));
        if !self.prebuilt {
            return dep;
        }
        let mut flags = vec!["-Cprefer-dynamic".to_string()];
        if linker.contains("lld") {
            flags.push("-Clink-arg=-fuse-ld=lld".into());
        }
        flags.extend(["--cfg".into(), "kelp_prebuilt".into(), "--extern".into()]);
        flags.push(format!("kelp_prebuilt={}", self.dir.join(RLIB).to_string_lossy()));
        // The cell's crate finds the rlib as a dependency of the wrapper through this path.
        flags.push("-L".into());
        flags.push(format!("dependency={}", self.dir.join("prebuilt").to_string_lossy()));
        // RUSTFLAGS splits at whitespace; a path with spaces needs cargo's encoded form.
        let set = if flags.iter().any(|f| f.contains(char::is_whitespace)) {
            format!(":build_env CARGO_ENCODED_RUSTFLAGS={}", flags.join("\u{1f}"))
        } else {
            format!(":build_env RUSTFLAGS={}", flags.join(" "))
        };
        format!("{set}\n{dep}")
    }
}

/// Give the session in `ctx` the prelude being made by `preparing`; the times of each step go
/// to `log`. Returns whether evcxr was given it (`Some(true)`: the session has it), `None`
/// when there was no prelude to give.
pub fn attach(ctx: &mut evcxr::CommandContext, preparing: Preparing, log: &mut crate::startup::Log) -> Option<bool> {
    let (prelude, times) = preparing.wait();
    log.prepared(times.prepare, times.rlib_build, prelude.as_ref().ok().map(|p| (p.cached, p.prebuilt)));
    let p = match prelude {
        Ok(p) => p,
        Err(e) => {
            eprintln!("kelp: {e}; the kelp:: helpers are not available");
            return None;
        }
    };
    let linker =
        ctx.execute(":linker").ok().and_then(|o| o.content_by_mime_type.get("text/plain").cloned()).unwrap_or_default();
    let t = Instant::now();
    let r = ctx.execute(&p.commands(&linker));
    log.step("prelude_attach", t.elapsed());
    match r {
        Ok(out) => {
            log.phases("prelude_attach", &out);
            Some(true)
        }
        Err(e) => {
            eprintln!("kelp: the kelp prelude did not compile: {e}");
            Some(false)
        }
    }
}

/// How long the engine is idle before it attaches a prelude no job asked for yet.
pub const IDLE_ATTACH: Duration = Duration::from_millis(500);
/// Milliseconds instead of [`IDLE_ATTACH`] (tests that need the idle attach not to come).
pub const IDLE_VAR: &str = "KELP_IDLE_ATTACH_MS";

fn idle_attach() -> Duration {
    std::env::var(IDLE_VAR).ok().and_then(|v| v.trim().parse().ok()).map(Duration::from_millis).unwrap_or(IDLE_ATTACH)
}

/// A session's prelude until it is attached. Attaching it (`:build_env` + `:dep`) changes the
/// session's Cargo.toml, and evcxr's rust-analyzer then reloads the workspace and its standard
/// library (about a second on 2 cores) before the next cell compiles: so it waits until a job
/// needs it ([`needed_by`]) or the engine has been idle for [`IDLE_ATTACH`], and a first cell
/// such as `1 + 1` runs without waiting for it.
///
/// While rust-analyzer reads the stand-in std ([`crate::std_src`]), the attachment is also
/// when it gets the real one: the link is pointed first, so the reload reads it. A cell that
/// binds a variable ([`binds`]), completions and hovers need std's types and attach first.
pub struct Pending {
    preparing: Option<Preparing>,
    std: Option<crate::std_src::Deferred>,
    /// [`IDLE_ATTACH`], or [`IDLE_VAR`]'s value.
    idle: Duration,
}

impl Pending {
    pub fn new(preparing: Preparing, std: Option<crate::std_src::Deferred>) -> Pending {
        Pending { preparing: Some(preparing), std, idle: idle_attach() }
    }

    /// Attach now, unless it was attached already.
    pub fn attach(&mut self, ctx: &mut evcxr::CommandContext, log: &mut crate::startup::Log) {
        let Some(p) = self.preparing.take() else { return };
        let deferred = self.std.take();
        if let Some(d) = &deferred {
            d.real();
            log.fact("std_read", "with the prelude");
        }
        if attach(ctx, p, log).is_none()
            && let Some(d) = deferred
        {
            // No prelude changed Cargo.toml, so rust-analyzer would not read std again.
            reload_std(ctx, &d, log);
        }
        log.attached();
    }

    /// Before a job: attach if `code` needs the prelude; else, while rust-analyzer has the
    /// stand-in, give it the real std if the job needs std's types (`analysis`: a completion or
    /// a hover; or a cell that [`binds`] a variable). That reload takes the cheapest change to
    /// the session's Cargo.toml, a `:dep` on an empty crate, not the prelude's build; for a
    /// cell it is returned, to go in front of the cell (one compile for both), else it runs now.
    /// The prelude comes when idle, as before.
    pub fn attach_if_needed(
        &mut self,
        code: &str,
        analysis: bool,
        ctx: &mut evcxr::CommandContext,
        log: &mut crate::startup::Log,
    ) -> Option<String> {
        if self.preparing.is_some() && needed_by(code) {
            self.attach(ctx, log);
            return None;
        }
        if !(analysis || binds(code)) {
            return None;
        }
        let d = self.std.take()?;
        d.real();
        log.fact("std_read", "when first needed");
        if analysis {
            reload_std(ctx, &d, log);
            return None;
        }
        Some(d.reload_command())
    }

    /// The next job from `rx` (None when the sender is gone); while the prelude waits, an idle
    /// spell of [`IDLE_ATTACH`] attaches it, unless that would lose a variable ([`loses`]).
    pub fn next_job<J>(
        &mut self,
        rx: &std::sync::mpsc::Receiver<J>,
        ctx: &mut evcxr::CommandContext,
        log: &mut crate::startup::Log,
    ) -> Option<J> {
        if self.preparing.is_some() {
            match rx.recv_timeout(self.idle) {
                Ok(job) => return Some(job),
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return None,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    if loses(ctx.variables_and_types(), ctx.defined_item_names()).is_empty() {
                        self.attach(ctx, log);
                    } else {
                        return rx.recv().ok();
                    }
                }
            }
        }
        rx.recv().ok()
    }
}

/// Make rust-analyzer load the real std now ([`crate::std_src::Deferred::reload_command`]).
fn reload_std(ctx: &mut evcxr::CommandContext, d: &crate::std_src::Deferred, log: &mut crate::startup::Log) {
    let t = Instant::now();
    if let Err(e) = ctx.execute(&d.reload_command()) {
        eprintln!("kelp: rust-analyzer may not have std's sources ({e}); variables may need written types");
    }
    log.step("std_reload", t.elapsed());
}

/// The variables that attaching the prelude would lose: those whose type names an item the
/// notebook defined. Attaching adds a dependency and build flags, so evcxr builds the session's
/// crate under a new identity, and a type defined in it is no longer the type its stored
/// values have (evcxr drops them: "The type of the variable … was redefined"). Types from std
/// and dependencies keep their identity.
pub fn loses<'a>(
    variables: impl Iterator<Item = (&'a str, &'a str)>,
    items: impl Iterator<Item = &'a str>,
) -> Vec<&'a str> {
    let items: std::collections::HashSet<&str> = items.collect();
    variables
        .filter(|(_, ty)| ty.split(|c: char| !(c.is_alphanumeric() || c == '_')).any(|word| items.contains(word)))
        .map(|(name, _)| name)
        .collect()
}

/// Whether `word` is in `code` as a whole identifier.
fn has_word(code: &str, word: &str) -> bool {
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let bytes = code.as_bytes();
    code.match_indices(word).any(|(i, _)| {
        let before = i.checked_sub(1).map(|j| bytes[j]);
        let after = bytes.get(i + word.len()).copied();
        !before.is_some_and(ident) && !after.is_some_and(ident)
    })
}

/// Whether `code` must see the prelude: it names `kelp` (a path, a `use`), or has an evcxr
/// command line (`:dep`, `:build_env`, …: the prelude's build flags must come first, or a
/// dependency built without them would be built again when they come).
pub fn needed_by(code: &str) -> bool {
    has_word(code, "kelp")
        || code.lines().any(|l| {
            let l = l.trim_start();
            l.starts_with(':') && !l.starts_with("::")
        })
}

/// Whether `code` may bind a variable evcxr keeps, whose type it asks rust-analyzer for: it
/// has a `let` (anywhere: a `let` in a block only makes the real std come sooner).
pub fn binds(code: &str) -> bool {
    has_word(code, "let")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prelude_is_needed_by_code_naming_kelp_or_an_evcxr_command() {
        for code in
            ["kelp::table(&rows)", "use kelp::ipfs;\n1", "let x = 1;\n:dep serde = \"1\"", "  :build_env A=b", "(kelp)"]
        {
            assert!(needed_by(code), "{code}");
        }
        for code in ["1 + 1", "let kelper = 2;", "my_kelp::x()", "::std::println!(\"a\")", "let s = \"a:b\";"] {
            assert!(!needed_by(code), "{code}");
        }
    }

    #[test]
    fn a_cell_binds_variables_when_it_has_a_let() {
        for code in
            ["let x = 1;", "1;\nlet (a, b) = (1, 2);", "{ let v = vec![1]; v.len() }", "if let Some(x) = o { x }"]
        {
            assert!(binds(code), "{code}");
        }
        for code in ["1 + 1", "println!(\"hello\")", "fn letter() -> char { 'a' }", "outlet(1)", "let_me()"] {
            assert!(!binds(code), "{code}");
        }
        // Erring on the safe side: a `let` in a string only brings the real std sooner.
        assert!(binds("println!(\"let it be\")"));
    }

    #[test]
    fn folder_name_follows_content_and_compiler() {
        let a = folder_name(&files(None), "rustc 1.0");
        assert_eq!(a, folder_name(&files(None), "rustc 1.0"));
        assert_ne!(a, folder_name(&files(Some("pub const X: u8 = 1;")), "rustc 1.0"));
        assert_ne!(a, folder_name(&files(None), "rustc 1.1"));
    }

    #[test]
    fn only_variables_of_the_notebooks_own_types_are_lost_by_attaching() {
        let vars = [("a", "u32"), ("p", "Vec<Point>"), ("m", "HashMap<String, Option<Pointer>>"), ("q", "Point")];
        let lost = loses(vars.iter().copied(), ["Point", "helper"].into_iter());
        assert_eq!(lost, ["p", "q"]);
        assert!(loses(vars.iter().copied(), std::iter::empty()).is_empty());
    }

    #[test]
    fn commands_select_the_rlib_or_compile_the_sources() {
        let p = Prelude { dir: PathBuf::from("/h/prelude/ab"), prebuilt: true, cached: true };
        assert_eq!(
            p.commands("linker: system"),
            ":build_env RUSTFLAGS=-Cprefer-dynamic --cfg kelp_prebuilt --extern kelp_prebuilt=/h/prelude/ab/prebuilt/libkelp_prebuilt.rlib -L dependency=/h/prelude/ab/prebuilt\n:dep kelp = { path = \"/h/prelude/ab\" }"
        );
        assert!(p.commands("linker: lld").contains("-Cprefer-dynamic -Clink-arg=-fuse-ld=lld --cfg"));
        let spaced = Prelude { dir: PathBuf::from("/my home/ab"), prebuilt: true, cached: true };
        assert!(spaced.commands("").starts_with(":build_env CARGO_ENCODED_RUSTFLAGS=-Cprefer-dynamic\u{1f}--cfg"));
        let plain = Prelude { prebuilt: false, ..p };
        assert_eq!(plain.commands(""), ":dep kelp = { path = \"/h/prelude/ab\" }");
    }

    #[test]
    fn a_second_ensure_uses_the_folder_and_a_dead_kernels_temporary_is_swept() {
        let home = tempfile::tempdir().unwrap();
        let stale = home.path().join("prelude/.tmp-999999999-1");
        std::fs::create_dir_all(&stale).unwrap();
        let mut t = PrepareTimes::default();
        let first = ensure(home.path(), None, &mut t).unwrap();
        assert!(!first.cached && first.prebuilt, "{first:?}");
        assert!(first.dir.join("src/session/data.rs").is_file());
        let second = ensure(home.path(), None, &mut t).unwrap();
        assert!(second.cached && second.dir == first.dir);
        let names: Vec<_> =
            std::fs::read_dir(home.path().join("prelude")).unwrap().flatten().map(|e| e.file_name()).collect();
        assert_eq!(names, vec![first.dir.file_name().unwrap().to_owned()], "one folder, no temporary");
    }
}
