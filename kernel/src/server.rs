//! The kernel's loops: serve the shell / control / stdin channels until a shutdown_request, then
//! shut down cleanly.
//!
//! Shell requests never wait for a running cell: `execute_request`s go, in order, to one
//! executor task ([`crate::execute`]); complete and inspect (which may wait for the engine) get
//! a task each; everything else (kernel_info, is_complete, history, comms) is answered at once,
//! in arrival order, by the shell loop itself. The queue's bound and the interrupt rules are the
//! state's ([`crate::state`]).
//!
//! **Shutdown.** A `shutdown_request` (control or shell) is answered, its `status: idle`
//! published, and every loop stops taking requests (their sockets close). Then the running cell
//! is interrupted, the Rust engine stops (its child exits and evcxr's temporary folder goes with
//! it; at most [`ENGINE_STOP`]), the IPFS network node closes its connections, this kernel's
//! prelude temporaries are removed, and the iopub publisher is waited for (at most
//! [`IOPUB_FLUSH`]) until the request's `idle` went out ([`crate::transport`]); then the process
//! exits 0.

use crate::comms::KERNEL_TARGET;
use crate::completeness::{Completeness, judge};
use crate::engine::Engine;
use crate::execute::CellError;
use crate::request::Request;
use crate::state::{Kernel, MAX_ASSISTS, Senders};
use crate::transport::{Channels, Replier, next_message};
use jupyter_protocol::{ConnectionInfo, JupyterMessage};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// How long a shutdown waits for the engine (a cell still compiling, or an engine still
/// starting, is left to the operating system after that).
pub(crate) const ENGINE_STOP: Duration = Duration::from_secs(3);
/// How long a shutdown waits for its `status: idle` to go out on iopub.
pub(crate) const IOPUB_FLUSH: Duration = Duration::from_secs(1);

/// Serve a kernel on the sockets described by `connection_file` until shutdown.
pub(crate) async fn serve(connection_file: PathBuf) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&connection_file)
        .map_err(|e| anyhow::anyhow!("cannot read connection file {}: {e}", connection_file.display()))?;
    let info: ConnectionInfo = serde_json::from_str(&text)?;
    let session_id = uuid::Uuid::new_v4().to_string();
    // The engine's start-up (seconds) runs on its own thread: begin it before binding.
    let engine = Engine::start();
    let Channels { iopub, shell_rx, shell, control_rx, control, stdin_rx, stdin } =
        crate::transport::bind(&info, &session_id).await?;
    // Unbounded as a channel, bounded by the state's queue accounting (Kernel::admit).
    let (exec_tx, exec_rx) = mpsc::unbounded_channel();
    let kernel = Arc::new(Kernel::new(Senders { iopub, shell, control, stdin }, engine));
    crate::spare::keep_one_ready(kernel.engine().clone());
    tokio::spawn(crate::execute::executor(kernel.clone(), exec_rx));
    let stdin_task = tokio::spawn(stdin_loop(kernel.clone(), stdin_rx));
    let control_task = tokio::spawn(control_loop(kernel.clone(), control_rx));
    let shell_shutdown = shell_loop(kernel.clone(), shell_rx, exec_tx).await;
    kernel.stop();
    let (_, control_shutdown) = tokio::join!(stdin_task, control_task);
    shut_down(&kernel, shell_shutdown.or(control_shutdown.ok().flatten())).await;
    Ok(())
}

/// After the loops stopped: stop what runs, remove this kernel's temporaries, and wait for the
/// shutdown_request's final `status: idle` (if one came) to go out.
async fn shut_down(k: &Kernel, request: Option<JupyterMessage>) {
    k.interrupt();
    let engine = k.engine().clone();
    let stopping = async {
        let engine = tokio::task::spawn_blocking(move || engine.stop(ENGINE_STOP));
        // The IPFS network node (if `%ipfs config network on` started one): close its connections.
        let net = tokio::task::spawn_blocking(kelp_ipfs::net::shutdown);
        let _ = tokio::join!(engine, net);
    };
    if tokio::time::timeout(ENGINE_STOP + Duration::from_millis(500), stopping).await.is_err() {
        eprintln!("kelp: shutting down without waiting longer for the engine");
    }
    crate::prelude::remove_own_temporaries(k.home());
    crate::std_src::remove_own_link(k.home());
    if let Some(request) = request
        && !k.iopub().delivered(&request, "idle", IOPUB_FLUSH).await
    {
        eprintln!("kelp: the shutdown's idle status was not seen on iopub within {IOPUB_FLUSH:?}");
    }
}

/// Until the socket closes or the kernel stops; the shutdown_request if this loop took it.
async fn shell_loop(
    k: Arc<Kernel>,
    mut rx: jupyter_zmq_client::RouterRecvConnection,
    exec_tx: mpsc::UnboundedSender<crate::state::Queued>,
) -> Option<JupyterMessage> {
    loop {
        let msg = tokio::select! {
            m = next_message(&mut rx, "shell") => m,
            _ = k.stopping() => None,
        };
        let msg = msg?;
        match Request::parse(&msg) {
            Request::Execute(request) => match k.admit(msg, request) {
                Ok(q) => {
                    if let Err(unsent) = exec_tx.send(q) {
                        k.take(&unsent.0);
                    }
                }
                Err(msg) => refuse_busy(&k, &msg).await,
            },
            // These may wait for the engine (start-up, or a running cell): on their own task, at
            // most MAX_ASSISTS at a time.
            req @ (Request::Complete(_) | Request::Inspect(_)) => {
                if !k.begin_assist() {
                    refuse_assist(&k, &msg).await;
                    continue;
                }
                let k = k.clone();
                tokio::spawn(async move {
                    k.iopub().status(&msg, "busy");
                    handle_shell(&k, &msg, req).await;
                    k.iopub().status(&msg, "idle");
                    k.end_assist();
                });
            }
            // Everything else is quick, and must keep its order (a comm_msg right after its
            // comm_open must find the comm open): handled here, one after another.
            req => {
                k.iopub().status(&msg, "busy");
                handle_shell(&k, &msg, req).await;
                k.iopub().status(&msg, "idle");
                if k.is_stopping() {
                    return Some(msg);
                }
            }
        }
    }
}

/// Until the socket closes or the kernel stops; the shutdown_request if this loop took it.
async fn control_loop(k: Arc<Kernel>, mut rx: jupyter_zmq_client::RouterRecvConnection) -> Option<JupyterMessage> {
    loop {
        let msg = tokio::select! {
            m = next_message(&mut rx, "control") => m,
            _ = k.stopping() => None,
        };
        let msg = msg?;
        k.iopub().status(&msg, "busy");
        match Request::parse(&msg) {
            Request::KernelInfo => k.control().reply(&msg, "kernel_info_reply", kernel_info()).await,
            Request::Interrupt => {
                k.interrupt();
                k.control().reply(&msg, "interrupt_reply", json!({"status": "ok"})).await;
            }
            Request::Shutdown { restart } => shutdown(&k, &msg, k.control(), restart).await,
            Request::Debug => k.control().reply(&msg, "debug_reply", json!({})).await,
            _ => eprintln!("kelp: no handler for control message {}", msg.message_type()),
        }
        k.iopub().status(&msg, "idle");
        if k.is_stopping() {
            return Some(msg);
        }
    }
}

async fn stdin_loop(k: Arc<Kernel>, mut rx: jupyter_zmq_client::RouterRecvConnection) {
    loop {
        let msg = tokio::select! {
            m = next_message(&mut rx, "stdin") => m,
            _ = k.stopping() => None,
        };
        let Some(msg) = msg else { return };
        if let Request::InputReply { value } = Request::parse(&msg) {
            k.answer_input(value);
        }
    }
}

/// The `kernel_info_reply` content.
fn kernel_info() -> Value {
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

async fn handle_shell(k: &Kernel, msg: &JupyterMessage, req: Request) {
    let shell = k.shell();
    match req {
        Request::KernelInfo => shell.reply(msg, "kernel_info_reply", kernel_info()).await,
        Request::IsComplete { code } => {
            let reply = match judge(&code) {
                Completeness::Complete => json!({"status": "complete"}),
                Completeness::Incomplete(indent) => json!({"status": "incomplete", "indent": indent}),
                Completeness::Invalid => json!({"status": "invalid"}),
            };
            shell.reply(msg, "is_complete_reply", reply).await;
        }
        Request::Complete(at) => {
            let reply = crate::assist::complete(k, &at).await;
            shell.reply(msg, "complete_reply", reply).await;
        }
        Request::Inspect(at) => {
            let reply = crate::assist::inspect(k, &at).await;
            shell.reply(msg, "inspect_reply", reply).await;
        }
        Request::History(q) => {
            let history = k.history(&q);
            shell.reply(msg, "history_reply", json!({"status": "ok", "history": history})).await;
        }
        Request::CommInfo { target_name } => {
            let comms = k.comm_info(target_name.as_deref());
            shell.reply(msg, "comm_info_reply", json!({"status": "ok", "comms": comms})).await;
        }
        Request::CommOpen { comm_id, target_name } => {
            if !k.comm_open(&comm_id, &target_name) {
                k.iopub().send(msg, "comm_close", json!({"comm_id": comm_id, "data": {}}));
            }
        }
        Request::CommMsg { comm_id, data } => {
            if k.comm_target(&comm_id).as_deref() == Some(KERNEL_TARGET) {
                let data = kernel_comm(k, &data);
                k.iopub().send(msg, "comm_msg", json!({"comm_id": comm_id, "data": data}));
            }
        }
        Request::CommClose { comm_id } => k.comm_close(&comm_id),
        Request::Shutdown { restart } => shutdown(k, msg, shell, restart).await,
        _ => eprintln!("kelp: no handler for shell message {}", msg.message_type()),
    }
}

/// The `kelp.kernel` comm target's answers.
fn kernel_comm(k: &Kernel, data: &Value) -> Value {
    match data["request"].as_str() {
        Some("status") => k.status(),
        Some("lsmagic") => json!({"request": "lsmagic", "magics": k.registry().lsmagic().json().cloned()}),
        other => json!({"error": format!("unknown request {other:?}; known: status, lsmagic")}),
    }
}

/// An `execute_request` past the queue's bound: a `KernelBusy` error reply at once.
async fn refuse_busy(k: &Kernel, msg: &JupyterMessage) {
    let err = CellError::new("KernelBusy", k.busy_message());
    k.answer_at_once(msg, "execute_reply", err.reply_content(k.execution_count()), Some(err.iopub_content())).await;
}

/// A complete/inspect request past [`MAX_ASSISTS`]: an error reply at once.
async fn refuse_assist(k: &Kernel, msg: &JupyterMessage) {
    let evalue = format!(
        "kelp is busy: {MAX_ASSISTS} completion/inspection requests are already waiting for the engine; try again when the running cell ends"
    );
    let err = CellError::new("KernelBusy", evalue);
    let reply_type = if msg.message_type() == "complete_request" { "complete_reply" } else { "inspect_reply" };
    let reply = json!({"status": "error", "ename": err.ename, "evalue": err.evalue, "traceback": err.traceback});
    k.answer_at_once(msg, reply_type, reply, None).await;
}

/// Answer a shutdown_request and make every loop stop (the caller publishes `status: idle`;
/// [`serve`] then shuts the kernel down).
async fn shutdown(k: &Kernel, msg: &JupyterMessage, via: &Replier, restart: bool) {
    via.reply(msg, "shutdown_reply", json!({"status": "ok", "restart": restart})).await;
    k.stop();
}
