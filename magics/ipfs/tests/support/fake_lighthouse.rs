//! `fake_lighthouse`: a FAKE of Lighthouse's upload endpoint (a remote SaaS we cannot run here),
//! following its published Kubo-style API: `POST /api/v0/add?cid-version=N`, multipart `file`
//! part(s), `Authorization: Bearer <API key>`, reply `{"Name", "Hash", "Size"}`. The fake
//! computes the CID the way Lighthouse's Kubo node does for a single file (Kubo defaults for the
//! requested CID version) and keeps the uploaded bytes for the test to check.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// (file name, bytes) of each upload.
type Uploads = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

#[derive(Clone)]
struct App {
    key: String,
    uploads: Uploads,
}

pub struct FakeLighthouse {
    pub url: String,
    uploads: Uploads,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeLighthouse {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeLighthouse {
    pub async fn start(key: &str) -> FakeLighthouse {
        let uploads = Arc::new(Mutex::new(Vec::new()));
        let app = App { key: key.to_string(), uploads: uploads.clone() };
        let router = Router::new().route("/api/v0/add", post(add)).with_state(app);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        FakeLighthouse { url, uploads, task }
    }

    /// (file name, bytes) of every uploaded file.
    pub fn uploads(&self) -> Vec<(String, Vec<u8>)> {
        self.uploads.lock().unwrap().clone()
    }
}

/// Split a multipart body into (headers, content) parts.
fn parts(body: &[u8], boundary: &str) -> Vec<(String, Vec<u8>)> {
    let delim = format!("--{boundary}").into_bytes();
    let mut out = Vec::new();
    let mut starts = Vec::new();
    let mut i = 0;
    while i + delim.len() <= body.len() {
        if body[i..].starts_with(&delim) {
            starts.push(i);
            i += delim.len();
        } else {
            i += 1;
        }
    }
    for w in starts.windows(2) {
        let part = &body[w[0] + delim.len()..w[1]];
        let part = part.strip_prefix(b"\r\n").unwrap_or(part);
        let part = part.strip_suffix(b"\r\n").unwrap_or(part);
        if let Some(p) = part.windows(4).position(|x| x == b"\r\n\r\n") {
            out.push((String::from_utf8_lossy(&part[..p]).into_owned(), part[p + 4..].to_vec()));
        }
    }
    out
}

async fn add(State(app): State<App>, h: HeaderMap, Query(q): Query<HashMap<String, String>>, body: Bytes) -> Response {
    let auth = h.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("");
    if auth != format!("Bearer {}", app.key) {
        return (StatusCode::UNAUTHORIZED, Json(serde_json::json!({"error": "Authentication failed"}))).into_response();
    }
    let ct = h.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
    let Some(boundary) = ct.split("boundary=").nth(1) else {
        return (StatusCode::BAD_REQUEST, "expected multipart/form-data").into_response();
    };
    let files: Vec<_> = parts(&body, boundary.trim_matches('"'))
        .into_iter()
        .filter(|(hd, _)| hd.contains("name=\"file\"") && !hd.contains("application/x-directory"))
        .collect();
    let [(headers, content)] = files.as_slice() else {
        return (StatusCode::BAD_REQUEST, "the fake takes exactly one file").into_response();
    };
    let name = headers.split("filename=\"").nth(1).and_then(|s| s.split('"').next()).unwrap_or("file").to_string();
    let v: u8 = q.get("cid-version").and_then(|v| v.parse().ok()).unwrap_or(0);
    let opts = kelp_ipfs::AddOptions { cid_version: v, ..kelp_ipfs::AddOptions::default() };
    let cid = kelp_ipfs::cid_of_bytes(content, &opts).unwrap().to_string();
    app.uploads.lock().unwrap().push((name.clone(), content.clone()));
    Json(serde_json::json!({"Name": name, "Hash": cid, "Size": content.len().to_string()})).into_response()
}
