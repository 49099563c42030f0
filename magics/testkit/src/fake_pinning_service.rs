//! [`FakePinningService`]: a FAKE of a remote IPFS Pinning Service (a SaaS we cannot run here),
//! following the published API v1.0.0 (ipfs/pinning-services-api-spec `ipfs-pinning-service.yaml`):
//! Bearer auth (401 otherwise), `POST /pins` → 202 PinStatus (queued, then pinned on the next
//! read), `GET /pins` with cid/name/status/limit filters (no status filter ⇒ only `pinned`),
//! `GET /pins/{requestid}`, `DELETE /pins/{requestid}` → 202, errors `{error: {reason, details}}`.

#![allow(clippy::result_large_err)] // handlers return axum responses as errors

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[derive(Default)]
struct Inner {
    pins: Vec<Value>,
    next: u64,
    /// Authorization headers seen (tests check the token travels only there).
    seen_auth: Vec<String>,
}

#[derive(Clone)]
struct App {
    token: String,
    inner: Arc<Mutex<Inner>>,
}

/// A running fake; dropped = stopped.
pub struct FakePinningService {
    pub url: String,
    inner: Arc<Mutex<Inner>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakePinningService {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakePinningService {
    pub async fn start(token: &str) -> FakePinningService {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app = App { token: token.to_string(), inner: inner.clone() };
        let router = Router::new()
            .route("/pins", get(list).post(add))
            .route("/pins/{id}", get(status).delete(remove).post(replace))
            .with_state(app);
        let (url, task) = crate::serve(router).await;
        FakePinningService { url, inner, task }
    }

    pub fn pinned_cids(&self) -> Vec<String> {
        self.inner.lock().unwrap().pins.iter().map(|p| p["pin"]["cid"].as_str().unwrap().to_string()).collect()
    }

    pub fn seen_auth(&self) -> Vec<String> {
        self.inner.lock().unwrap().seen_auth.clone()
    }
}

fn error(code: StatusCode, reason: &str, details: &str) -> Response {
    (code, Json(json!({"error": {"reason": reason, "details": details}}))).into_response()
}

fn authorized(app: &App, h: &HeaderMap) -> Result<(), Response> {
    let got = h.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    app.inner.lock().unwrap().seen_auth.push(got.clone());
    if got == format!("Bearer {}", app.token) {
        Ok(())
    } else {
        Err(error(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", "Access token is missing or invalid"))
    }
}

fn valid_pin(pin: &Value) -> Result<(), Response> {
    let cid = pin.get("cid").and_then(|c| c.as_str()).unwrap_or("");
    if cid::Cid::try_from(cid).is_err() {
        return Err(error(StatusCode::BAD_REQUEST, "BAD_REQUEST", "cid is not a valid CID"));
    }
    if pin.get("name").and_then(|n| n.as_str()).is_some_and(|n| n.len() > 255) {
        return Err(error(StatusCode::BAD_REQUEST, "BAD_REQUEST", "name is longer than 255 characters"));
    }
    Ok(())
}

async fn add(State(app): State<App>, h: HeaderMap, Json(pin): Json<Value>) -> Response {
    if let Err(r) = authorized(&app, &h).and_then(|()| valid_pin(&pin)) {
        return r;
    }
    let mut inner = app.inner.lock().unwrap();
    inner.next += 1;
    let st = json!({
        "requestid": format!("fake-req-{}", inner.next),
        "status": "queued",
        "created": "2026-11-22T05:00:00Z",
        "pin": pin,
        "delegates": ["/ip4/203.0.113.1/tcp/4001/p2p/QmNnooDu7bfjPFoTZYxMNLWUQJyrVwtbZg5gBMjTezGAJN"],
        "info": {},
    });
    inner.pins.push(st.clone());
    (StatusCode::ACCEPTED, Json(st)).into_response()
}

/// A queued pin becomes pinned once it has been seen (the fake "fetches" instantly).
fn advance(p: &mut Value) {
    if p["status"] == "queued" {
        p["status"] = json!("pinned");
    }
}

async fn list(State(app): State<App>, h: HeaderMap, Query(q): Query<HashMap<String, String>>) -> Response {
    if let Err(r) = authorized(&app, &h) {
        return r;
    }
    let statuses: Vec<String> =
        q.get("status").map(|s| s.split(',').map(str::to_string).collect()).unwrap_or_else(|| vec!["pinned".into()]);
    let cids: Option<Vec<String>> = q.get("cid").map(|s| s.split(',').map(str::to_string).collect());
    let limit: usize = q.get("limit").and_then(|l| l.parse().ok()).unwrap_or(10);
    if !(1..=1000).contains(&limit) {
        return error(StatusCode::BAD_REQUEST, "BAD_REQUEST", "limit must be 1..1000");
    }
    let mut inner = app.inner.lock().unwrap();
    let mut results = Vec::new();
    for p in inner.pins.iter_mut() {
        advance(p);
        let st = p["status"].as_str().unwrap().to_string();
        let cid = p["pin"]["cid"].as_str().unwrap().to_string();
        if statuses.contains(&st) && cids.as_ref().is_none_or(|c| c.contains(&cid)) {
            if let Some(n) = q.get("name")
                && p["pin"]["name"].as_str() != Some(n.as_str())
            {
                continue;
            }
            results.push(p.clone());
        }
    }
    let count = results.len();
    results.truncate(limit);
    Json(json!({"count": count, "results": results})).into_response()
}

async fn status(State(app): State<App>, h: HeaderMap, Path(id): Path<String>) -> Response {
    if let Err(r) = authorized(&app, &h) {
        return r;
    }
    let mut inner = app.inner.lock().unwrap();
    match inner.pins.iter_mut().find(|p| p["requestid"] == id.as_str()) {
        Some(p) => {
            advance(p);
            Json(p.clone()).into_response()
        }
        None => error(StatusCode::NOT_FOUND, "NOT_FOUND", "The specified resource was not found"),
    }
}

async fn replace(State(app): State<App>, h: HeaderMap, Path(id): Path<String>, Json(pin): Json<Value>) -> Response {
    if let Err(r) = authorized(&app, &h).and_then(|()| valid_pin(&pin)) {
        return r;
    }
    let mut inner = app.inner.lock().unwrap();
    match inner.pins.iter_mut().find(|p| p["requestid"] == id.as_str()) {
        Some(p) => {
            p["pin"] = pin;
            p["status"] = json!("queued");
            (StatusCode::ACCEPTED, Json(p.clone())).into_response()
        }
        None => error(StatusCode::NOT_FOUND, "NOT_FOUND", "The specified resource was not found"),
    }
}

async fn remove(State(app): State<App>, h: HeaderMap, Path(id): Path<String>) -> Response {
    if let Err(r) = authorized(&app, &h) {
        return r;
    }
    let mut inner = app.inner.lock().unwrap();
    let before = inner.pins.len();
    inner.pins.retain(|p| p["requestid"] != id.as_str());
    if inner.pins.len() == before {
        return error(StatusCode::NOT_FOUND, "NOT_FOUND", "The specified resource was not found");
    }
    StatusCode::ACCEPTED.into_response()
}
