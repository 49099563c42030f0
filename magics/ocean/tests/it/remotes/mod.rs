//! A FAKE of a remote SaaS that `%publish` pushes a local-only CID to (we cannot run it here),
//! following its published API and keeping what it received in the IPFS store of "the network"
//! (a folder the test's Ocean node reads `ipfs` files from), so that the node can fetch a file
//! only when the push really put it there (Lighthouse is kelp-testkit's `FakeLighthouse`, given a
//! callback that adds to that store):
//!
//! - `FakePinningService`: IPFS Pinning Service API v1.0.0 (ipfs/pinning-services-api-spec):
//!   Bearer auth, `POST /pins` → 202 PinStatus `queued` with the service's `delegates`,
//!   `GET /pins/{requestid}`. Like a real service it fetches the DAG itself, over Bitswap, with a
//!   real kelp IPFS node of its own: from the request's `origins` ([`Fetch::Origins`]), from
//!   peers that dial its delegates ([`Fetch::Delegates`]), or from nobody ([`Fetch::Nobody`]: no
//!   delegates, origins ignored); the pin is `pinned` once every block arrived, else `failed`
//!   ([`Fetch::Never`]: it stays `queued`).

use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use kelp_ipfs::Store;
use kelp_ipfs::fetch::{Gateways, Scope};
use kelp_ipfs::net::Node;
use serde_json::{Value, json};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The IPFS store of "the network": what the test's Ocean node reads `ipfs` files from.
pub fn network_store(home: &Path) -> Store {
    Store::open_default(&kelp_magic::Config::at(home)).unwrap()
}

async fn serve(router: Router) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    (url, tokio::spawn(async move { axum::serve(listener, router).await.unwrap() }))
}

fn authorized(h: &HeaderMap, token: &str) -> bool {
    h.get("authorization").and_then(|v| v.to_str().ok()) == Some(&format!("Bearer {token}"))
}

/// Where the fake pinning service fetches pinned DAGs from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fetch {
    /// Dial the request's `origins`.
    Origins,
    /// Answer with delegates and wait for the client to dial them.
    Delegates,
    /// No delegates, origins ignored (a service that finds nobody holding the CID).
    Nobody,
    /// The pin stays `queued` (a service that never gets to it).
    Never,
}

#[derive(Clone)]
struct PinApp {
    token: String,
    fetch: Fetch,
    node: Arc<Node>,
    store: Store,
    delegates: Vec<String>,
    pins: Arc<Mutex<Vec<Value>>>,
}

pub struct FakePinningService {
    pub url: String,
    pins: Arc<Mutex<Vec<Value>>>,
    node: Arc<Node>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakePinningService {
    fn drop(&mut self) {
        self.task.abort();
        self.node.stop();
    }
}

impl FakePinningService {
    /// A service keeping its pins in the store under `network_home`.
    pub async fn start(token: &str, network_home: &Path, fetch: Fetch) -> FakePinningService {
        let store = network_store(network_home);
        let listen = kelp_ipfs::net::parse_multiaddrs("/ip4/127.0.0.1/tcp/0", "listen").unwrap();
        let node = Arc::new(Node::start(store.clone(), listen, vec![]).await.unwrap());
        let info = node.info().await.unwrap();
        let delegates = match fetch {
            Fetch::Nobody | Fetch::Never => vec![],
            _ => info.listen.iter().map(|a| a.to_string()).collect(),
        };
        let pins = Arc::new(Mutex::new(Vec::new()));
        let app = PinApp { token: token.into(), fetch, node: node.clone(), store, delegates, pins: pins.clone() };
        let router = Router::new().route("/pins", post(pin_add)).route("/pins/{id}", get(pin_status)).with_state(app);
        let (url, task) = serve(router).await;
        FakePinningService { url, pins, node, task }
    }

    /// Every pin request as the service keeps it (PinStatus objects).
    pub fn pins(&self) -> Vec<Value> {
        self.pins.lock().unwrap().clone()
    }
}

fn pin_error(code: StatusCode, reason: &str, details: &str) -> Response {
    (code, Json(json!({"error": {"reason": reason, "details": details}}))).into_response()
}

async fn pin_add(State(app): State<PinApp>, h: HeaderMap, Json(pin): Json<Value>) -> Response {
    if !authorized(&h, &app.token) {
        return pin_error(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", "Access token is missing or invalid");
    }
    let Some(cid) = pin["cid"].as_str().and_then(|c| kelp_ipfs::parse_cid(c).ok()) else {
        return pin_error(StatusCode::BAD_REQUEST, "BAD_REQUEST", "cid is not a valid CID");
    };
    let st = {
        let mut pins = app.pins.lock().unwrap();
        let st = json!({
            "requestid": format!("fake-req-{}", pins.len() + 1), "status": "queued",
            "created": "2026-12-05T07:00:00Z", "pin": pin, "delegates": app.delegates, "info": {},
        });
        pins.push(st.clone());
        st
    };
    let id = st["requestid"].as_str().unwrap().to_string();
    if app.fetch == Fetch::Never {
        return (StatusCode::ACCEPTED, Json(st)).into_response();
    }
    tokio::spawn(async move {
        let node = app.node.clone();
        match app.fetch {
            Fetch::Origins => {
                let origins: Vec<String> = pin["origins"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|o| o.as_str().map(String::from))
                    .collect();
                if let Ok(addrs) = kelp_ipfs::net::parse_multiaddrs(&origins.join(","), "origin") {
                    let _ = node.dial(addrs);
                }
            }
            Fetch::Delegates | Fetch::Nobody | Fetch::Never => {}
        }
        // A peer to fetch from: the dialled origin, or the client dialling a delegate.
        for _ in 0..100 {
            if node.info().await.is_ok_and(|i| !i.connected.is_empty()) || app.fetch == Fetch::Nobody {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let gw = Gateways::new(vec![]).unwrap().with_network(node, Duration::from_secs(10));
        let fetched =
            gw.fetch(&app.store, &cid, Scope::All, &kelp_magic::CancelToken::new(), &mut |_| {}).await.is_ok();
        let pinned = fetched && app.store.pin(&cid, None).is_ok();
        let mut pins = app.pins.lock().unwrap();
        if let Some(p) = pins.iter_mut().find(|p| p["requestid"] == id.as_str()) {
            p["status"] = json!(if pinned { "pinned" } else { "failed" });
        }
    });
    (StatusCode::ACCEPTED, Json(st)).into_response()
}

async fn pin_status(State(app): State<PinApp>, h: HeaderMap, UrlPath(id): UrlPath<String>) -> Response {
    if !authorized(&h, &app.token) {
        return pin_error(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", "Access token is missing or invalid");
    }
    match app.pins.lock().unwrap().iter().find(|p| p["requestid"] == id.as_str()) {
        Some(p) => Json(p.clone()).into_response(),
        None => pin_error(StatusCode::NOT_FOUND, "NOT_FOUND", "The specified resource was not found"),
    }
}
