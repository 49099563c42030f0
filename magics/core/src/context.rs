//! What a running magic may touch: working directory, config, output sink, cancellation.

use crate::{MagicError, Output};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Which text stream a line goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// Where a magic's side output goes while it runs: a notebook (display_data / stream messages)
/// or a terminal. Implementations must be cheap and never block on the frontend.
pub trait OutputSink: Send + Sync {
    /// Text on stdout or stderr.
    fn stream(&self, stream: Stream, text: &str);
    /// Show a bundle now; with an id, it can be replaced later by [`OutputSink::update_display`].
    fn display(&self, output: &Output, display_id: Option<&str>);
    /// Replace the bundle shown under `display_id` (progress bars, live job status).
    fn update_display(&self, output: &Output, display_id: &str);
    /// Clear the cell's output (`wait`: when the next output arrives).
    fn clear_output(&self, wait: bool);
}

/// One thing a [`RecordingSink`] saw.
#[derive(Debug, Clone, PartialEq)]
pub enum SinkEvent {
    Stream(Stream, String),
    Display(Output, Option<String>),
    Update(Output, String),
    Clear(bool),
}

/// A sink that remembers everything, for tests and for front ends that render at the end.
#[derive(Debug, Default)]
pub struct RecordingSink {
    events: Mutex<Vec<SinkEvent>>,
}

impl RecordingSink {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Everything seen so far, in order.
    pub fn events(&self) -> Vec<SinkEvent> {
        self.events.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// All stdout text concatenated.
    pub fn stdout(&self) -> String {
        self.events()
            .into_iter()
            .filter_map(|e| match e {
                SinkEvent::Stream(Stream::Stdout, t) => Some(t),
                _ => None,
            })
            .collect()
    }

    fn push(&self, e: SinkEvent) {
        self.events.lock().unwrap_or_else(|e| e.into_inner()).push(e);
    }
}

impl OutputSink for RecordingSink {
    fn stream(&self, stream: Stream, text: &str) {
        self.push(SinkEvent::Stream(stream, text.to_string()));
    }
    fn display(&self, output: &Output, display_id: Option<&str>) {
        self.push(SinkEvent::Display(output.clone(), display_id.map(str::to_string)));
    }
    fn update_display(&self, output: &Output, display_id: &str) {
        self.push(SinkEvent::Update(output.clone(), display_id.to_string()));
    }
    fn clear_output(&self, wait: bool) {
        self.push(SinkEvent::Clear(wait));
    }
}

/// Interrupt signal for a running magic. Cloning shares the signal.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(tokio_util::sync::CancellationToken);

impl CancelToken {
    pub fn new() -> Self {
        Self::default()
    }
    /// Ask the magic to stop (the kernel does this on `interrupt_request`).
    pub fn cancel(&self) {
        self.0.cancel();
    }
    pub fn is_cancelled(&self) -> bool {
        self.0.is_cancelled()
    }
    /// Resolves when cancelled; race it against I/O with `tokio::select!`.
    pub async fn cancelled(&self) {
        self.0.cancelled().await
    }
    /// `Err(Cancelled)` if cancelled, for loops that check between steps.
    pub fn check(&self, what: &str) -> Result<(), MagicError> {
        if self.is_cancelled() { Err(MagicError::Cancelled(what.to_string())) } else { Ok(()) }
    }
}

/// Settings shared by every family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Root of kelp's persistent state: `$KELP_HOME`, else the user's data dir + `kelp`.
    /// Families keep their own files below it (`ipfs/`, `ocean/`, `c2d/`).
    pub home: PathBuf,
}

impl Config {
    /// Read from the environment (`KELP_HOME`).
    pub fn from_env() -> Self {
        let home = std::env::var_os("KELP_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| dirs::data_dir().map(|d| d.join("kelp")))
            .unwrap_or_else(|| PathBuf::from(".kelp"));
        Config { home }
    }

    /// A config rooted at `home` (tests).
    pub fn at(home: impl Into<PathBuf>) -> Self {
        Config { home: home.into() }
    }

    /// A family's directory under home, e.g. `config.dir("ipfs")`.
    pub fn dir(&self, family: &str) -> PathBuf {
        self.home.join(family)
    }
}

/// The session's environment: the process environment with `%env` changes laid over it.
///
/// Changing the real process environment is unsound while other threads run (the kernel has
/// several), so `%env NAME=value` lands here instead; magics read variables through
/// [`EnvVars::get`] and pass [`EnvVars::changes`] to the processes they start.
#[derive(Debug, Clone, Default)]
pub struct EnvVars(Arc<Mutex<BTreeMap<String, Option<String>>>>);

impl EnvVars {
    /// The value of `name`: the session's own if set there, else the process's.
    pub fn get(&self, name: &str) -> Option<String> {
        match self.lock().get(name) {
            Some(v) => v.clone(),
            None => std::env::var(name).ok(),
        }
    }
    /// Set (or with `None`, unset) `name` for this session.
    pub fn set(&self, name: &str, value: Option<String>) {
        self.lock().insert(name.to_string(), value);
    }
    /// All variables as the session sees them, sorted.
    pub fn all(&self) -> BTreeMap<String, String> {
        let mut m: BTreeMap<String, String> = std::env::vars().collect();
        for (k, v) in self.lock().iter() {
            match v {
                Some(v) => m.insert(k.clone(), v.clone()),
                None => m.remove(k),
            };
        }
        m
    }
    /// The session's changes, for starting a child process (`None` = remove).
    pub fn changes(&self) -> BTreeMap<String, Option<String>> {
        self.lock().clone()
    }
    /// Apply the session's changes to a command about to be spawned.
    pub fn apply(&self, cmd: &mut std::process::Command) {
        for (k, v) in self.changes() {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
    }
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Option<String>>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Everything a magic's `run` may use. Cheap to clone.
#[derive(Clone)]
pub struct MagicContext {
    /// Directory relative paths are resolved against (the notebook's directory).
    pub cwd: PathBuf,
    pub config: Config,
    pub sink: Arc<dyn OutputSink>,
    pub cancel: CancelToken,
    /// Environment variables as `%env` left them.
    pub env: EnvVars,
}

impl std::fmt::Debug for MagicContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MagicContext").field("cwd", &self.cwd).field("config", &self.config).finish()
    }
}

impl MagicContext {
    pub fn new(cwd: impl Into<PathBuf>, config: Config, sink: Arc<dyn OutputSink>) -> Self {
        MagicContext { cwd: cwd.into(), config, sink, cancel: CancelToken::new(), env: EnvVars::default() }
    }

    /// `p` if absolute, else `cwd/p`.
    pub fn resolve(&self, p: impl AsRef<Path>) -> PathBuf {
        let p = p.as_ref();
        if p.is_absolute() { p.to_path_buf() } else { self.cwd.join(p) }
    }

    /// Print a line (or any text) on the cell's stdout.
    pub fn print(&self, text: &str) {
        self.sink.stream(Stream::Stdout, text);
    }

    /// Print on the cell's stderr (warnings).
    pub fn eprint(&self, text: &str) {
        self.sink.stream(Stream::Stderr, text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_relative_and_absolute() {
        let ctx = MagicContext::new("/work", Config::at("/h"), RecordingSink::new());
        assert_eq!(ctx.resolve("a/b"), PathBuf::from("/work/a/b"));
        assert_eq!(ctx.resolve("/x"), PathBuf::from("/x"));
        assert_eq!(ctx.config.dir("ipfs"), PathBuf::from("/h/ipfs"));
    }

    #[test]
    fn cancel_is_shared_by_clones() {
        let t = CancelToken::new();
        let c = t.clone();
        assert!(t.check("x").is_ok());
        c.cancel();
        assert!(matches!(t.check("adding"), Err(MagicError::Cancelled(w)) if w == "adding"));
    }

    #[test]
    fn env_overlay_shadows_process_env() {
        let env = EnvVars::default();
        assert_eq!(env.get("KELP_TEST_UNSET_VAR"), None);
        env.set("KELP_TEST_UNSET_VAR", Some("1".into()));
        assert_eq!(env.get("KELP_TEST_UNSET_VAR").as_deref(), Some("1"));
        assert_eq!(env.all().get("KELP_TEST_UNSET_VAR").map(String::as_str), Some("1"));
        env.set("PATH", None);
        assert_eq!(env.get("PATH"), None);
        assert!(!env.all().contains_key("PATH"));
    }

    #[test]
    fn recording_sink_keeps_order() {
        let s = RecordingSink::new();
        s.stream(Stream::Stdout, "a");
        s.display(&Output::text("x"), Some("d1"));
        s.stream(Stream::Stdout, "b");
        assert_eq!(s.stdout(), "ab");
        assert!(matches!(&s.events()[1], SinkEvent::Display(_, Some(id)) if id == "d1"));
    }
}
