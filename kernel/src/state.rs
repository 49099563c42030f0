//! The state one running kernel shares between its tasks (shell, control and stdin loops, the
//! executor, completion and inspection): the channels' send halves, the engine, history, comms,
//! the execution counter, the queue of waiting cells, interrupts and the stop signal.
//!
//! Fields are private to this module; callers say what they do (`admit` a cell, `begin` and
//! `end` an execution, `interrupt`, `stop`), so the bookkeeping rules live here in one place:
//! - the queue is bounded ([`MaxQueued`]): only the shell loop admits, so the check and the add
//!   cannot race; the executor marks each cell taken, and a cell admitted before an interrupt is
//!   stale (aborted, not run);
//! - at most [`MAX_ASSISTS`] complete/inspect requests wait for the engine at once;
//! - an interrupt bumps the interrupt count, cancels the running magic, kills the Rust child and
//!   releases an input prompt (in that order; see [`Kernel::interrupt`]).

use crate::comms::Comms;
use crate::engine::Engine;
use crate::engine_io::EngineState;
use crate::history::{History, HistoryQuery};
use crate::request::Execute;
use crate::sink::KernelSink;
use crate::sync::lock;
use crate::transport::{IoPub, Replier};
use jupyter_protocol::JupyterMessage;
use kelp_magic::{CancelToken, Config, EnvVars, MagicContext, Registry};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio_util::sync::CancellationToken;

/// complete/inspect requests answered at once; more are refused until some finish (while a
/// long cell runs each waits for the engine, so a flood would otherwise pile up tasks and jobs).
pub(crate) const MAX_ASSISTS: usize = 32;

/// The send halves of the channels a kernel answers on.
pub(crate) struct Senders {
    pub(crate) iopub: IoPub,
    pub(crate) shell: Replier,
    pub(crate) control: Replier,
    pub(crate) stdin: Replier,
}

/// State shared by every task of one kernel.
pub(crate) struct Kernel {
    iopub: IoPub,
    shell: Replier,
    control: Replier,
    stdin: Replier,
    registry: Registry,
    engine: Engine,
    history: Mutex<History>,
    comms: Mutex<Comms>,
    execution_count: AtomicI64,
    executing: AtomicBool,
    /// Set by an interrupt while a cell runs; read by the executor to word the error.
    interrupted: AtomicBool,
    cancel: Mutex<CancelToken>,
    env: EnvVars,
    config: Config,
    cwd: PathBuf,
    /// The answer channel of the input_request in flight, if any.
    pending_input: Mutex<Option<std::sync::mpsc::Sender<String>>>,
    queue: Queue,
    /// complete/inspect requests being answered.
    assists: AtomicUsize,
    /// Cancelled by a shutdown_request: the loops stop taking requests.
    stop: CancellationToken,
}

/// An admitted `execute_request`, with the interrupt count when it arrived.
pub(crate) struct Queued {
    pub(crate) msg: JupyterMessage,
    pub(crate) request: Execute,
    interrupts: u64,
}

/// What one execution started with ([`Kernel::begin`]).
pub(crate) struct Started {
    pub(crate) count: i64,
    pub(crate) cancel: CancelToken,
}

impl Kernel {
    pub(crate) fn new(senders: Senders, engine: Engine) -> Kernel {
        let Senders { iopub, shell, control, stdin } = senders;
        Kernel {
            iopub,
            shell,
            control,
            stdin,
            registry: crate::magics::registry(),
            engine,
            history: Mutex::new(History::default()),
            comms: Mutex::new(Comms::default()),
            execution_count: AtomicI64::new(0),
            executing: AtomicBool::new(false),
            interrupted: AtomicBool::new(false),
            cancel: Mutex::new(CancelToken::new()),
            env: EnvVars::default(),
            config: Config::from_env(),
            cwd: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
            pending_input: Mutex::new(None),
            queue: Queue::new(MaxQueued::from_env()),
            assists: AtomicUsize::new(0),
            stop: CancellationToken::new(),
        }
    }

    pub(crate) fn iopub(&self) -> &IoPub {
        &self.iopub
    }
    pub(crate) fn shell(&self) -> &Replier {
        &self.shell
    }
    pub(crate) fn control(&self) -> &Replier {
        &self.control
    }
    pub(crate) fn stdin(&self) -> &Replier {
        &self.stdin
    }
    pub(crate) fn registry(&self) -> &Registry {
        &self.registry
    }
    pub(crate) fn engine(&self) -> &Engine {
        &self.engine
    }
    pub(crate) fn cwd(&self) -> &Path {
        &self.cwd
    }
    pub(crate) fn home(&self) -> &Path {
        &self.config.home
    }

    /// The count of the last cell that stored history.
    pub(crate) fn execution_count(&self) -> i64 {
        self.execution_count.load(Ordering::SeqCst)
    }

    // ---- the queue of execute_requests ----

    /// Admit an `execute_request` to the queue, or give it back if the queue is full. Only the
    /// shell loop calls this, so the check and the add cannot race.
    pub(crate) fn admit(&self, msg: JupyterMessage, request: Execute) -> Result<Queued, Box<JupyterMessage>> {
        match self.queue.admit() {
            Some(interrupts) => Ok(Queued { msg, request, interrupts }),
            None => Err(Box::new(msg)),
        }
    }

    /// The executor took `q` (or it was never handed over): it no longer waits. True if no
    /// interrupt came since it was admitted (it may run).
    pub(crate) fn take(&self, q: &Queued) -> bool {
        self.queue.take(q.interrupts)
    }

    /// The one-line `evalue` of a refused `execute_request`.
    pub(crate) fn busy_message(&self) -> String {
        self.queue.max.busy_message()
    }

    // ---- completion and inspection ----

    /// Count a complete/inspect request in; false if [`MAX_ASSISTS`] already wait.
    pub(crate) fn begin_assist(&self) -> bool {
        if self.assists.load(Ordering::SeqCst) >= MAX_ASSISTS {
            return false;
        }
        self.assists.fetch_add(1, Ordering::SeqCst);
        true
    }

    pub(crate) fn end_assist(&self) {
        self.assists.fetch_sub(1, Ordering::SeqCst);
    }

    // ---- one execution ----

    /// A cell starts: its execution count (a new one if it stores history, which records its
    /// input), a fresh cancel token, and no interrupt yet.
    pub(crate) fn begin(&self, req: &Execute) -> Started {
        let store = req.stores_history();
        let count = if store {
            self.execution_count.fetch_add(1, Ordering::SeqCst) + 1
        } else {
            self.execution_count.load(Ordering::SeqCst)
        };
        if store {
            lock(&self.history).push(count, &req.code);
        }
        let cancel = CancelToken::new();
        *lock(&self.cancel) = cancel.clone();
        self.interrupted.store(false, Ordering::SeqCst);
        self.executing.store(true, Ordering::SeqCst);
        Started { count, cancel }
    }

    /// The cell ended; its text/plain result (if any) becomes its history output.
    pub(crate) fn end(&self, count: i64, result_text: Option<&str>) {
        self.executing.store(false, Ordering::SeqCst);
        if let Some(t) = result_text {
            lock(&self.history).set_output(count, t);
        }
    }

    /// Whether an interrupt came while the current cell ran.
    pub(crate) fn was_interrupted(&self) -> bool {
        self.interrupted.load(Ordering::SeqCst)
    }

    /// What a magic of the cell answering `parent` runs with.
    pub(crate) fn magic_context(&self, parent: &JupyterMessage, cancel: CancelToken) -> MagicContext {
        MagicContext {
            cwd: self.cwd.clone(),
            config: self.config.clone(),
            sink: Arc::new(KernelSink { iopub: self.iopub.clone(), parent: parent.clone() }),
            cancel,
            env: self.env.clone(),
        }
    }

    /// User code asks for input: `answer` gets the frontend's `input_reply` (or "" on interrupt).
    pub(crate) fn await_input(&self, answer: std::sync::mpsc::Sender<String>) {
        *lock(&self.pending_input) = Some(answer);
    }

    /// The frontend's `input_reply`: to the prompt in flight, if any.
    pub(crate) fn answer_input(&self, value: String) {
        if let Some(tx) = lock(&self.pending_input).take() {
            let _ = tx.send(value);
        }
    }

    /// Stop what runs: the magic's cancel token, and the Rust child if Rust code runs; cells
    /// admitted before this interrupt are stale.
    pub(crate) fn interrupt(&self) {
        self.queue.interrupt();
        if self.executing.load(Ordering::SeqCst) {
            self.interrupted.store(true, Ordering::SeqCst);
        }
        lock(&self.cancel).cancel();
        // Kill the Rust child before releasing an input it waits for: released first, the child
        // could finish the cell with the empty answer, and its death would then be reported by
        // the next, innocent cell ("the Rust process died").
        self.engine.interrupt();
        self.answer_input(String::new());
    }

    // ---- history and comms ----

    pub(crate) fn history(&self, q: &HistoryQuery) -> Vec<Value> {
        lock(&self.history).query(q)
    }

    /// Register a comm the frontend opened; false if its target is unknown.
    pub(crate) fn comm_open(&self, comm_id: &str, target: &str) -> bool {
        lock(&self.comms).open(comm_id, target)
    }

    pub(crate) fn comm_close(&self, comm_id: &str) {
        lock(&self.comms).close(comm_id)
    }

    pub(crate) fn comm_target(&self, comm_id: &str) -> Option<String> {
        lock(&self.comms).target_of(comm_id).map(str::to_string)
    }

    pub(crate) fn comm_info(&self, target: Option<&str>) -> Value {
        lock(&self.comms).info(target)
    }

    /// The `kelp.kernel` comm's answer to `{"request": "status"}`.
    pub(crate) fn status(&self) -> Value {
        json!({
            "request": "status",
            "execution_state": if self.executing.load(Ordering::SeqCst) { "busy" } else { "idle" },
            "execution_count": self.execution_count(),
            "queued": self.queue.waiting.load(Ordering::SeqCst),
            "max_queued": self.queue.max.0,
            "engine": match self.engine.state() {
                EngineState::Starting => "starting".to_string(),
                EngineState::Ready => "ready".to_string(),
                EngineState::Failed(e) => format!("failed: {e}"),
            },
        })
    }

    // ---- replies and shutdown ----

    /// Answer a request at once, without running anything: `reply` framed by busy/idle, after
    /// `error` on iopub if given (so frontends show why a cell did not run).
    pub(crate) async fn answer_at_once(
        &self,
        msg: &JupyterMessage,
        reply_type: &str,
        reply: Value,
        error: Option<Value>,
    ) {
        self.iopub.status(msg, "busy");
        if let Some(error) = error {
            self.iopub.send(msg, "error", error);
        }
        self.shell.reply(msg, reply_type, reply).await;
        self.iopub.status(msg, "idle");
    }

    /// Ask every loop to stop taking requests (a shutdown_request was answered).
    pub(crate) fn stop(&self) {
        self.stop.cancel();
    }

    /// Resolves once [`Kernel::stop`] was called.
    pub(crate) async fn stopping(&self) {
        self.stop.cancelled().await
    }

    pub(crate) fn is_stopping(&self) -> bool {
        self.stop.is_cancelled()
    }
}

/// Accounting of the `execute_request`s waiting for the executor.
struct Queue {
    /// Admitted and not yet taken by the executor (the running one excluded).
    waiting: AtomicUsize,
    max: MaxQueued,
    /// Bumped by every interrupt: cells admitted under an older value are stale.
    interrupts: AtomicU64,
}

impl Queue {
    fn new(max: MaxQueued) -> Queue {
        Queue { waiting: AtomicUsize::new(0), max, interrupts: AtomicU64::new(0) }
    }

    /// A place in the queue (the interrupt count it was admitted under), or None when full.
    /// One caller only (the shell loop), so the check and the add cannot race.
    fn admit(&self) -> Option<u64> {
        if self.waiting.load(Ordering::SeqCst) >= self.max.0 {
            return None;
        }
        self.waiting.fetch_add(1, Ordering::SeqCst);
        Some(self.interrupts.load(Ordering::SeqCst))
    }

    /// The place admitted under `interrupts` is freed; true if no interrupt came since.
    fn take(&self, interrupts: u64) -> bool {
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        interrupts == self.interrupts.load(Ordering::SeqCst)
    }

    fn interrupt(&self) {
        self.interrupts.fetch_add(1, Ordering::SeqCst);
    }
}

/// The bound on waiting `execute_request`s, from `KELP_MAX_QUEUED`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MaxQueued(pub(crate) usize);

impl MaxQueued {
    const DEFAULT: usize = 1_000;
    /// Large enough for any notebook's "run all", small enough that queued cells stay a few MB.
    const LIMIT: usize = 1_000_000;
    const VAR: &'static str = "KELP_MAX_QUEUED";

    /// The bound from the variable's value (None: unset); an unusable value is one line for stderr.
    fn parse(raw: Option<&str>) -> Result<MaxQueued, String> {
        let Some(raw) = raw else { return Ok(MaxQueued(Self::DEFAULT)) };
        match raw.trim().parse::<usize>() {
            Ok(n) if (1..=Self::LIMIT).contains(&n) => Ok(MaxQueued(n)),
            _ => Err(format!(
                "kelp: {} must be a whole number from 1 to {}, got {raw:?}; using {}",
                Self::VAR,
                Self::LIMIT,
                Self::DEFAULT
            )),
        }
    }

    /// From the environment; a bad value is reported on stderr and the default is used.
    fn from_env() -> MaxQueued {
        let raw = std::env::var_os(Self::VAR).map(|v| v.to_string_lossy().into_owned());
        MaxQueued::parse(raw.as_deref()).unwrap_or_else(|line| {
            eprintln!("{line}");
            MaxQueued(Self::DEFAULT)
        })
    }

    /// The refusal's one-line `evalue`.
    fn busy_message(self) -> String {
        format!("kelp is busy: {} cells are already queued; wait for them or interrupt the kernel", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::{MaxQueued, Queue};

    #[test]
    fn the_queue_refuses_past_its_bound_and_interrupts_make_waiting_cells_stale() {
        let q = Queue::new(MaxQueued(2));
        let (a, b) = (q.admit().unwrap(), q.admit().unwrap());
        assert_eq!(q.admit(), None, "a third cell is refused");
        assert!(q.take(a), "no interrupt since it was admitted: it runs");
        let c = q.admit().expect("taking one frees a place");
        q.interrupt();
        assert!(!q.take(b) && !q.take(c), "admitted before the interrupt: aborted");
        let d = q.admit().unwrap();
        assert!(q.take(d), "admitted after the interrupt: it runs");
        assert_eq!(q.waiting.load(std::sync::atomic::Ordering::SeqCst), 0);
    }

    #[test]
    fn max_queued_from_its_variable() {
        assert_eq!(MaxQueued::parse(None), Ok(MaxQueued(1_000)));
        assert_eq!(MaxQueued::parse(Some("25")), Ok(MaxQueued(25)));
        assert_eq!(MaxQueued::parse(Some(" 7 ")), Ok(MaxQueued(7)));
        assert_eq!(MaxQueued::parse(Some("1000000")), Ok(MaxQueued(1_000_000)));
        for bad in ["0", "-1", "abc", "", "1e3", "1000001", "99999999999999999999999"] {
            let line = MaxQueued::parse(Some(bad)).unwrap_err();
            assert!(line.starts_with("kelp: KELP_MAX_QUEUED must be a whole number from 1 to 1000000"), "{line}");
            assert!(line.contains(&format!("{bad:?}")) && !line.contains('\n'), "{line}");
        }
    }

    #[test]
    fn busy_message_is_one_line_naming_the_bound_and_the_way_out() {
        assert_eq!(
            MaxQueued(3).busy_message(),
            "kelp is busy: 3 cells are already queued; wait for them or interrupt the kernel"
        );
    }
}
