//! The five Jupyter channels over ZeroMQ (jupyter-zmq-client: sockets + HMAC-SHA256).
//!
//! Owns the sockets and nothing else: iopub is fed through a channel by whoever publishes,
//! shell/control replies go through a shared send half, heartbeat runs on its own task, and a
//! message that fails signature verification is dropped and logged, never answered.
//!
//! **Knowing a status went out.** ZeroMQ's PUB socket (zeromq-rs) queues and writes on tasks of
//! its own and has no flush, so the kernel listens to itself: a SUB connection of its own to the
//! iopub socket, subscribed to `kernel.status`, notes each status it receives. At shutdown
//! [`IoPub::delivered`] waits (bounded) until the shutdown's `idle` came back that way: by then
//! PUB has queued it for every subscriber and written it to one, so the process may exit.

use jupyter_protocol::{ConnectionInfo, Header, JupyterMessage, JupyterMessageContent, UnknownMessage};
use jupyter_zmq_client::{
    ClientIoPubConnection, KernelIoPubConnection, RawMessage, RouterRecvConnection, RouterSendConnection, RuntimeError,
    create_client_iopub_connection, create_kernel_control_connection, create_kernel_heartbeat_connection,
    create_kernel_iopub_connection, create_kernel_shell_connection, create_kernel_stdin_connection,
};
use serde_json::Value;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, mpsc, oneshot, watch};
use zeromq::SocketRecv as _;

/// Build a message whose content is raw JSON of type `msg_type`: lets the kernel emit exactly the
/// shape the messaging spec documents, whatever the typed structs cover.
fn raw(msg_type: &str, content: Value) -> JupyterMessageContent {
    JupyterMessageContent::UnknownMessage(UnknownMessage { msg_type: msg_type.to_string(), content })
}

/// A message that is a child of `parent` (reply or iopub side effect).
pub(crate) fn child(parent: &JupyterMessage, msg_type: &str, content: Value) -> JupyterMessage {
    JupyterMessage::new(raw(msg_type, content), Some(parent))
}

/// The content of a request as JSON, whatever its type.
pub(crate) fn content_json(msg: &JupyterMessage) -> Value {
    serde_json::to_value(&msg.content).unwrap_or(Value::Null)
}

/// What the iopub publisher is handed: a message, or a request to say when all before it left.
enum Outgoing {
    Message(Box<JupyterMessage>),
    Flushed(oneshot::Sender<()>),
}

/// The last statuses the kernel's own subscriber received: (parent msg_id, execution_state),
/// newest last (a few, so a status published right after the awaited one does not hide it).
type Seen = VecDeque<(String, String)>;

/// How many statuses [`Seen`] keeps.
const SEEN_KEPT: usize = 16;

/// Publisher handle: cheap to clone, never blocks.
#[derive(Clone)]
pub(crate) struct IoPub {
    tx: mpsc::UnboundedSender<Outgoing>,
    /// None when the kernel could not subscribe to itself (then only the hand-over is awaited).
    seen: Option<watch::Receiver<Seen>>,
}

impl IoPub {
    /// Publish `content` of `msg_type` as a child of `parent`.
    pub(crate) fn send(&self, parent: &JupyterMessage, msg_type: &str, content: Value) {
        let _ = self.tx.send(Outgoing::Message(Box::new(child(parent, msg_type, content))));
    }

    /// `status: busy|idle` for `parent`.
    pub(crate) fn status(&self, parent: &JupyterMessage, state: &str) {
        self.send(parent, "status", serde_json::json!({ "execution_state": state }));
    }

    /// Wait (at most `within`) until the `status: state` published for `parent` went out: handed
    /// to the socket, and received by the kernel's own subscriber. False if that took longer.
    pub(crate) async fn delivered(&self, parent: &JupyterMessage, state: &str, within: Duration) -> bool {
        let want = (parent.header.msg_id.clone(), state.to_string());
        let wait = async {
            let (tx, rx) = oneshot::channel();
            if self.tx.send(Outgoing::Flushed(tx)).is_err() || rx.await.is_err() {
                return false;
            }
            match self.seen.clone() {
                Some(mut seen) => seen.wait_for(|s| s.contains(&want)).await.is_ok(),
                None => true,
            }
        };
        tokio::time::timeout(within, wait).await.unwrap_or(false)
    }
}

/// Reply handle for a ROUTER channel (shell or control).
#[derive(Clone)]
pub(crate) struct Replier(Arc<Mutex<RouterSendConnection>>);

impl Replier {
    pub(crate) async fn reply(&self, parent: &JupyterMessage, msg_type: &str, content: Value) {
        let msg = child(parent, msg_type, content);
        if let Err(e) = self.0.lock().await.send(msg).await {
            eprintln!("kelp: could not send {msg_type}: {e}");
        }
    }
    pub(crate) async fn send(&self, msg: JupyterMessage) {
        if let Err(e) = self.0.lock().await.send(msg).await {
            eprintln!("kelp: could not send a message: {e}");
        }
    }
}

/// Everything bound, ready to serve.
pub(crate) struct Channels {
    pub(crate) iopub: IoPub,
    pub(crate) shell_rx: RouterRecvConnection,
    pub(crate) shell: Replier,
    pub(crate) control_rx: RouterRecvConnection,
    pub(crate) control: Replier,
    pub(crate) stdin_rx: RouterRecvConnection,
    pub(crate) stdin: Replier,
}

/// Bind all five sockets from a connection file and start the iopub and heartbeat tasks.
pub(crate) async fn bind(info: &ConnectionInfo, session_id: &str) -> anyhow::Result<Channels> {
    let iopub_conn = create_kernel_iopub_connection(info, session_id).await?;
    let (shell_tx, shell_rx) = create_kernel_shell_connection(info, session_id).await?.split();
    let (control_tx, control_rx) = create_kernel_control_connection(info, session_id).await?.split();
    let (stdin_tx, stdin_rx) = create_kernel_stdin_connection(info, session_id).await?.split();
    let mut heartbeat = create_kernel_heartbeat_connection(info).await?;
    tokio::spawn(async move {
        // Heartbeat never waits on anything else: a busy kernel still answers.
        while heartbeat.single_heartbeat().await.is_ok() {}
    });
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(publish_loop(iopub_conn, rx));
    let seen = match create_client_iopub_connection(info, "kernel.status", session_id).await {
        Ok(conn) => {
            let (seen_tx, seen) = watch::channel(VecDeque::new());
            tokio::spawn(watch_own_status(conn, seen_tx));
            Some(seen)
        }
        Err(e) => {
            eprintln!("kelp: cannot subscribe to the kernel's own iopub ({e}); shutdown will not wait for it");
            None
        }
    };
    Ok(Channels {
        iopub: IoPub { tx, seen },
        shell_rx,
        shell: Replier(Arc::new(Mutex::new(shell_tx))),
        control_rx,
        control: Replier(Arc::new(Mutex::new(control_tx))),
        stdin_rx,
        stdin: Replier(Arc::new(Mutex::new(stdin_tx))),
    })
}

/// The kernel's own iopub subscriber: note each status message it receives.
async fn watch_own_status(mut conn: ClientIoPubConnection, seen: watch::Sender<Seen>) {
    while let Ok(m) = conn.read().await {
        let parent = m.parent_header.as_ref().map(|h| h.msg_id.clone()).unwrap_or_default();
        let state = content_json(&m)["execution_state"].as_str().unwrap_or("").to_string();
        seen.send_modify(|s| {
            if s.len() == SEEN_KEPT {
                s.pop_front();
            }
            s.push_back((parent, state));
        });
    }
}

async fn publish_loop(mut conn: KernelIoPubConnection, mut rx: mpsc::UnboundedReceiver<Outgoing>) {
    while let Some(out) = rx.recv().await {
        let mut msg = match out {
            Outgoing::Message(m) => *m,
            Outgoing::Flushed(done) => {
                let _ = done.send(());
                continue;
            }
        };
        // iopub's first frame is a topic, not the requester's routing id.
        msg.zmq_identities = vec![format!("kernel.{}", msg.message_type()).into_bytes().into()];
        if let Err(e) = conn.send(msg).await {
            eprintln!("kelp: iopub send failed: {e}");
        }
    }
}

/// Read the next well-formed, correctly signed message. Bad ones are logged and skipped;
/// `None` when the socket is gone.
///
/// The signature is checked by jupyter-zmq-client; the content is parsed here, because the
/// typed structs are stricter than the spec in places (a search `history_request` with
/// `n: null`, as jupyter_client sends it, would be dropped): what does not fit its struct is
/// kept as raw JSON.
pub(crate) async fn next_message(rx: &mut RouterRecvConnection, channel: &str) -> Option<JupyterMessage> {
    let mut consecutive = 0u32;
    loop {
        let frames = match rx.socket.recv().await {
            Ok(f) => f,
            Err(e) => {
                eprintln!("kelp: {channel} socket error: {e}");
                consecutive += 1;
                if consecutive > 100 {
                    return None;
                }
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        consecutive = 0;
        match RawMessage::from_multipart(frames, &rx.mac) {
            Ok(raw_msg) => match to_message(raw_msg) {
                Some(m) => return Some(m),
                None => eprintln!("kelp: dropped a malformed {channel} message (bad header or content JSON)"),
            },
            Err(RuntimeError::VerifyError(_)) | Err(RuntimeError::DecodeError(_)) => {
                eprintln!("kelp: dropped a {channel} message with an invalid signature");
            }
            Err(e) => eprintln!("kelp: dropped a malformed {channel} message: {e}"),
        }
    }
}

fn to_message(m: RawMessage) -> Option<JupyterMessage> {
    let header: Header = serde_json::from_slice(&m.jparts[0]).ok()?;
    let content: Value = serde_json::from_slice(&m.jparts[3]).ok()?;
    let typed = JupyterMessageContent::from_type_and_content(&header.msg_type, content.clone());
    let content = typed.unwrap_or_else(|_| raw(&header.msg_type, content));
    Some(JupyterMessage {
        zmq_identities: m.zmq_identities,
        parent_header: serde_json::from_slice(&m.jparts[1]).ok(),
        metadata: serde_json::from_slice(&m.jparts[2]).unwrap_or_else(|_| serde_json::json!({})),
        content,
        buffers: m.jparts[4..].to_vec(),
        channel: None,
        header,
    })
}
