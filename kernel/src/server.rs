//! The kernel proper: shared state and the shell / control / stdin loops.
//!
//! Shell requests never wait for a running cell: `execute_request`s go, in order, to one
//! executor task ([`crate::execute`]); complete and inspect (which may wait for the engine) get
//! a task each; everything else (kernel_info, is_complete, history, comms) is answered at once,
//! in arrival order, by the shell loop itself.

use crate::comms::{Comms, KERNEL_TARGET};
use crate::completeness::{Completeness, judge};
use crate::engine::{Engine, EngineState};
use crate::history::History;
use crate::transport::{Channels, IoPub, Replier, content_json, next_message};
use jupyter_protocol::{ConnectionInfo, JupyterMessage};
use kelp_magic::{CancelToken, Config, EnvVars, Registry};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
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
    });
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
    exec_tx: mpsc::UnboundedSender<JupyterMessage>,
) {
    while let Some(msg) = next_message(&mut rx, "shell").await {
        match msg.message_type() {
            "execute_request" => {
                let _ = exec_tx.send(msg);
            }
            // These may wait for the engine (start-up, or a running cell): on their own task.
            "complete_request" | "inspect_request" => {
                let k = k.clone();
                tokio::spawn(async move {
                    k.iopub.status(&msg, "busy");
                    k.handle_shell(&msg).await;
                    k.iopub.status(&msg, "idle");
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

    /// Stop what runs: the magic's cancel token, and the Rust child if Rust code runs.
    pub fn interrupt(&self) {
        if self.executing.load(Ordering::SeqCst) {
            self.interrupted.store(true, Ordering::SeqCst);
        }
        lock(&self.cancel).cancel();
        if let Some(tx) = lock(&self.pending_input).take() {
            let _ = tx.send(String::new());
        }
        self.engine.interrupt();
    }

    async fn shutdown(&self, msg: &JupyterMessage, via: &Replier) {
        let restart = content_json(msg)["restart"].as_bool().unwrap_or(false);
        via.reply(msg, "shutdown_reply", json!({"status": "ok", "restart": restart})).await;
        self.iopub.status(msg, "idle");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        std::process::exit(0);
    }
}
