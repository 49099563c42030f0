//! The kernel proper: shared state and the shell / control / stdin loops.
//!
//! Shell requests never wait for a running cell: `execute_request`s go, in order, to one
//! executor task ([`crate::execute`]); complete and inspect (which may wait for the engine) get
//! a task each; everything else (kernel_info, is_complete, history, comms) is answered at once,
//! in arrival order, by the shell loop itself.
//!
//! The executor's queue is bounded ([`MaxQueued`], `KELP_MAX_QUEUED`, default 1,000 waiting
//! cells): an `execute_request` beyond it is answered at once with a `KernelBusy` error instead
//! of being queued, so a flood cannot make the kernel unusable or grow its memory without end.
//! An interrupt aborts every cell queued before it (see [`Queued`]).

use crate::comms::{Comms, KERNEL_TARGET};
use crate::completeness::{Completeness, judge};
use crate::engine::{Engine, EngineState};
use crate::history::History;
use crate::transport::{Channels, IoPub, Replier, content_json, next_message};
use jupyter_protocol::{ConnectionInfo, JupyterMessage};
use kelp_magic::{CancelToken, Config, EnvVars, Registry};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// State shared by every task of the kernel.
pub struct Kernel {
    pub iopub: IoPub,
    pub shell: Replier,
    pub control: Replier,
    pub stdin: Replier,
    pub registry: Registry,
    pub engine: Engine,
    pub history: Mutex<History>,
    pub comms: Mutex<Comms>,
    pub execution_count: AtomicI64,
    pub executing: AtomicBool,
    /// Set by interrupt_request while a cell runs; read by the executor to word the error.
    pub interrupted: AtomicBool,
    pub cancel: Mutex<CancelToken>,
    pub env: EnvVars,
    pub config: Config,
    pub cwd: PathBuf,
    /// The answer channel of the input_request in flight, if any.
    pub pending_input: Mutex<Option<std::sync::mpsc::Sender<String>>>,
    /// execute_requests handed to the executor and not yet taken by it (the running one excluded).
    pub queued: AtomicUsize,
    /// How many may wait; more are refused with a `KernelBusy` error.
    pub max_queued: MaxQueued,
    /// Bumped by every interrupt: cells queued under an older value are aborted, not run.
    pub interrupts: AtomicU64,
    /// complete/inspect requests being answered (each may wait for the engine).
    pub assists: AtomicUsize,
}

/// complete/inspect requests answered at once; more are refused until some finish (while a
/// long cell runs each waits for the engine, so a flood would otherwise pile up tasks and jobs).
pub const MAX_ASSISTS: usize = 32;

/// An `execute_request` waiting for the executor, with the interrupt count when it arrived.
pub struct Queued {
    pub msg: JupyterMessage,
    pub interrupts: u64,
}

/// The bound on waiting `execute_request`s, from `KELP_MAX_QUEUED`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaxQueued(pub usize);

impl MaxQueued {
    pub const DEFAULT: usize = 1_000;
    /// Large enough for any notebook's "run all", small enough that queued cells stay a few MB.
    pub const LIMIT: usize = 1_000_000;
    pub const VAR: &'static str = "KELP_MAX_QUEUED";

    /// The bound from the variable's value (None: unset); an unusable value is one line for stderr.
    pub fn parse(raw: Option<&str>) -> Result<MaxQueued, String> {
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
    pub fn from_env() -> MaxQueued {
        let raw = std::env::var_os(Self::VAR).map(|v| v.to_string_lossy().into_owned());
        MaxQueued::parse(raw.as_deref()).unwrap_or_else(|line| {
            eprintln!("{line}");
            MaxQueued(Self::DEFAULT)
        })
    }

    /// The refusal's one-line `evalue`.
    pub fn busy_message(self) -> String {
        format!("kelp is busy: {} cells are already queued; wait for them or interrupt the kernel", self.0)
    }
}

pub fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Serve a kernel on the sockets described by `connection_file` until shutdown.
pub async fn serve(connection_file: PathBuf) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&connection_file)
        .map_err(|e| anyhow::anyhow!("cannot read connection file {}: {e}", connection_file.display()))?;
    let info: ConnectionInfo = serde_json::from_str(&text)?;
    let session_id = uuid::Uuid::new_v4().to_string();
    let ch = bind_all(&info, &session_id).await?;
    let Channels { iopub, shell_rx, shell, control_rx, control, stdin_rx, stdin } = ch;
    // Unbounded as a channel, bounded by `Kernel::queued`: the shell loop refuses past the bound.
    let (exec_tx, exec_rx) = mpsc::unbounded_channel();
    let kernel = Arc::new(Kernel {
        iopub,
        shell,
        control,
        stdin,
        registry: crate::magics::registry(),
        engine: Engine::start(),
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
        queued: AtomicUsize::new(0),
        max_queued: MaxQueued::from_env(),
        interrupts: AtomicU64::new(0),
        assists: AtomicUsize::new(0),
    });
    crate::warm::keep_one_ready(kernel.engine.clone());
    tokio::spawn(crate::execute::executor(kernel.clone(), exec_rx));
    tokio::spawn(stdin_loop(kernel.clone(), stdin_rx));
    tokio::spawn(control_loop(kernel.clone(), control_rx));
    shell_loop(kernel, shell_rx, exec_tx).await;
    Ok(())
}

async fn bind_all(info: &ConnectionInfo, session_id: &str) -> anyhow::Result<Channels> {
    crate::transport::bind(info, session_id).await
}

async fn shell_loop(
    k: Arc<Kernel>,
    mut rx: jupyter_zmq_client::RouterRecvConnection,
    exec_tx: mpsc::UnboundedSender<Queued>,
) {
    while let Some(msg) = next_message(&mut rx, "shell").await {
        match msg.message_type() {
            // Only this loop adds to `queued`, so the check and the add cannot race.
            "execute_request" if k.queued.load(Ordering::SeqCst) >= k.max_queued.0 => k.refuse_busy(&msg).await,
            "execute_request" => {
                k.queued.fetch_add(1, Ordering::SeqCst);
                let interrupts = k.interrupts.load(Ordering::SeqCst);
                if exec_tx.send(Queued { msg, interrupts }).is_err() {
                    k.queued.fetch_sub(1, Ordering::SeqCst);
                }
            }
            // These may wait for the engine (start-up, or a running cell): on their own task, at
            // most MAX_ASSISTS at a time (again only this loop adds to `assists`).
            "complete_request" | "inspect_request" if k.assists.load(Ordering::SeqCst) >= MAX_ASSISTS => {
                k.refuse_assist(&msg).await
            }
            "complete_request" | "inspect_request" => {
                k.assists.fetch_add(1, Ordering::SeqCst);
                let k = k.clone();
                tokio::spawn(async move {
                    k.iopub.status(&msg, "busy");
                    k.handle_shell(&msg).await;
                    k.iopub.status(&msg, "idle");
                    k.assists.fetch_sub(1, Ordering::SeqCst);
                });
            }
            // Everything else is quick, and must keep its order (a comm_msg right after its
            // comm_open must find the comm open): handled here, one after another.
            _ => {
                k.iopub.status(&msg, "busy");
                k.handle_shell(&msg).await;
                k.iopub.status(&msg, "idle");
            }
        }
    }
}

async fn control_loop(k: Arc<Kernel>, mut rx: jupyter_zmq_client::RouterRecvConnection) {
    while let Some(msg) = next_message(&mut rx, "control").await {
        k.iopub.status(&msg, "busy");
        match msg.message_type() {
            "kernel_info_request" => k.control.reply(&msg, "kernel_info_reply", kernel_info()).await,
            "interrupt_request" => {
                k.interrupt();
                k.control.reply(&msg, "interrupt_reply", json!({"status": "ok"})).await;
            }
            "shutdown_request" => k.shutdown(&msg, &k.control).await,
            "debug_request" => k.control.reply(&msg, "debug_reply", json!({})).await,
            other => eprintln!("kelp: no handler for control message {other}"),
        }
        k.iopub.status(&msg, "idle");
    }
}

async fn stdin_loop(k: Arc<Kernel>, mut rx: jupyter_zmq_client::RouterRecvConnection) {
    while let Some(msg) = next_message(&mut rx, "stdin").await {
        if msg.message_type() == "input_reply" {
            let value = content_json(&msg)["value"].as_str().unwrap_or("").to_string();
            if let Some(tx) = lock(&k.pending_input).take() {
                let _ = tx.send(value);
            }
        }
    }
}

/// The `kernel_info_reply` content.
pub fn kernel_info() -> Value {
    static RUSTC: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let rustc = RUSTC.get_or_init(|| {
        std::process::Command::new("rustc")
            .arg("--version")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.split_whitespace().nth(1).map(str::to_string))
            .unwrap_or_else(|| "unknown".into())
    });
    let version = env!("CARGO_PKG_VERSION");
    json!({
        "status": "ok",
        "protocol_version": "5.3",
        "implementation": "kelp",
        "implementation_version": version,
        "language_info": {
            "name": "rust",
            "version": rustc,
            "mimetype": "text/rust",
            "file_extension": ".rs",
            "pygments_lexer": "rust",
            "codemirror_mode": "rust",
        },
        "banner": format!("kelp {version}: Rust (evcxr) with magics for IPFS, Ocean Protocol and compute-to-data. Type %lsmagic."),
        "help_links": [
            {"text": "kelp magics (%lsmagic)", "url": "https://crates.io/crates/kelp-kernel"},
            {"text": "Rust standard library", "url": "https://doc.rust-lang.org/std/"},
            {"text": "evcxr (:help)", "url": "https://github.com/evcxr/evcxr/blob/main/COMMON.md"},
        ],
        "debugger": false,
    })
}

impl Kernel {
    async fn handle_shell(&self, msg: &JupyterMessage) {
        let c = content_json(msg);
        match msg.message_type() {
            "kernel_info_request" => self.shell.reply(msg, "kernel_info_reply", kernel_info()).await,
            "is_complete_request" => {
                let code = c["code"].as_str().unwrap_or("");
                let reply = match judge(code) {
                    Completeness::Complete => json!({"status": "complete"}),
                    Completeness::Incomplete(indent) => json!({"status": "incomplete", "indent": indent}),
                    Completeness::Invalid => json!({"status": "invalid"}),
                };
                self.shell.reply(msg, "is_complete_reply", reply).await;
            }
            "complete_request" => {
                let reply = crate::assist::complete(self, &c).await;
                self.shell.reply(msg, "complete_reply", reply).await;
            }
            "inspect_request" => {
                let reply = crate::assist::inspect(self, &c).await;
                self.shell.reply(msg, "inspect_reply", reply).await;
            }
            "history_request" => {
                let history = lock(&self.history).query(&c);
                self.shell.reply(msg, "history_reply", json!({"status": "ok", "history": history})).await;
            }
            "comm_info_request" => {
                let comms = lock(&self.comms).info(c["target_name"].as_str());
                self.shell.reply(msg, "comm_info_reply", json!({"status": "ok", "comms": comms})).await;
            }
            "comm_open" => {
                let id = c["comm_id"].as_str().unwrap_or("");
                let target = c["target_name"].as_str().unwrap_or("");
                if !lock(&self.comms).open(id, target) {
                    self.iopub.send(msg, "comm_close", json!({"comm_id": id, "data": {}}));
                }
            }
            "comm_msg" => {
                let id = c["comm_id"].as_str().unwrap_or("");
                let target = lock(&self.comms).target_of(id).map(str::to_string);
                if target.as_deref() == Some(KERNEL_TARGET) {
                    let data = self.kernel_comm(&c["data"]);
                    self.iopub.send(msg, "comm_msg", json!({"comm_id": id, "data": data}));
                }
            }
            "comm_close" => lock(&self.comms).close(c["comm_id"].as_str().unwrap_or("")),
            "shutdown_request" => self.shutdown(msg, &self.shell).await,
            other => eprintln!("kelp: no handler for shell message {other}"),
        }
    }

    /// The `kelp.kernel` comm target's answers.
    fn kernel_comm(&self, data: &Value) -> Value {
        match data["request"].as_str() {
            Some("status") => json!({
                "request": "status",
                "execution_state": if self.executing.load(Ordering::SeqCst) { "busy" } else { "idle" },
                "execution_count": self.execution_count.load(Ordering::SeqCst),
                "queued": self.queued.load(Ordering::SeqCst),
                "max_queued": self.max_queued.0,
                "engine": match self.engine.state() {
                    EngineState::Starting => "starting".to_string(),
                    EngineState::Ready => "ready".to_string(),
                    EngineState::Failed(e) => format!("failed: {e}"),
                },
            }),
            Some("lsmagic") => json!({"request": "lsmagic", "magics": self.registry.lsmagic().json().cloned()}),
            other => json!({"error": format!("unknown request {other:?}; known: status, lsmagic")}),
        }
    }

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

    /// An `execute_request` past the queue's bound: a `KernelBusy` error reply at once.
    async fn refuse_busy(&self, msg: &JupyterMessage) {
        let count = self.execution_count.load(Ordering::SeqCst);
        let err = crate::execute::CellError::new("KernelBusy", self.max_queued.busy_message());
        self.answer_at_once(msg, "execute_reply", err.reply_content(count), Some(err.iopub_content())).await;
    }

    /// A complete/inspect request past [`MAX_ASSISTS`]: an error reply at once.
    async fn refuse_assist(&self, msg: &JupyterMessage) {
        let evalue = format!(
            "kelp is busy: {MAX_ASSISTS} completion/inspection requests are already waiting for the engine; try again when the running cell ends"
        );
        let err = crate::execute::CellError::new("KernelBusy", evalue);
        let reply_type = if msg.message_type() == "complete_request" { "complete_reply" } else { "inspect_reply" };
        let reply = json!({"status": "error", "ename": err.ename, "evalue": err.evalue, "traceback": err.traceback});
        self.answer_at_once(msg, reply_type, reply, None).await;
    }

    /// Stop what runs: the magic's cancel token, and the Rust child if Rust code runs; cells
    /// queued before this interrupt are aborted by the executor.
    pub fn interrupt(&self) {
        self.interrupts.fetch_add(1, Ordering::SeqCst);
        if self.executing.load(Ordering::SeqCst) {
            self.interrupted.store(true, Ordering::SeqCst);
        }
        lock(&self.cancel).cancel();
        // Kill the Rust child before releasing an input it waits for: released first, the child
        // could finish the cell with the empty answer, and its death would then be reported by
        // the next, innocent cell ("the Rust process died").
        self.engine.interrupt();
        if let Some(tx) = lock(&self.pending_input).take() {
            let _ = tx.send(String::new());
        }
    }

    async fn shutdown(&self, msg: &JupyterMessage, via: &Replier) {
        let restart = content_json(msg)["restart"].as_bool().unwrap_or(false);
        via.reply(msg, "shutdown_reply", json!({"status": "ok", "restart": restart})).await;
        self.iopub.status(msg, "idle");
        // The IPFS network node (if `%ipfs config network on` started one): close its connections.
        let _ = tokio::task::spawn_blocking(kelp_ipfs::net::shutdown).await;
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        std::process::exit(0);
    }
}

#[cfg(test)]
mod tests {
    use super::MaxQueued;

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
