//! Running a magic line as a notebook cell, for tests (feature `testing`).
//!
//! [`Cell`] owns what a test used to build by hand in every file: a working directory (a fresh
//! temporary one, or one the test names), an isolated `$KELP_HOME` below it, a [`RecordingSink`]
//! and a [`Registry`] holding the magics under test. [`Cell::run`] goes through the registry as
//! the kernel does, so records carry the call; the side output the magic streamed or displayed is
//! read back from the sink.
//!
//! [`check_result_schemas`] keeps a family's committed result schemas equal to its types;
//! [`assert_result_snapshot!`](crate::assert_result_snapshot) snapshots a result's three renderings
//! (insta), redacted with [`REDACTIONS`].

use crate::{
    Config, Magic, MagicCall, MagicContext, MagicError, Output, RecordingSink, Registry, ResultSchema, SinkEvent,
    Stream,
};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A notebook cell for magics: cwd, `$KELP_HOME`, recorded output, the registry. A clone is the
/// same cell (shared sink, environment and cancellation), e.g. for a run spawned on a task.
#[derive(Clone)]
pub struct Cell {
    /// Kept alive while the cell (or a clone) lives when the cell made its own directory.
    _dir: Option<Arc<tempfile::TempDir>>,
    registry: Arc<Registry>,
    /// What the magics streamed and displayed.
    pub sink: Arc<RecordingSink>,
    /// The context each run gets (cwd, config, env overlay, cancellation).
    pub ctx: MagicContext,
}

impl std::fmt::Debug for Cell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cell").field("ctx", &self.ctx).field("magics", &self.registry.names()).finish()
    }
}

/// A cell is used where a test needs the context itself (`c.env`, `c.cwd`, `&c` for a
/// `&MagicContext` argument).
impl std::ops::Deref for Cell {
    type Target = MagicContext;
    fn deref(&self) -> &MagicContext {
        &self.ctx
    }
}

impl Cell {
    /// A cell in a fresh temporary directory, `$KELP_HOME` = `<dir>/home`.
    pub fn new(magics: impl IntoIterator<Item = Arc<dyn Magic>>) -> Cell {
        let dir = tempfile::tempdir().expect("a temporary directory for the cell");
        let mut cell = Cell::at(dir.path(), magics);
        cell._dir = Some(Arc::new(dir));
        cell
    }

    /// A cell whose working directory is `dir` (the test owns it), `$KELP_HOME` = `<dir>/home`.
    pub fn at(dir: &Path, magics: impl IntoIterator<Item = Arc<dyn Magic>>) -> Cell {
        let mut registry = Registry::new();
        for m in magics {
            registry.register(m);
        }
        let sink = RecordingSink::new();
        let ctx = MagicContext::new(dir, Config::at(dir.join("home")), sink.clone());
        Cell { _dir: None, registry: Arc::new(registry), sink, ctx }
    }

    /// The same cell with `$KELP_HOME` at `home`.
    pub fn with_home(mut self, home: impl Into<PathBuf>) -> Cell {
        self.ctx.config = Config::at(home);
        self
    }

    /// Another cell of the same notebook: same directory, home, environment and magics; its own
    /// output sink and cancellation (the next cell after a restart sees the same files).
    pub fn next(&self) -> Cell {
        let sink = RecordingSink::new();
        let mut ctx = MagicContext::new(&self.ctx.cwd, self.ctx.config.clone(), sink.clone());
        ctx.env = self.ctx.env.clone();
        Cell { _dir: self._dir.clone(), registry: self.registry.clone(), sink, ctx }
    }

    /// The working directory.
    pub fn dir(&self) -> &Path {
        &self.ctx.cwd
    }

    /// `$KELP_HOME`.
    pub fn home(&self) -> &Path {
        &self.ctx.config.home
    }

    /// Write `contents` to `rel` below the working directory (parents created).
    pub fn write(&self, rel: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let p = self.ctx.cwd.join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("creating {}: {e}", parent.display()));
        }
        std::fs::write(&p, contents).unwrap_or_else(|e| panic!("writing {}: {e}", p.display()));
        p
    }

    /// Set (or with `None`, unset) a variable for this cell as `%env` would.
    pub fn env(&self, name: &str, value: Option<&str>) {
        self.ctx.env.set(name, value.map(str::to_string));
    }

    /// Run the line magic `line` (without `%`, e.g. `ipfs add a.txt`) as the kernel runs a cell.
    pub async fn run(&self, line: &str) -> Result<Output, MagicError> {
        self.call(MagicCall::from_line(line, None)?, false).await
    }

    /// `let var = %line`: the call binds its result to `var` (records name it).
    pub async fn run_bound(&self, line: &str, var: &str) -> Result<Output, MagicError> {
        let mut call = MagicCall::from_line(line, None)?;
        call.bind = Some(var.to_string());
        self.call(call, false).await
    }

    /// The cell magic `%%line` with `body` below it.
    pub async fn run_cell(&self, line: &str, body: &str) -> Result<Output, MagicError> {
        self.call(MagicCall::from_line(line, Some(body.to_string()))?, true).await
    }

    /// Any prepared call (e.g. from `MagicCall::from_argv`).
    pub async fn call(&self, call: MagicCall, cell: bool) -> Result<Output, MagicError> {
        self.registry.run(call, cell, &self.ctx).await
    }

    /// The bundle of a line that must succeed (panics with the line and its error otherwise).
    pub async fn ok(&self, line: &str) -> Output {
        self.run(line).await.unwrap_or_else(|e| panic!("{line}: {e}"))
    }

    /// The error of a line that must fail, checked to be one line as the kernel shows it.
    pub async fn err(&self, line: &str) -> String {
        let e = self.run(line).await.err().unwrap_or_else(|| panic!("{line} should fail")).to_string();
        assert!(!e.contains('\n'), "an error is one line: {e}");
        e
    }

    /// Everything streamed and displayed so far, in order.
    pub fn events(&self) -> Vec<SinkEvent> {
        self.sink.events()
    }

    /// All stdout text so far.
    pub fn stdout(&self) -> String {
        self.sink.stdout()
    }

    /// All stderr text so far.
    pub fn stderr(&self) -> String {
        self.events()
            .into_iter()
            .filter_map(|e| match e {
                SinkEvent::Stream(Stream::Stderr, t) => Some(t),
                _ => None,
            })
            .collect()
    }

    /// The bundles displayed or updated so far, with their display ids.
    pub fn displays(&self) -> Vec<(Output, Option<String>)> {
        self.events()
            .into_iter()
            .filter_map(|e| match e {
                SinkEvent::Display(o, id) => Some((o, id)),
                SinkEvent::Update(o, id) => Some((o, Some(id))),
                _ => None,
            })
            .collect()
    }
}

/// Redactions applied to every result snapshot (insta `filters`, in order): what changes from
/// run to run or machine to machine becomes a named placeholder. A test adds its own first (the
/// cell's directory, a job id) with [`assert_result_snapshot!`](crate::assert_result_snapshot).
pub const REDACTIONS: &[(&str, &str)] = &[
    (r"kelp-key-v1:[A-Za-z0-9_=+/-]+", "[SHARE-KEY]"),
    (r"\bQm[1-9A-HJ-NP-Za-km-z]{44}\b", "[CIDv0]"),
    (r"\bba[fg][a-z2-7]{50,}\b", "[CIDv1]"),
    (r"\b12D3KooW[1-9A-HJ-NP-Za-km-z]{44}\b", "[PEER-ID]"),
    (r"\b0x[0-9a-fA-F]{64}\b", "[HASH]"),
    (r"\b0x[0-9a-fA-F]{40}\b", "[ADDRESS]"),
    (r"\b[0-9a-f]{64}\b", "[SHA256]"),
    (r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", "[UUID]"),
    (r"\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)?", "[DATETIME]"),
    (r#"/tmp/[^\s<>&"'\\]*"#, "[TMP]"),
];

/// A result bundle as one snapshot text: each MIME part under its own heading (JSON pretty),
/// `(none)` for a part the bundle does not have, and the Rust value a `let x = %…` binds.
pub fn snapshot_text(out: &Output) -> String {
    let part = |mime: &str| match out.data.get(mime) {
        None => "(none)".to_string(),
        Some(serde_json::Value::String(s)) if mime.starts_with("text/") => s.clone(),
        Some(v) => serde_json::to_string_pretty(v).unwrap_or_default(),
    };
    let mut s = String::new();
    for mime in ["text/plain", "text/html", "application/json"] {
        s.push_str(&format!("--- {mime}\n{}\n", part(mime)));
    }
    let others: Vec<&String> =
        out.data.keys().filter(|k| !["text/plain", "text/html", "application/json"].contains(&k.as_str())).collect();
    for mime in others {
        s.push_str(&format!("--- {mime}\n{}\n", part(mime)));
    }
    if let Some(v) = &out.value {
        s.push_str(&format!("--- value: {}\n{}\n", v.ty, v.expr));
    }
    s
}

/// A literal string as a regex (for a redaction of a path or an id).
pub fn regex_literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Snapshot a result bundle (`insta`, which the calling crate has as a dev-dependency): all three
/// renderings in one `.snap` file under the test's `snapshots/` folder, redacted with `extra`
/// (pairs of regex and placeholder, applied first) then [`REDACTIONS`]. A changed rendering fails;
/// `cargo insta review` (or `INSTA_UPDATE=always`) accepts it.
///
/// `assert_result_snapshot!("ipfs_add", &out, cell)` also redacts the cell's directory as `[CELL]`.
#[macro_export]
macro_rules! assert_result_snapshot {
    ($name:expr, $out:expr, $cell:expr) => {
        $crate::assert_result_snapshot!($name, $out, $cell, [])
    };
    ($name:expr, $out:expr, $cell:expr, [$($pair:expr),* $(,)?]) => {{
        let mut filters: Vec<(String, String)> = Vec::new();
        $(let (re, to) = $pair; filters.push((re.to_string(), to.to_string()));)*
        filters.push(($crate::testing::regex_literal(&$cell.dir().to_string_lossy()), "[CELL]".to_string()));
        filters.extend($crate::testing::REDACTIONS.iter().map(|(a, b)| (a.to_string(), b.to_string())));
        let text = $crate::testing::snapshot_text($out);
        let mut settings = insta::Settings::clone_current();
        settings.set_prepend_module_to_snapshot(false);
        for (re, to) in &filters {
            settings.add_filter(re, to.as_str());
        }
        settings.bind(|| insta::assert_snapshot!($name, text));
    }};
}

/// Check the committed JSON Schemas of one family's results against the types.
///
/// `dir` is `docs/schema/results/`, `family` the magic (`ipfs`), `crate_name` the package whose
/// unit test calls this (named in the message), `schemas` every result type of the family
/// ([`ResultSchema::of`]). With `KELP_UPDATE_SCHEMA=1` the files are written first (and files of
/// the family that no type has any more are removed); without it a missing, stale or orphaned
/// file fails with the one command that regenerates them.
pub fn check_result_schemas(dir: &Path, family: &str, crate_name: &str, schemas: &[ResultSchema]) {
    let prefix = format!("{family}.");
    let mut names = std::collections::BTreeSet::new();
    for s in schemas {
        assert!(s.name.starts_with(&prefix), "result schema {} is not of the family {family}", s.name);
        assert!(names.insert(s.file_name()), "two result types are named {}", s.name);
    }
    let on_disk: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(&prefix) && n.ends_with(".schema.json"))
                .collect()
        })
        .unwrap_or_default();
    if std::env::var_os("KELP_UPDATE_SCHEMA").is_some() {
        std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
        for s in schemas {
            let p = dir.join(s.file_name());
            std::fs::write(&p, s.text()).unwrap_or_else(|e| panic!("writing {}: {e}", p.display()));
        }
        for n in on_disk.iter().filter(|n| !names.contains(*n)) {
            std::fs::remove_file(dir.join(n)).unwrap_or_else(|e| panic!("removing {n}: {e}"));
        }
        return;
    }
    let mut wrong: Vec<String> = Vec::new();
    for s in schemas {
        let p = dir.join(s.file_name());
        match std::fs::read_to_string(&p) {
            Ok(t) if t == s.text() => {}
            Ok(_) => wrong.push(format!("{} is stale", s.file_name())),
            Err(_) => wrong.push(format!("{} is missing", s.file_name())),
        }
    }
    wrong.extend(on_disk.iter().filter(|n| !names.contains(*n)).map(|n| format!("{n} has no result type")));
    assert!(
        wrong.is_empty(),
        "result schemas under {} do not match the types ({}): regenerate them with `KELP_UPDATE_SCHEMA=1 cargo test -p {crate_name} --lib result_schemas` and commit them",
        dir.display(),
        wrong.join("; ")
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{EnvMagic, FileMagic};

    #[tokio::test]
    async fn a_cell_runs_through_the_registry_and_keeps_its_output() {
        let c = Cell::new([Arc::new(EnvMagic) as Arc<dyn Magic>, Arc::new(FileMagic)]);
        assert!(c.dir().is_dir());
        assert_eq!(c.home(), c.dir().join("home"));
        c.env("KELP_TESTING_VAR", Some("one"));
        let out = c.ok("env KELP_TESTING_VAR").await;
        assert!(out.plain().unwrap().contains("one"), "{out:?}");
        let e = c.err("nosuchmagic x").await;
        assert!(e.contains("nosuchmagic"), "{e}");
        let e = c.run_cell("env", "x").await.unwrap_err().to_string();
        assert!(e.contains("line magic"), "{e}");
        c.run_cell("file notes/f.txt", "hello\n").await.unwrap();
        assert_eq!(std::fs::read_to_string(c.dir().join("notes/f.txt")).unwrap(), "hello\n");
        let next = c.next();
        assert_eq!((next.dir(), next.home()), (c.dir(), c.home()));
        assert_eq!(next.ctx.env.get("KELP_TESTING_VAR").as_deref(), Some("one"));
    }

    #[test]
    fn write_creates_parents_and_at_uses_the_given_dir() {
        let d = tempfile::tempdir().unwrap();
        let c = Cell::at(d.path(), []).with_home(d.path().join("h2"));
        let p = c.write("a/b.txt", "x");
        assert_eq!(std::fs::read_to_string(p).unwrap(), "x");
        assert_eq!(c.home(), d.path().join("h2"));
    }
}
