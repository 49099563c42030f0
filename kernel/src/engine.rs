//! The evcxr engine on its own thread.
//!
//! evcxr's `CommandContext` is synchronous and single-owner, so one thread owns it and takes
//! jobs (execute, complete, hover) from a channel; the async side awaits the answers. The
//! context is created in the background when the kernel starts, so magic-only cells never
//! wait for it. The child process that holds the user's variables can be killed to interrupt
//! a cell; evcxr then restarts it (variables lost, and the error says so). The `kelp` prelude is
//! attached when a job first names it or the engine is idle ([`crate::prelude::Pending`]), so a
//! first cell that does not use it does not wait for rust-analyzer to reload the workspace.
//!
//! Output of user code ([`router`]): stdout/stderr lines are forwarded live as [`EngineEvent`]s. evcxr
//! display blocks printed while a cell runs arrive as `KELP_DISPLAY` lines (the child's stdout
//! filter, [`crate::display`]) and become displays; `KELP_CLEAR_OUTPUT` becomes a clear_output
//! (the `kelp` prelude module prints it). Each cell's final expression is marked
//! ([`crate::final_value`]) so that only its value becomes the cell's result.
//!
//! A kernel's engine may instead be a warm spare taken from another process ([`crate::warm`]);
//! [`Engine`] hides which. What crosses the engine's boundary (events, errors, state, input
//! prompts) is defined below both, in [`crate::engine_io`].

mod router;

use crate::engine_io::{EngineError, EngineState, ExecIo, InputAsk};
use router::{LineRouter, STDERR_WAIT, drain, forward, take_user_error, wait_for_stderr};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::oneshot;

/// How long completion and inspection wait for the engine (start-up, or a cell that runs).
const ASSIST_TIMEOUT: Duration = Duration::from_secs(30);

enum Job {
    Execute(String, ExecIo, oneshot::Sender<Result<BTreeMap<String, String>, EngineError>>),
    Complete(String, usize, oneshot::Sender<Option<(Vec<String>, usize, usize)>>),
    Hover(String, usize, oneshot::Sender<Option<(String, String)>>),
    /// Drop evcxr's context (its child exits, its temporary folder is removed), then answer.
    Stop(std::sync::mpsc::Sender<()>),
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
    /// Attach the prelude before the engine is ready (a spare engine), not when first needed.
    eager_prelude: bool,
}

impl Engine {
    /// A kernel's engine: a warm one taken from the pool ([`crate::warm`], when on and one is
    /// waiting), else [`Engine::start_local`] (prelude when needed). The start-up log says which.
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
                eager_prelude: false,
            };
        }
        Engine::start_local(false)
    }

    /// Start the engine thread; the evcxr context is created in the background. The prelude is
    /// attached when a job first needs it or the engine is idle ([`crate::prelude::Pending`]),
    /// or, with `eager_prelude` (a spare engine, which has the time), before it is ready.
    pub fn start_local(eager_prelude: bool) -> Engine {
        let (tx, rx) = std::sync::mpsc::channel::<Job>();
        let engine = Engine {
            jobs: tx,
            state: Arc::new(Mutex::new(EngineState::Starting)),
            child: Arc::new(Mutex::new(None)),
            executing: Arc::new(std::sync::atomic::AtomicBool::new(false)),
            remote: None,
            eager_prelude,
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
        let home = kelp_magic::Config::from_env().home;
        let (std_sources, std_deferred) = crate::std_src::point(&home);
        log.fact("std_sources", std_sources.name());
        let preparing = crate::prelude::Preparing::start(home);
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
        let mut cache = crate::run_cell::setup_cache();
        let mut session = crate::run_cell::Session::new(std_sources.arch_left_out());
        let mut prelude = crate::prelude::Pending::new(preparing, std_deferred);
        if self.eager_prelude {
            prelude.attach(&mut ctx, &mut log);
        }
        log.ready();
        self.set_state(EngineState::Ready);
        while let Some(job) = prelude.next_job(&rx, &mut ctx, &mut log) {
            match job {
                Job::Execute(code, io, reply) => {
                    let first = prelude.attach_if_needed(&code, false, &mut ctx, &mut log);
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
                    let result = crate::run_cell::run(
                        &mut ctx,
                        &mut session,
                        cache.as_mut(),
                        &code,
                        first.as_deref(),
                        &mut callbacks,
                    );
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
                    let _ = prelude.attach_if_needed(&code, true, &mut ctx, &mut log);
                    let r = ctx
                        .completions(&code, pos)
                        .ok()
                        .map(|c| (c.completions.into_iter().map(|c| c.code).collect(), c.start_offset, c.end_offset));
                    let _ = reply.send(r);
                }
                Job::Hover(code, pos, reply) => {
                    let _ = prelude.attach_if_needed(&code, true, &mut ctx, &mut log);
                    let _ = reply.send(ctx.hover_at(&code, pos).ok());
                }
                Job::Stop(done) => {
                    drop(cache);
                    drop(ctx);
                    let _ = done.send(());
                    return;
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

    /// Stop the engine for good (kernel shutdown): a running cell's child is killed, then evcxr's
    /// context is dropped on the engine thread, so its child exits and its temporary folder is
    /// removed. Waits at most `within`; false if the engine did not stop by then (still
    /// starting, or compiling a cell). A warm engine's process exits by itself when this
    /// process's connection closes.
    pub fn stop(&self, within: Duration) -> bool {
        if self.remote.is_some() {
            return true;
        }
        self.interrupt();
        let (tx, rx) = std::sync::mpsc::channel();
        if self.jobs.send(Job::Stop(tx)).is_err() {
            return true;
        }
        !matches!(rx.recv_timeout(within), Err(std::sync::mpsc::RecvTimeoutError::Timeout))
    }

    /// Whether a cell is running.
    pub fn is_executing(&self) -> bool {
        match &self.remote {
            Some(r) => r.is_executing(),
            None => self.executing.load(std::sync::atomic::Ordering::SeqCst),
        }
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
        Job::Stop(done) => {
            let _ = done.send(());
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
