// The module docs are on `pub mod jupyter` in lib.rs.

use serde_json::{Value, json};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

pub struct Server {
    /// `http://127.0.0.1:<port>`
    pub base: String,
    pub token: String,
    pub runtime_dir: PathBuf,
    pub relay_file: PathBuf,
    pub relay_url: String,
    pub relay_secret: String,
    /// The server's log (DEBUG: every request is logged with its URL).
    pub log: PathBuf,
    _watchdog: Mutex<Child>,
}

fn venv() -> PathBuf {
    std::env::var_os("KELP_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv"))
}

pub fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(start)
}

/// The server for a test that drives its browser wallet: there is one server (and one list of
/// pending requests) per test process, so such tests take turns. Hold the guard for the test.
pub async fn exclusive() -> (tokio::sync::MutexGuard<'static, ()>, &'static Server) {
    static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let turn = TURN.lock().await;
    (turn, server())
}

fn start() -> Server {
    let venv = venv();
    let jupyter = venv.join("bin/jupyter");
    assert!(
        jupyter.exists(),
        "{} is missing: run ./install/setup (install/setup.d/60-labext.sh makes .venv with JupyterLab and kelp_labextension)",
        jupyter.display()
    );
    let check = Command::new(venv.join("bin/python")).args(["-c", "import kelp_labextension"]).output().unwrap();
    assert!(
        check.status.success(),
        "kelp_labextension is not installed in {}: run ./install/setup ({})",
        venv.display(),
        String::from_utf8_lossy(&check.stderr)
    );
    let work = std::env::temp_dir().join(format!("kelp-relay-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    for d in ["config", "data", "runtime", "root"] {
        std::fs::create_dir_all(work.join(d)).unwrap();
    }
    // (not crate::free_port: kelp-ocean includes this file where that path does not exist)
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let token = format!("test-token-{}-{port}", std::process::id());
    let runtime_dir = work.join("runtime");
    let script = r#"work=$1; shift
"$@" >"$work/server.log" 2>&1 &
pid=$!
read _ || true
kill $pid 2>/dev/null; wait $pid 2>/dev/null
rm -rf "$work""#;
    let child = Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg("sh")
        .arg(&work)
        .arg(&jupyter)
        .args([
            "server",
            "--no-browser",
            "--allow-root",
            "--ServerApp.ip=127.0.0.1",
            &format!("--ServerApp.port={port}"),
            "--ServerApp.port_retries=0",
            "--ServerApp.log_level=DEBUG",
            &format!("--IdentityProvider.token={token}"),
            &format!("--ServerApp.root_dir={}", work.join("root").display()),
        ])
        .env("JUPYTER_CONFIG_DIR", work.join("config"))
        .env("JUPYTER_DATA_DIR", work.join("data"))
        .env("JUPYTER_RUNTIME_DIR", &runtime_dir)
        .env_remove("KELP_RELAY_URL")
        .env_remove("KELP_RELAY_SECRET")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start sh");
    let started = Instant::now();
    let relay_file = loop {
        let found = std::fs::read_dir(&runtime_dir).ok().and_then(|rd| {
            rd.flatten().map(|e| e.path()).find(|p| {
                let n = p.file_name().unwrap().to_string_lossy().to_string();
                n.starts_with("kelp-relay-") && n.ends_with(".json")
            })
        });
        if let Some(f) = found {
            break f;
        }
        if started.elapsed() > Duration::from_secs(90) {
            let mut log = String::new();
            let _ = std::fs::File::open(work.join("server.log")).and_then(|mut f| f.read_to_string(&mut log));
            panic!("the Jupyter server wrote no kelp-relay-*.json within 90 s; its log:\n{log}");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let file: Value = serde_json::from_str(&std::fs::read_to_string(&relay_file).unwrap()).unwrap();
    Server {
        base: format!("http://127.0.0.1:{port}"),
        token,
        runtime_dir,
        relay_url: file["url"].as_str().unwrap().to_string(),
        relay_secret: file["secret"].as_str().unwrap().to_string(),
        relay_file,
        log: work.join("server.log"),
        _watchdog: Mutex::new(child),
    }
}

/// The browser face, authenticated with the Jupyter token (what the Lab extension's
/// `ServerConnection` does), acting as the person in front of the wallet.
#[derive(Clone)]
pub struct Browser {
    http: reqwest::Client,
    api: String,
    token: String,
}

impl Browser {
    pub fn new(server: &Server) -> Self {
        Browser {
            http: reqwest::Client::builder().no_proxy().build().unwrap(),
            api: format!("{}/kelp/relay", server.base),
            token: server.token.clone(),
        }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, format!("{}/{path}", self.api))
            .header("Authorization", format!("token {}", self.token));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("browser face reachable");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// `GET /requests`: the pending requests, oldest first.
    pub async fn list(&self) -> Vec<Value> {
        let (status, body) = self.call(reqwest::Method::GET, "requests", None).await;
        assert_eq!(status, 200, "{body}");
        body["requests"].as_array().unwrap().clone()
    }

    pub async fn revision(&self) -> i64 {
        self.call(reqwest::Method::GET, "requests", None).await.1["revision"].as_i64().unwrap()
    }

    /// Wait until a pending request whose summary method is `method` shows up.
    pub async fn wait_for(&self, method: &str) -> Value {
        let started = Instant::now();
        loop {
            if let Some(r) = self.list().await.into_iter().find(|r| r["summary"]["method"] == method) {
                return r;
            }
            assert!(started.elapsed() < Duration::from_secs(20), "no request with method {method} reached the browser");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// `POST /requests/<id>/answer`; returns the HTTP status.
    pub async fn answer(&self, id: &str, body: Value) -> u16 {
        self.call(reqwest::Method::POST, &format!("requests/{id}/answer"), Some(body)).await.0
    }

    pub async fn approve(&self, id: &str, result: Value) {
        assert_eq!(self.answer(id, json!({ "result": result })).await, 200);
    }

    pub async fn reject(&self, id: &str) {
        let status = self.answer(id, json!({"error": {"code": 4001, "message": "rejected in wallet"}})).await;
        assert_eq!(status, 200);
    }

    /// `PUT /wallet`.
    pub async fn report_wallet(&self, wallet: Value) {
        assert_eq!(self.call(reqwest::Method::PUT, "wallet", Some(wallet)).await.0, 200);
    }

    /// A long-poll like the Lab extension's (`GET /requests?wait=&after=`), counted as "watching".
    pub async fn long_poll(&self, after: i64, wait: u32) -> (u16, Value) {
        self.call(reqwest::Method::GET, &format!("requests?wait={wait}&after={after}"), None).await
    }
}
