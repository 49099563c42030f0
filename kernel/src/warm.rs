//! Warm engines: a spare Rust engine (evcxr context made, prelude attached) waiting in its own
//! process, so that a kernel restart or a second kernel runs its first Rust cell at once.
//!
//! On with `KELP_WARM_ENGINE=1` (off by default: a spare holds ~450 MiB and starts with ~4 s of
//! CPU). A kernel whose engine is ready starts one spare (`kelp engine-serve`, its own process
//! group) unless one is already there; the next kernel started by the same user, with the same
//! kelp binary, folder and environment takes it over a Unix socket and starts the next spare.
//!
//! **Who may take it.** The socket is `$KELP_HOME/engines/<key>.sock` (folder 0700, socket
//! 0600): the key hashes the kelp binary (path, size, mtime), the working folder and every
//! environment variable except the kernel's own (`JPY_*`, `KELP_RELAY_*`, `KELP_STARTUP_LOG`),
//! which the spare does not get either, so no kernel's secret reaches another kernel's code.
//! A spare serves one kernel and exits when that kernel's connection closes; unclaimed, it exits
//! after `KELP_WARM_IDLE_SECS` (default 600) or when its socket file is gone. A socket nobody
//! answers (the spare was killed) is removed and the kernel starts its own engine.
//!
//! The protocol is one JSON object a line ([`ToEngine`], [`FromEngine`]); the kernel side is
//! [`Remote`], which [`crate::engine::Engine`] uses in place of its own thread. This module owns
//! the pool (key, folder, lock files), the protocol and that kernel side; the spare's side
//! (starting one, `kelp engine-serve`) is [`crate::spare`], which runs a local engine, so that
//! this module needs only what crosses an engine's boundary ([`crate::engine_io`]).

use crate::cache_dir::{FNV_START, fnv};
use crate::engine_io::{EngineError, EngineEvent, EngineState, ExecIo, InputAsk};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// `1` turns warm engines on.
pub const VAR: &str = "KELP_WARM_ENGINE";
/// Seconds an unclaimed spare waits before it exits.
pub const IDLE_VAR: &str = "KELP_WARM_IDLE_SECS";

/// Variables that belong to one kernel, not to the session: neither in the key nor in a spare.
fn kernel_only(name: &str) -> bool {
    name.starts_with("JPY_") || name.starts_with("KELP_RELAY_") || name == crate::startup::LOG_VAR
}

pub fn enabled() -> bool {
    std::env::var(VAR).is_ok_and(|v| v.trim() == "1")
}

/// A kernel → spare message.
#[derive(Debug, Serialize, Deserialize)]
pub enum ToEngine {
    Hello { key: String },
    Execute { id: u64, code: String, input: bool },
    Complete { id: u64, code: String, pos: usize },
    Hover { id: u64, code: String, pos: usize },
    Interrupt,
    Answer { id: u64, text: String },
}

/// A spare → kernel message.
#[derive(Debug, Serialize, Deserialize)]
pub enum FromEngine {
    Welcome,
    Event { id: u64, event: EngineEvent },
    Ask { id: u64, prompt: String, password: bool },
    Executed { id: u64, result: Result<BTreeMap<String, String>, EngineError> },
    Completed { id: u64, result: Option<(Vec<String>, usize, usize)> },
    Hovered { id: u64, result: Option<(String, String)> },
}

/// The environment a spare gets: this process's, without the kernel's own variables.
pub fn session_env() -> Vec<(std::ffi::OsString, std::ffi::OsString)> {
    let home = kelp_magic::Config::from_env().home;
    // A kernel's own std link (crate::std_src) is its own too: a spare makes its own.
    let own_link = |k: &std::ffi::OsStr, v: &std::ffi::OsStr| {
        k == crate::std_src::SRC_VAR && crate::std_src::is_kelp_link(&home, v)
    };
    let mut env: Vec<_> = std::env::vars_os()
        .filter(|(k, v)| !k.to_str().is_some_and(kernel_only) && !own_link(k, v))
        .collect::<Vec<_>>();
    env.sort();
    env
}

/// The key of this process's binary, folder and session environment (see the module docs).
pub fn key() -> std::io::Result<String> {
    let exe = std::env::current_exe()?;
    let meta = std::fs::metadata(&exe)?;
    let mut h = FNV_START;
    fnv(&mut h, exe.as_os_str().as_encoded_bytes());
    fnv(&mut h, &meta.len().to_le_bytes());
    fnv(&mut h, &meta.mtime().to_le_bytes());
    fnv(&mut h, &meta.mtime_nsec().to_le_bytes());
    fnv(&mut h, std::env::current_dir()?.as_os_str().as_encoded_bytes());
    for (k, v) in session_env() {
        fnv(&mut h, &[0]);
        fnv(&mut h, k.as_encoded_bytes());
        fnv(&mut h, &[1]);
        fnv(&mut h, v.as_encoded_bytes());
    }
    Ok(format!("{h:016x}"))
}

/// The pool folder (made 0700, and refused unless this user owns it) and the key.
pub fn place() -> Result<(PathBuf, String), String> {
    let dir = kelp_magic::Config::from_env().home.join("engines");
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot make {}: {e}", dir.display()))?;
    let me = std::fs::metadata("/proc/self").map_err(|e| format!("cannot read /proc/self: {e}"))?.uid();
    let meta = std::fs::symlink_metadata(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    if !meta.is_dir() || meta.uid() != me {
        return Err(format!("{} is not a folder of this user", dir.display()));
    }
    if meta.mode() & 0o077 != 0 {
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| format!("cannot make {} private: {e}", dir.display()))?;
    }
    let key = key().map_err(|e| format!("cannot compute the engine key: {e}"))?;
    let sock = dir.join(format!("{key}.sock"));
    // sun_path holds 108 bytes.
    if sock.as_os_str().len() > 100 {
        return Err(format!("{} is too long for a Unix socket; use a shorter KELP_HOME", sock.display()));
    }
    Ok((dir, key))
}

pub fn write_line(w: &Mutex<UnixStream>, msg: &impl Serialize) -> bool {
    let Ok(mut line) = serde_json::to_vec(msg) else { return false };
    line.push(b'\n');
    crate::sync::lock(w).write_all(&line).is_ok()
}

enum Pending {
    Exec {
        events: mpsc::UnboundedSender<EngineEvent>,
        input: Option<mpsc::UnboundedSender<InputAsk>>,
        reply: oneshot::Sender<Result<BTreeMap<String, String>, EngineError>>,
    },
    Complete(oneshot::Sender<Option<(Vec<String>, usize, usize)>>),
    Hover(oneshot::Sender<Option<(String, String)>>),
}

/// The kernel's side of a taken spare.
pub struct Remote {
    writer: Arc<Mutex<UnixStream>>,
    pending: Arc<Mutex<HashMap<u64, Pending>>>,
    next: AtomicU64,
    executing: Arc<AtomicBool>,
    gone: Arc<Mutex<Option<String>>>,
}

/// Take the spare for this kernel's key, if there is one that answers.
pub fn take() -> Option<Remote> {
    if !enabled() {
        return None;
    }
    let (dir, key) = place().map_err(|e| eprintln!("kelp: no warm engine: {e}")).ok()?;
    let sock = dir.join(format!("{key}.sock"));
    let stream = match UnixStream::connect(&sock) {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => {
            eprintln!("kelp: the warm engine at {} did not answer ({e}); starting a new one", sock.display());
            let _ = std::fs::remove_file(&sock);
            return None;
        }
    };
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let writer = Arc::new(Mutex::new(stream.try_clone().ok()?));
    if !write_line(&writer, &ToEngine::Hello { key }) {
        return None;
    }
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    if !matches!(serde_json::from_str(&line), Ok(FromEngine::Welcome)) {
        eprintln!("kelp: the warm engine refused this kernel; starting a new one");
        return None;
    }
    reader.get_ref().set_read_timeout(None).ok()?;
    let remote = Remote {
        writer,
        pending: Arc::default(),
        next: AtomicU64::new(1),
        executing: Arc::default(),
        gone: Arc::default(),
    };
    let (pending, executing, gone, w) =
        (remote.pending.clone(), remote.executing.clone(), remote.gone.clone(), remote.writer.clone());
    std::thread::spawn(move || read_replies(reader, pending, executing, gone, w));
    Some(remote)
}

fn read_replies(
    reader: BufReader<UnixStream>,
    pending: Arc<Mutex<HashMap<u64, Pending>>>,
    executing: Arc<AtomicBool>,
    gone: Arc<Mutex<Option<String>>>,
    writer: Arc<Mutex<UnixStream>>,
) {
    for line in reader.lines() {
        let Ok(msg) = line.map_err(|_| ()).and_then(|l| serde_json::from_str::<FromEngine>(&l).map_err(|_| ())) else {
            break;
        };
        let mut p = crate::sync::lock(&pending);
        match msg {
            FromEngine::Event { id, event } => {
                if let Some(Pending::Exec { events, .. }) = p.get(&id) {
                    let _ = events.send(event);
                }
            }
            FromEngine::Ask { id, prompt, password } => {
                let (tx, rx) = std::sync::mpsc::channel();
                let asked = match p.get(&id) {
                    Some(Pending::Exec { input: Some(input), .. }) => {
                        input.send(InputAsk { prompt, password, answer: tx }).is_ok()
                    }
                    _ => false,
                };
                let w = writer.clone();
                std::thread::spawn(move || {
                    let text = if asked { rx.recv().unwrap_or_default() } else { String::new() };
                    write_line(&w, &ToEngine::Answer { id, text });
                });
            }
            FromEngine::Executed { id, result } => {
                if let Some(Pending::Exec { reply, .. }) = p.remove(&id) {
                    executing.store(false, Ordering::SeqCst);
                    let _ = reply.send(result);
                }
            }
            FromEngine::Completed { id, result } => {
                if let Some(Pending::Complete(reply)) = p.remove(&id) {
                    let _ = reply.send(result);
                }
            }
            FromEngine::Hovered { id, result } => {
                if let Some(Pending::Hover(reply)) = p.remove(&id) {
                    let _ = reply.send(result);
                }
            }
            FromEngine::Welcome => {}
        }
    }
    let why = "the warm Rust engine's process stopped (variables are lost); restart the kernel".to_string();
    *crate::sync::lock(&gone) = Some(why.clone());
    executing.store(false, Ordering::SeqCst);
    for (_, p) in crate::sync::lock(&pending).drain() {
        if let Pending::Exec { reply, .. } = p {
            let _ = reply.send(Err(EngineError::Died(why.clone())));
        }
    }
}

impl Remote {
    pub fn state(&self) -> EngineState {
        match crate::sync::lock(&self.gone).clone() {
            Some(why) => EngineState::Failed(why),
            None => EngineState::Ready,
        }
    }

    fn send(&self, make: impl FnOnce(u64) -> (ToEngine, Pending)) -> bool {
        let id = self.next.fetch_add(1, Ordering::SeqCst);
        let (msg, p) = make(id);
        if self.gone.lock().is_ok_and(|g| g.is_some()) {
            return false;
        }
        crate::sync::lock(&self.pending).insert(id, p);
        if write_line(&self.writer, &msg) {
            return true;
        }
        crate::sync::lock(&self.pending).remove(&id);
        false
    }

    pub async fn execute(&self, code: String, io: ExecIo) -> Result<BTreeMap<String, String>, EngineError> {
        let (tx, rx) = oneshot::channel();
        self.executing.store(true, Ordering::SeqCst);
        let input = io.input.is_some();
        let sent = self.send(|id| {
            (ToEngine::Execute { id, code, input }, Pending::Exec { events: io.events, input: io.input, reply: tx })
        });
        if !sent {
            self.executing.store(false, Ordering::SeqCst);
            return Err(EngineError::Unavailable(self.gone_text()));
        }
        rx.await.unwrap_or_else(|_| Err(EngineError::Died(self.gone_text())))
    }

    fn gone_text(&self) -> String {
        crate::sync::lock(&self.gone).clone().unwrap_or_else(|| "the warm Rust engine is gone".into())
    }

    pub async fn complete(&self, code: String, pos: usize) -> Option<(Vec<String>, usize, usize)> {
        let (tx, rx) = oneshot::channel();
        self.send(|id| (ToEngine::Complete { id, code, pos }, Pending::Complete(tx))).then_some(())?;
        rx.await.ok().flatten()
    }

    pub async fn hover(&self, code: String, pos: usize) -> Option<(String, String)> {
        let (tx, rx) = oneshot::channel();
        self.send(|id| (ToEngine::Hover { id, code, pos }, Pending::Hover(tx))).then_some(())?;
        rx.await.ok().flatten()
    }

    pub fn interrupt(&self) -> bool {
        self.executing.load(Ordering::SeqCst) && write_line(&self.writer, &ToEngine::Interrupt)
    }

    pub fn is_executing(&self) -> bool {
        self.executing.load(Ordering::SeqCst)
    }
}

/// Whether the pid in a spare's lock file is a live process.
pub fn lock_held(lock: &Path) -> bool {
    let pid = std::fs::read_to_string(lock).unwrap_or_default();
    let pid = pid.trim();
    !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()) && Path::new("/proc").join(pid).exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_only_variables_stay_out_of_the_key_and_the_spare() {
        for v in ["JPY_PARENT_PID", "JPY_SESSION_NAME", "KELP_RELAY_SECRET", "KELP_RELAY_URL", "KELP_STARTUP_LOG"] {
            assert!(kernel_only(v), "{v}");
        }
        for v in ["PATH", "KELP_HOME", "KELP_PRELUDE_EXTRA", "RUSTFLAGS", "AWS_REGION"] {
            assert!(!kernel_only(v), "{v}");
        }
    }

    #[test]
    fn messages_round_trip_as_one_line_each() {
        let m = FromEngine::Executed { id: 3, result: Err(EngineError::Compile(vec!["a\nb".into()])) };
        let text = serde_json::to_string(&m).unwrap();
        assert!(!text.contains('\n'));
        match serde_json::from_str(&text).unwrap() {
            FromEngine::Executed { id: 3, result: Err(EngineError::Compile(e)) } => assert_eq!(e, vec!["a\nb"]),
            other => panic!("{other:?}"),
        }
        let e =
            FromEngine::Event { id: 1, event: EngineEvent::Display { mime: "text/html".into(), data: "<b>".into() } };
        assert!(matches!(
            serde_json::from_str(&serde_json::to_string(&e).unwrap()).unwrap(),
            FromEngine::Event { id: 1, event: EngineEvent::Display { .. } }
        ));
    }

    #[test]
    fn a_lock_of_a_dead_process_is_not_held() {
        let dir = tempfile::tempdir().unwrap();
        let lock = dir.path().join("k.lock");
        assert!(!lock_held(&lock));
        std::fs::write(&lock, "999999999").unwrap();
        assert!(!lock_held(&lock));
        std::fs::write(&lock, std::process::id().to_string()).unwrap();
        assert!(lock_held(&lock));
        std::fs::write(&lock, "../1").unwrap();
        assert!(!lock_held(&lock));
    }
}
