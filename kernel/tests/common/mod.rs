//! A test client for the real `kelp` binary: starts `kelp kernel` on fresh ports with a fresh
//! KELP_HOME and working directory, and talks to it over ZeroMQ like a frontend.

#![allow(dead_code)]

use jupyter_protocol::{ConnectionInfo, JupyterMessage, JupyterMessageContent, Transport, UnknownMessage};
use jupyter_zmq_client::{
    ClientControlConnection, ClientIoPubConnection, ClientShellConnection, create_client_control_connection,
    create_client_iopub_connection, create_client_shell_connection_with_identity, peek_ports_with_listeners,
    peer_identity_for_session,
};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tokio::time::timeout;

pub const T: Duration = Duration::from_secs(240);

pub struct Kernel {
    pub child: Child,
    pub info: ConnectionInfo,
    pub shell: ClientShellConnection,
    pub control: ClientControlConnection,
    pub iopub: ClientIoPubConnection,
    pub session: String,
    pub stderr: PathBuf,
    pub dir: tempfile::TempDir,
    /// iopub messages read while waiting for something else, kept for later lookups.
    pub seen: Vec<JupyterMessage>,
}

pub fn msg(msg_type: &str, content: Value) -> JupyterMessage {
    JupyterMessage::new(
        JupyterMessageContent::UnknownMessage(UnknownMessage { msg_type: msg_type.into(), content }),
        None,
    )
}

pub fn content(m: &JupyterMessage) -> Value {
    serde_json::to_value(&m.content).unwrap()
}

pub fn parent_id(m: &JupyterMessage) -> String {
    m.parent_header.as_ref().map(|h| h.msg_id.clone()).unwrap_or_default()
}

pub fn execute_request(code: &str) -> JupyterMessage {
    msg(
        "execute_request",
        json!({"code": code, "silent": false, "store_history": true, "user_expressions": {}, "allow_stdin": false, "stop_on_error": true}),
    )
}

impl Kernel {
    pub async fn start() -> Kernel {
        let dir = tempfile::tempdir().unwrap();
        let ip: std::net::IpAddr = "127.0.0.1".parse().unwrap();
        let (ports, listeners) = peek_ports_with_listeners(ip, 5).await.unwrap();
        let info = ConnectionInfo {
            ip: "127.0.0.1".into(),
            transport: Transport::TCP,
            shell_port: ports[0],
            iopub_port: ports[1],
            stdin_port: ports[2],
            control_port: ports[3],
            hb_port: ports[4],
            key: uuid::Uuid::new_v4().to_string(),
            signature_scheme: "hmac-sha256".into(),
            kernel_name: Some("kelp".into()),
        };
        let cf = dir.path().join("connection.json");
        std::fs::write(&cf, serde_json::to_string(&info).unwrap()).unwrap();
        let stderr = dir.path().join("kernel.stderr");
        let work = dir.path().join("work");
        std::fs::create_dir_all(&work).unwrap();
        drop(listeners);
        let child = Command::new(env!("CARGO_BIN_EXE_kelp"))
            .args(["kernel", "--connection-file"])
            .arg(&cf)
            .current_dir(&work)
            .env("KELP_HOME", dir.path().join("home"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .expect("start kelp kernel");
        let session = uuid::Uuid::new_v4().to_string();
        let identity = peer_identity_for_session(&session).unwrap();
        let shell = create_client_shell_connection_with_identity(&info, &session, identity).await.unwrap();
        let control = create_client_control_connection(&info, &session).await.unwrap();
        let iopub = create_client_iopub_connection(&info, "", &session).await.unwrap();
        let mut k = Kernel { child, info, shell, control, iopub, session, stderr, dir, seen: vec![] };
        // The PUB/SUB handshake is asynchronous: ask until a reply (and its iopub status) comes.
        for _ in 0..100 {
            let id = k.send(msg("kernel_info_request", json!({}))).await;
            let _ = timeout(Duration::from_secs(5), k.shell.read()).await;
            if timeout(Duration::from_millis(500), k.wait_idle(&id)).await.is_ok() {
                break;
            }
        }
        k.seen.clear();
        k
    }

    pub fn work_dir(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    pub async fn send(&mut self, m: JupyterMessage) -> String {
        let id = m.header.msg_id.clone();
        self.shell.send(m).await.unwrap();
        id
    }

    /// Read iopub until `status: idle` for `id`; returns the iopub messages of `id` (in order).
    pub async fn wait_idle(&mut self, id: &str) -> Vec<JupyterMessage> {
        loop {
            if let Some(pos) = self.seen.iter().position(|m| {
                parent_id(m) == id && m.message_type() == "status" && content(m)["execution_state"] == "idle"
            }) {
                let mut mine = vec![];
                let mut rest = vec![];
                for (i, m) in self.seen.drain(..).enumerate() {
                    if parent_id(&m) == id && i <= pos { mine.push(m) } else { rest.push(m) }
                }
                self.seen = rest;
                return mine;
            }
            let m = timeout(T, self.iopub.read()).await.expect("iopub timeout").unwrap();
            self.seen.push(m);
        }
    }

    /// Read shell until the reply to `id`.
    pub async fn reply(&mut self, id: &str) -> JupyterMessage {
        loop {
            let m = timeout(T, self.shell.read()).await.expect("shell timeout").unwrap();
            if parent_id(&m) == id {
                return m;
            }
        }
    }

    /// Execute `code`; (reply content, iopub messages of this request).
    pub async fn execute(&mut self, code: &str) -> (Value, Vec<JupyterMessage>) {
        let id = self.send(execute_request(code)).await;
        let reply = self.reply(&id).await;
        let iopub = self.wait_idle(&id).await;
        (content(&reply), iopub)
    }

    pub fn stderr_text(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }
}

impl Drop for Kernel {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `data` of the first message of `msg_type` in `msgs`.
pub fn first_data(msgs: &[JupyterMessage], msg_type: &str) -> Option<Value> {
    msgs.iter().find(|m| m.message_type() == msg_type).map(|m| content(m)["data"].clone())
}

/// All stream text of `name` in `msgs`.
pub fn stream(msgs: &[JupyterMessage], name: &str) -> String {
    msgs.iter()
        .filter(|m| m.message_type() == "stream")
        .map(content)
        .filter(|c| c["name"] == name)
        .map(|c| c["text"].as_str().unwrap_or("").to_string())
        .collect()
}
