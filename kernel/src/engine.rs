//! The evcxr engine on its own thread.
//!
//! evcxr's `CommandContext` is synchronous and single-owner, so one thread owns it and takes
//! jobs (execute, complete, hover) from a channel; the async side awaits the answers. The
//! context is created in the background when the kernel starts, so magic-only cells never
//! wait for it. The child process that holds the user's variables can be killed to interrupt
//! a cell; evcxr then restarts it (variables lost, and the error says so).
//!
//! Output of user code: stdout/stderr lines are forwarded live as [`EngineEvent`]s. evcxr
//! display blocks printed while a cell runs arrive as `KELP_DISPLAY` lines (the child's stdout
//! filter, [`crate::display`]) and become displays; `KELP_CLEAR_OUTPUT` becomes a clear_output
//! (the `kelp` prelude module prints it). Each cell's final expression is marked
//! ([`crate::final_value`]) so that only its value becomes the cell's result.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// Something user code produced while running.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum EngineEvent {
    Stdout(String),
    Stderr(String),
    Display {
        mime: String,
        data: String,
    },
    ClearOutput {
        wait: bool,
    },
    /// A value asked for by `{var}` in a magic line (`kelp::value`).
    Value(String),
}

/// Why Rust code did not produce a result.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub enum EngineError {
    /// rustc rejected the code: rendered diagnostics, one string each.
    Compile(Vec<String>),
    /// The code ran and failed (panic, `?` error), or evcxr refused it.
    Runtime(String),
    /// The code panicked; evcxr caught it (variables from before the cell are kept).
    Panic(String),
    /// The child process died; evcxr restarted it and the variables are gone.
    Died(String),
    /// The engine could not start (no cargo/rustc, …).
    Unavailable(String),
}

/// A prompt from user code (`evcxr_input`), answered through the stdin channel.
pub struct InputAsk {
    pub prompt: String,
    pub password: bool,
    pub answer: std::sync::mpsc::Sender<String>,
}

/// Where one execution sends its side output and input prompts.
pub struct ExecIo {
    pub events: mpsc::UnboundedSender<EngineEvent>,
    pub input: Option<mpsc::UnboundedSender<InputAsk>>,
}

/// How long completion and inspection wait for the engine (start-up, or a cell that runs).
const ASSIST_TIMEOUT: Duration = Duration::from_secs(30);

enum Job {
    Execute(String, ExecIo, oneshot::Sender<Result<BTreeMap<String, String>, EngineError>>),
    Complete(String, usize, oneshot::Sender<Option<(Vec<String>, usize, usize)>>),
    Hover(String, usize, oneshot::Sender<Option<(String, String)>>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum EngineState {
    Starting,
    Ready,
    Failed(String),
}

/// Handle to the engine thread. Cheap to clone.
#[derive(Clone)]
pub struct Engine {
    jobs: std::sync::mpsc::Sender<Job>,
    state: Arc<Mutex<EngineState>>,
    child: Arc<Mutex<Option<Arc<Mutex<std::process::Child>>>>>,
    executing: Arc<std::sync::atomic::AtomicBool>,
    /// A warm engine taken from another process ([`crate::warm`]), used instead of the thread.
    remote: Option<Arc<crate::warm::Remote>>,
}

struct LineRouter {
    target: Option<mpsc::UnboundedSender<EngineEvent>>,
    /// stderr: the report of a panic of the cell's own (main) thread, being read.
    panic: Option<Vec<String>>,
    /// stderr: a finished panic report of the current execution.
    panicked: Option<String>,
    /// stderr: blank lines held back until the next line says whether a panic report follows.
    blank: usize,
    /// stdout: the cell's `?` returned an error (evcxr printed it to stderr).
    user_error: bool,
    /// stderr: the execution's last lines, the text of such an error.
    recent: std::collections::VecDeque<(std::time::Instant, String)>,
    /// stdout: the child ran code in this execution ([`crate::display::RAN`]).
    ran: bool,
    /// stderr: the child's end-of-execution mark arrived ([`crate::display::STDERR_SYNC`]).
    synced: bool,
}

/// How many of an execution's last stderr lines are kept for a `?` error's text.
const RECENT_LINES: usize = 20;

impl LineRouter {
    fn new() -> Self {
        LineRouter {
            target: None,
            panic: None,
            panicked: None,
            blank: 0,
            user_error: false,
            recent: Default::default(),
            ran: false,
            synced: false,
        }
    }

    /// stderr lines: a panic report is kept for the cell's error, not streamed. User code
    /// runs in a `dlopen`ed library with its own copy of std, so every thread of it reports as
    /// `'<unnamed>'`: any panic report during a cell is taken as the cell's panic.
    fn stderr(&mut self, line: String) {
        if line == crate::display::STDERR_SYNC {
            self.synced = true;
            return;
        }
        if let Some(buf) = &mut self.panic {
            if line.starts_with("note: ") && line.contains("RUST_BACKTRACE") {
                self.panicked = Some(buf.join("\n"));
                self.panic = None;
            } else {
                buf.push(line);
            }
            return;
        }
        if is_panic_header(&line) {
            self.blank = 0;
            self.panic = Some(vec![line]);
            return;
        }
        if line.trim().is_empty() {
            self.blank += 1;
            return;
        }
        if self.recent.len() == RECENT_LINES {
            self.recent.pop_front();
        }
        self.recent.push_back((std::time::Instant::now(), line.clone()));
        let text = "\n".repeat(std::mem::take(&mut self.blank)) + &line + "\n";
        if let Some(t) = &self.target {
            let _ = t.send(EngineEvent::Stderr(text));
        }
    }

    /// End of an execution: held blank lines go out (they were not a panic's).
    fn flush_blank(&mut self) {
        let n = std::mem::take(&mut self.blank);
        if let (true, Some(t)) = (n > 0, &self.target) {
            let _ = t.send(EngineEvent::Stderr("\n".repeat(n)));
        }
    }
}

impl LineRouter {
    fn stdout(&mut self, line: String) {
        if line == crate::display::RAN {
            self.ran = true;
            return;
        }
        let ev = if let Some(l) = crate::display::decode(&line) {
            match l {
                crate::display::Line::Display { mime, data } => Some(EngineEvent::Display { mime, data }),
                crate::display::Line::Text(t) => Some(EngineEvent::Stdout(t + "\n")),
                crate::display::Line::ResultMarker => None,
                crate::display::Line::UserError => {
                    self.user_error = true;
                    None
                }
            }
        } else if let Some(v) = line.strip_prefix("KELP_VALUE ") {
            Some(EngineEvent::Value(crate::display::unescape(v)))
        } else if let Some(arg) = line.strip_prefix("KELP_CLEAR_OUTPUT") {
            Some(EngineEvent::ClearOutput { wait: arg.trim() == "wait" })
        } else {
            Some(EngineEvent::Stdout(line + "\n"))
        };
        if let (Some(ev), Some(t)) = (ev, &self.target) {
            let _ = t.send(ev);
        }
    }
}

/// After an execution (both routers drained): the text of the error the cell's `?` returned,
/// if it did. Resets both routers for the next execution.
fn take_user_error(out: &Mutex<LineRouter>, err: &Mutex<LineRouter>) -> Option<String> {
    let failed = std::mem::take(&mut out.lock().unwrap_or_else(|e| e.into_inner()).user_error);
    let recent = std::mem::take(&mut err.lock().unwrap_or_else(|e| e.into_inner()).recent);
    failed.then(|| user_error_text(recent.into()))
}

/// evcxr prints a `?` error with one `eprintln!` as the cell's last stderr output: the last
/// lines that arrived together (within 100 ms of the last one) are its text.
fn user_error_text(recent: Vec<(std::time::Instant, String)>) -> String {
    let Some(last) = recent.last().map(|r| r.0) else { return "the cell's `?` returned an error".into() };
    let from = recent.iter().position(|(t, _)| last.duration_since(*t) <= Duration::from_millis(100)).unwrap_or(0);
    recent[from..].iter().map(|(_, l)| l.as_str()).collect::<Vec<_>>().join("\n")
}

/// `thread '<name>' panicked at …` or `thread '<name>' (<tid>) panicked at …`.
fn is_panic_header(line: &str) -> bool {
    line.starts_with("thread '") && (line.contains("' panicked at ") || line.contains(") panicked at "))
}

/// Forward lines from `rx` through `router` until the channel closes. Lines are taken from the
/// channel only while the lock is held (waiting for the next one does not hold it), so whoever
/// takes the lock sees every earlier line handled, without waiting out a poll.
fn forward(rx: crossbeam_channel::Receiver<String>, router: Arc<Mutex<LineRouter>>, stderr: bool) {
    loop {
        let mut waiting = crossbeam_channel::Select::new();
        waiting.recv(&rx);
        waiting.ready();
        let mut r = router.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            match rx.try_recv() {
                Ok(line) => route(&mut r, line, stderr),
                Err(crossbeam_channel::TryRecvError::Empty) => break,
                Err(crossbeam_channel::TryRecvError::Disconnected) => return,
            }
        }
    }
}

fn route(r: &mut LineRouter, line: String, stderr: bool) {
    if stderr { r.stderr(line) } else { r.stdout(line) }
}

/// The longest wait for the child's stderr mark after it ran code (a loaded machine).
const STDERR_WAIT: Duration = Duration::from_secs(2);

/// The child ran code: wait (at most `within`) until its stderr mark is routed, so all the cell's
/// stderr lines (a pipe of their own) are in before the reply.
fn wait_for_stderr(rx: &crossbeam_channel::Receiver<String>, router: &Mutex<LineRouter>, within: Duration) -> bool {
    let end = std::time::Instant::now() + within;
    loop {
        {
            let mut r = router.lock().unwrap_or_else(|e| e.into_inner());
            while let Ok(line) = rx.try_recv() {
                route(&mut r, line, true);
            }
            if r.synced {
                return true;
            }
        }
        if std::time::Instant::now() >= end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Take the router (waiting out a line in flight), handle what is still queued, and detach it
/// from the finished execution. Returns the report of a panic of the cell, if there was one.
fn drain(rx: &crossbeam_channel::Receiver<String>, router: &Mutex<LineRouter>, stderr: bool) -> Option<String> {
    let mut r = router.lock().unwrap_or_else(|e| e.into_inner());
    while let Ok(line) = rx.try_recv() {
        route(&mut r, line, stderr);
    }
    r.flush_blank();
    r.target = None;
    if let Some(buf) = r.panic.take() {
        r.panicked = Some(buf.join("\n"));
    }
    r.panicked.take()
}

impl Engine {
    /// A kernel's engine: a warm one taken from the pool ([`crate::warm`], when on and one is
    /// waiting), else [`Engine::start_local`]. The start-up log says which.
    pub fn start() -> Engine {
        let t = std::time::Instant::now();
        if let Some(remote) = crate::warm::take() {
            let mut log = crate::startup::Log::new();
            log.warm(t.elapsed());
            let (tx, _) = std::sync::mpsc::channel::<Job>();
            return Engine {
                jobs: tx,
                state: Arc::new(Mutex::new(EngineState::Ready)),
                child: Arc::new(Mutex::new(None)),
                executing: Arc::new(std::sync::atomic::AtomicBool::new(false)),
                remote: Some(Arc::new(remote)),
            };
        }
        Engine::start_local()
    }

    /// Start the engine thread; the evcxr context is created in the background.
    pub fn start_local() -> Engine {
        let (tx, rx) = std::sync::mpsc::channel::<Job>();
        let engine = Engine {
            jobs: tx,
            state: Arc::new(Mutex::new(EngineState::Starting)),
            child: Arc::new(Mutex::new(None)),
            executing: Arc::new(std::sync::atomic::AtomicBool::new(false)),
            remote: None,
        };
        let e = engine.clone();
        std::thread::Builder::new()
            .name("kelp-engine".into())
            .spawn(move || e.run(rx))
            .expect("spawning the engine thread");
        engine
    }

    pub fn state(&self) -> EngineState {
        if let Some(r) = &self.remote {
            return r.state();
        }
        self.state.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn set_state(&self, s: EngineState) {
        *self.state.lock().unwrap_or_else(|e| e.into_inner()) = s;
    }

    fn run(&self, rx: std::sync::mpsc::Receiver<Job>) {
        let mut log = crate::startup::Log::new();
        // The prelude is made alongside evcxr's start (crate::prelude).
        let preparing = crate::prelude::Preparing::start(kelp_magic::Config::from_env().home);
        let t = std::time::Instant::now();
        let (mut ctx, outputs) = match evcxr::CommandContext::new() {
            Ok(x) => x,
            Err(e) => {
                let msg = format!("the Rust engine (evcxr) could not start: {e}");
                eprintln!("kelp: {msg}");
                self.set_state(EngineState::Failed(msg.clone()));
                for job in rx {
                    reply_unavailable(job, &msg);
                }
                return;
            }
        };
        log.step("evcxr_context", t.elapsed());
        *self.child.lock().unwrap_or_else(|e| e.into_inner()) = Some(ctx.process_handle());
        let out_router = Arc::new(Mutex::new(LineRouter::new()));
        let err_router = Arc::new(Mutex::new(LineRouter::new()));
        {
            let (o, r) = (outputs.stdout.clone(), out_router.clone());
            std::thread::spawn(move || forward(o, r, false));
            let (o, r) = (outputs.stderr.clone(), err_router.clone());
            std::thread::spawn(move || forward(o, r, true));
        }
        let mut cache = crate::run_cell::setup_cache(&mut ctx);
        crate::prelude::attach(&mut ctx, preparing, &mut log);
        log.ready();
        self.set_state(EngineState::Ready);
        for job in rx {
            match job {
                Job::Execute(code, io, reply) => {
                    for r in [&out_router, &err_router] {
                        let mut r = r.lock().unwrap_or_else(|e| e.into_inner());
                        r.target = Some(io.events.clone());
                        (r.ran, r.synced) = (false, false);
                    }
                    self.executing.store(true, std::sync::atomic::Ordering::SeqCst);
                    let input = io.input.clone();
                    let mut callbacks = evcxr::EvalCallbacks {
                        input_reader: &|req| {
                            let Some(input) = &input else { return String::new() };
                            let (tx, rx) = std::sync::mpsc::channel();
                            let ask = InputAsk { prompt: req.prompt, password: req.is_password, answer: tx };
                            if input.send(ask).is_err() {
                                return String::new();
                            }
                            rx.recv().unwrap_or_default()
                        },
                    };
                    let t = std::time::Instant::now();
                    let result = crate::run_cell::run(&mut ctx, cache.as_mut(), &code, &mut callbacks);
                    log.cell(&result, t.elapsed());
                    self.executing.store(false, std::sync::atomic::Ordering::SeqCst);
                    // The child may have been restarted: keep the handle current for interrupts.
                    *self.child.lock().unwrap_or_else(|e| e.into_inner()) = Some(ctx.process_handle());
                    drain(&outputs.stdout, &out_router, false);
                    if out_router.lock().unwrap_or_else(|e| e.into_inner()).ran {
                        wait_for_stderr(&outputs.stderr, &err_router, STDERR_WAIT);
                    }
                    let panic = drain(&outputs.stderr, &err_router, true);
                    let user_error = take_user_error(&out_router, &err_router);
                    let result = match (convert(result), panic, user_error) {
                        (Ok(_), Some(report), _) => Err(EngineError::Panic(report)),
                        (Ok(_), None, Some(text)) => Err(EngineError::Runtime(text)),
                        (r, _, _) => r,
                    };
                    let _ = reply.send(result);
                }
                Job::Complete(code, pos, reply) => {
                    let r = ctx
                        .completions(&code, pos)
                        .ok()
                        .map(|c| (c.completions.into_iter().map(|c| c.code).collect(), c.start_offset, c.end_offset));
                    let _ = reply.send(r);
                }
                Job::Hover(code, pos, reply) => {
                    let _ = reply.send(ctx.hover_at(&code, pos).ok());
                }
            }
        }
    }

    /// Run Rust code; side output goes to `io` as it happens. Returns the MIME bundle of the
    /// cell's value (empty when the last statement has no value).
    pub async fn execute(&self, code: String, io: ExecIo) -> Result<BTreeMap<String, String>, EngineError> {
        if let Some(r) = &self.remote {
            return r.execute(code, io).await;
        }
        let (tx, rx) = oneshot::channel();
        if self.jobs.send(Job::Execute(code, io, tx)).is_err() {
            return Err(EngineError::Unavailable("the Rust engine thread is gone".into()));
        }
        rx.await.unwrap_or_else(|_| Err(EngineError::Unavailable("the Rust engine thread stopped".into())))
    }

    /// Completions at byte offset `pos`: (candidates, start, end), or None if the engine is not
    /// ready or has nothing.
    pub async fn complete(&self, code: String, pos: usize) -> Option<(Vec<String>, usize, usize)> {
        if matches!(self.state(), EngineState::Failed(_)) {
            return None;
        }
        if let Some(r) = &self.remote {
            return tokio::time::timeout(ASSIST_TIMEOUT, r.complete(code, pos)).await.ok().flatten();
        }
        let (tx, rx) = oneshot::channel();
        self.jobs.send(Job::Complete(code, pos, tx)).ok()?;
        // Queued behind start-up or a running cell; give up rather than stall the frontend.
        tokio::time::timeout(ASSIST_TIMEOUT, rx).await.ok()?.ok().flatten()
    }

    /// Hover text (plain, html) at byte offset `pos`.
    pub async fn hover(&self, code: String, pos: usize) -> Option<(String, String)> {
        if matches!(self.state(), EngineState::Failed(_)) {
            return None;
        }
        if let Some(r) = &self.remote {
            return tokio::time::timeout(ASSIST_TIMEOUT, r.hover(code, pos)).await.ok().flatten();
        }
        let (tx, rx) = oneshot::channel();
        self.jobs.send(Job::Hover(code, pos, tx)).ok()?;
        tokio::time::timeout(ASSIST_TIMEOUT, rx).await.ok()?.ok().flatten()
    }

    /// Interrupt running Rust code by killing the child process (evcxr restarts it; variables
    /// are lost). Returns whether anything was running.
    pub fn interrupt(&self) -> bool {
        if let Some(r) = &self.remote {
            return r.interrupt();
        }
        if !self.executing.load(std::sync::atomic::Ordering::SeqCst) {
            return false;
        }
        if let Some(child) = self.child.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            let _ = child.lock().unwrap_or_else(|e| e.into_inner()).kill();
            return true;
        }
        false
    }
}

fn reply_unavailable(job: Job, msg: &str) {
    match job {
        Job::Execute(_, _, r) => {
            let _ = r.send(Err(EngineError::Unavailable(msg.to_string())));
        }
        Job::Complete(_, _, r) => {
            let _ = r.send(None);
        }
        Job::Hover(_, _, r) => {
            let _ = r.send(None);
        }
    }
}

fn convert(r: Result<evcxr::EvalOutputs, evcxr::Error>) -> Result<BTreeMap<String, String>, EngineError> {
    match r {
        Ok(out) => Ok(out.content_by_mime_type.into_iter().collect()),
        Err(evcxr::Error::CompilationErrors(errors)) => {
            Err(EngineError::Compile(errors.iter().map(|e| e.rendered()).collect()))
        }
        Err(evcxr::Error::SubprocessTerminated(m)) => Err(EngineError::Died(m)),
        Err(evcxr::Error::TypeRedefinedVariablesLost(v)) => {
            Err(EngineError::Runtime(format!("a type was redefined, so these variables were lost: {}", v.join(", "))))
        }
        Err(e) => Err(EngineError::Runtime(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn router_turns_markers_into_events() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let mut r = LineRouter::new();
        r.target = Some(tx);
        for l in ["hi", "KELP_DISPLAY text/html <b>x</b>\\n<i>y</i>", "KELP_RESULT_FOLLOWS", "KELP_CLEAR_OUTPUT wait"] {
            r.stdout(l.to_string());
        }
        assert_eq!(rx.try_recv().unwrap(), EngineEvent::Stdout("hi\n".into()));
        assert_eq!(
            rx.try_recv().unwrap(),
            EngineEvent::Display { mime: "text/html".into(), data: "<b>x</b>\n<i>y</i>".into() }
        );
        assert_eq!(rx.try_recv().unwrap(), EngineEvent::ClearOutput { wait: true });
        assert!(rx.try_recv().is_err());
        r.stdout(r"KELP_VALUE a\\b\nc".to_string());
        assert_eq!(rx.try_recv().unwrap(), EngineEvent::Value("a\\b\nc".into()));
    }

    #[test]
    fn a_question_mark_error_is_the_cells_error_with_its_last_stderr_lines() {
        let (out, err) = (Mutex::new(LineRouter::new()), Mutex::new(LineRouter::new()));
        err.lock().unwrap().stderr("progress 1".into());
        assert_eq!(take_user_error(&out, &err), None);
        let old = std::time::Instant::now() - Duration::from_secs(2);
        let lines = vec![(old, "progress 2".to_string()), (std::time::Instant::now(), "no file".into())];
        assert_eq!(user_error_text(lines), "no file");
        err.lock().unwrap().stderr("Error: bad".into());
        err.lock().unwrap().stderr("caused by: x".into());
        out.lock().unwrap().stdout("KELP_USER_ERROR".into());
        assert_eq!(take_user_error(&out, &err).unwrap(), "Error: bad\ncaused by: x");
        // Reset for the next execution.
        assert_eq!(take_user_error(&out, &err), None);
    }

    #[test]
    fn drain_sees_every_line_the_forwarder_took_in_order() {
        let (lines, rx) = crossbeam_channel::unbounded();
        let router = Arc::new(Mutex::new(LineRouter::new()));
        let (tx, mut events) = mpsc::unbounded_channel();
        router.lock().unwrap().target = Some(tx);
        let (r, rx2) = (router.clone(), rx.clone());
        std::thread::spawn(move || forward(rx2, r, false));
        for i in 0..2000 {
            lines.send(format!("line {i}")).unwrap();
        }
        drain(&rx, &router, false);
        for i in 0..2000 {
            assert_eq!(events.try_recv().unwrap(), EngineEvent::Stdout(format!("line {i}\n")));
        }
        assert!(router.lock().unwrap().target.is_none());
    }

    #[test]
    fn the_stderr_mark_waits_for_a_late_line_and_is_not_shown() {
        let (lines, rx) = crossbeam_channel::unbounded();
        let router = Arc::new(Mutex::new(LineRouter::new()));
        let (tx, mut events) = mpsc::unbounded_channel();
        router.lock().unwrap().target = Some(tx);
        let late = lines.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            late.send("some error".to_string()).unwrap();
            late.send(crate::display::STDERR_SYNC.to_string()).unwrap();
        });
        assert!(wait_for_stderr(&rx, &router, Duration::from_secs(5)));
        drain(&rx, &router, true);
        assert_eq!(events.try_recv().unwrap(), EngineEvent::Stderr("some error\n".into()));
        assert!(events.try_recv().is_err(), "the mark itself is not output");
        router.lock().unwrap().synced = false; // no mark: give up after the wait
        assert!(!wait_for_stderr(&rx, &router, Duration::from_millis(20)));
        drop(lines);
    }

    #[test]
    fn main_thread_panic_is_kept_for_the_error() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let mut r = LineRouter::new();
        r.target = Some(tx);
        for l in [
            "warn",
            "",
            "thread '<unnamed>' (20290) panicked at src/lib.rs:3:5:",
            "boom",
            "stack backtrace:",
            "  0: f",
            "note: Some details are omitted, run with `RUST_BACKTRACE=full` for a verbose backtrace.",
            "after",
        ] {
            r.stderr(l.to_string());
        }
        assert_eq!(rx.try_recv().unwrap(), EngineEvent::Stderr("warn\n".into()));
        assert_eq!(rx.try_recv().unwrap(), EngineEvent::Stderr("after\n".into()));
        let report = r.panicked.clone().unwrap();
        assert!(report.starts_with("thread '<unnamed>' (20290) panicked at src/lib.rs:3:5:\nboom\nstack backtrace:"));
        assert!(is_panic_header("thread 'main' panicked at a.rs:1:1:"));
        assert!(!is_panic_header("the thread panicked"));
    }
}
