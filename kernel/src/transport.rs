//! The five Jupyter channels over ZeroMQ (jupyter-zmq-client: sockets + HMAC-SHA256).
//!
//! Owns the sockets and nothing else: iopub is fed through a channel by whoever publishes,
//! shell/control replies go through a shared send half, heartbeat runs on its own task, and a
//! message that fails signature verification is dropped and logged, never answered.

use jupyter_protocol::{ConnectionInfo, Header, JupyterMessage, JupyterMessageContent, UnknownMessage};
use jupyter_zmq_client::{
    KernelIoPubConnection, RawMessage, RouterRecvConnection, RouterSendConnection, RuntimeError,
    create_kernel_control_connection, create_kernel_heartbeat_connection, create_kernel_iopub_connection,
    create_kernel_shell_connection, create_kernel_stdin_connection,
};
use serde_json::Value;
use std::sync::Arc;
use tokio::sync::{Mutex, mpsc};
use zeromq::SocketRecv as _;

/// Build a message whose content is raw JSON of type `msg_type`: lets the kernel emit exactly the
/// shape the messaging spec documents, whatever the typed structs cover.
pub fn raw(msg_type: &str, content: Value) -> JupyterMessageContent {
    JupyterMessageContent::UnknownMessage(UnknownMessage { msg_type: msg_type.to_string(), content })
}

/// A message that is a child of `parent` (reply or iopub side effect).
pub fn child(parent: &JupyterMessage, msg_type: &str, content: Value) -> JupyterMessage {
    JupyterMessage::new(raw(msg_type, content), Some(parent))
}

/// The content of a request as JSON, whatever its type.
pub fn content_json(msg: &JupyterMessage) -> Value {
    serde_json::to_value(&msg.content).unwrap_or(Value::Null)
}

/// Publisher handle: cheap to clone, never blocks.
#[derive(Clone)]
pub struct IoPub(mpsc::UnboundedSender<JupyterMessage>);

impl IoPub {
    /// Publish `content` of `msg_type` as a child of `parent`.
    pub fn send(&self, parent: &JupyterMessage, msg_type: &str, content: Value) {
        let _ = self.0.send(child(parent, msg_type, content));
    }

    /// `status: busy|idle` for `parent`.
    pub fn status(&self, parent: &JupyterMessage, state: &str) {
        self.send(parent, "status", serde_json::json!({ "execution_state": state }));
    }

    /// A publisher whose messages land in a channel (unit tests of the executor).
    #[cfg(test)]
    pub fn for_test() -> (IoPub, mpsc::UnboundedReceiver<JupyterMessage>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (IoPub(tx), rx)
    }
}

/// Reply handle for a ROUTER channel (shell or control).
#[derive(Clone)]
pub struct Replier(Arc<Mutex<RouterSendConnection>>);

impl Replier {
    pub async fn reply(&self, parent: &JupyterMessage, msg_type: &str, content: Value) {
        let msg = child(parent, msg_type, content);
        if let Err(e) = self.0.lock().await.send(msg).await {
            eprintln!("kelp: could not send {msg_type}: {e}");
        }
    }
    pub async fn send(&self, msg: JupyterMessage) {
        if let Err(e) = self.0.lock().await.send(msg).await {
            eprintln!("kelp: could not send a message: {e}");
        }
    }
}

/// Everything bound, ready to serve.
pub struct Channels {
    pub iopub: IoPub,
    pub shell_rx: RouterRecvConnection,
    pub shell: Replier,
    pub control_rx: RouterRecvConnection,
    pub control: Replier,
    pub stdin_rx: RouterRecvConnection,
    pub stdin: Replier,
}

/// Bind all five sockets from a connection file and start the iopub and heartbeat tasks.
pub async fn bind(info: &ConnectionInfo, session_id: &str) -> anyhow::Result<Channels> {
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
    Ok(Channels {
        iopub: IoPub(tx),
        shell_rx,
        shell: Replier(Arc::new(Mutex::new(shell_tx))),
        control_rx,
        control: Replier(Arc::new(Mutex::new(control_tx))),
        stdin_rx,
        stdin: Replier(Arc::new(Mutex::new(stdin_tx))),
    })
}

async fn publish_loop(mut conn: KernelIoPubConnection, mut rx: mpsc::UnboundedReceiver<JupyterMessage>) {
    while let Some(mut msg) = rx.recv().await {
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
pub async fn next_message(rx: &mut RouterRecvConnection, channel: &str) -> Option<JupyterMessage> {
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
