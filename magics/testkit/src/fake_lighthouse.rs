//! [`FakeLighthouse`]: a FAKE of Lighthouse's upload endpoint (a remote SaaS we cannot run here),
//! following its published Kubo-style API: `POST /api/v0/add?cid-version=N`, multipart `file`
//! part(s), `Authorization: Bearer <API key>`, reply `{"Name", "Hash", "Size"}`, 401
//! `{"error": "Authentication failed"}` for a wrong key. The caller says what CID the service
//! answers for the bytes (the way Lighthouse's Kubo node computes it, and wherever the test wants
//! the bytes kept); the fake keeps each upload for the test to check.

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

/// What the service does with an upload: (file name, bytes, requested CID version) → its CID.
pub type OnUpload = Arc<dyn Fn(&str, &[u8], u8) -> String + Send + Sync>;

#[derive(Clone)]
struct App {
    key: String,
    uploads: Uploads,
    on_upload: OnUpload,
}

/// A running fake; dropped = stopped.
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
    /// Accepting `key`; `on_upload` gives the CID of each uploaded file (and may store it).
    pub async fn start(key: &str, on_upload: impl Fn(&str, &[u8], u8) -> String + Send + Sync + 'static) -> Self {
        let uploads = Arc::new(Mutex::new(Vec::new()));
        let app = App { key: key.to_string(), uploads: uploads.clone(), on_upload: Arc::new(on_upload) };
        let (url, task) = crate::serve(Router::new().route("/api/v0/add", post(add)).with_state(app)).await;
        FakeLighthouse { url, uploads, task }
    }

    /// (file name, bytes) of every uploaded file.
    pub fn uploads(&self) -> Vec<(String, Vec<u8>)> {
        self.uploads.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

async fn add(State(app): State<App>, h: HeaderMap, Query(q): Query<HashMap<String, String>>, body: Bytes) -> Response {
    let auth = h.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("");
    if auth != format!("Bearer {}", app.key) {
        return (StatusCode::UNAUTHORIZED, Json(serde_json::json!({"error": "Authentication failed"}))).into_response();
    }
    let ct = h.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
    let Some(boundary) = crate::multipart::boundary(ct) else {
        return (StatusCode::BAD_REQUEST, "expected multipart/form-data").into_response();
    };
    let files: Vec<_> = crate::multipart::parts(&body, boundary)
        .into_iter()
        .filter(|(hd, _)| hd.contains("name=\"file\"") && !hd.contains("application/x-directory"))
        .collect();
    let [(headers, content)] = files.as_slice() else {
        return (StatusCode::BAD_REQUEST, "the fake takes exactly one file").into_response();
    };
    let name = crate::multipart::filename(headers).unwrap_or("file").to_string();
    let v: u8 = q.get("cid-version").and_then(|v| v.parse().ok()).unwrap_or(0);
    let cid = (app.on_upload)(&name, content, v);
    app.uploads.lock().unwrap_or_else(|e| e.into_inner()).push((name.clone(), content.clone()));
    Json(serde_json::json!({"Name": name, "Hash": cid, "Size": content.len().to_string()})).into_response()
}
