//! A trustless gateway (the Trustless Gateway spec, IPIP-402) serving the local store over HTTP:
//! `kelp ipfs serve --gateway ADDR`, or [`GatewayServer::start`] from other code. It owns the
//! HTTP face only; blocks come from [`Store`] (hash-verified on every read).
//!
//! - `GET|HEAD /ipfs/{cid}?format=raw` (or `Accept: application/vnd.ipld.raw`): the block;
//! - `GET|HEAD /ipfs/{cid}?format=car` (or `Accept: application/vnd.ipld.car`): a CAR v1 of the
//!   DAG, streamed, depth-first, no duplicates, `dag-scope=all|entity|block` (default all), and
//!   `entity-bytes=FROM:TO|FROM:*` with `dag-scope=entity` (only the blocks of that range);
//! - 400 for a bad CID or parameter, 404 for a root not in the store, 406 when neither raw nor
//!   CAR was asked for (this gateway serves verifiable responses only);
//! - headers: `Content-Type`, `X-Content-Type-Options: nosniff`, `Cache-Control: public,
//!   max-age=29030400, immutable`, `Etag`, `X-Ipfs-Path`, `Vary: Accept`.
//!
//! It binds to loopback unless `allow_remote` is given: anyone who can reach it can read every
//! block in the store.

use crate::fetch::{Scope, Want, wanted_links};
use crate::pb::put_varint;
use crate::store::Store;
use crate::{IpfsError, car, parse_cid};
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;

const RAW_TYPE: &str = "application/vnd.ipld.raw";
const CAR_TYPE: &str = "application/vnd.ipld.car";

/// A running gateway; stopped by [`GatewayServer::stop`] or when dropped.
#[derive(Debug)]
pub struct GatewayServer {
    addr: SocketAddr,
    stop: kelp_magic::CancelToken,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl GatewayServer {
    /// Serve `store` on `addr` (port 0: any free port). A non-loopback address is refused
    /// unless `allow_remote`.
    pub async fn start(store: Store, addr: SocketAddr, allow_remote: bool) -> Result<GatewayServer, IpfsError> {
        if !addr.ip().is_loopback() && !allow_remote {
            return Err(IpfsError::BadOption(format!(
                "refusing to serve the IPFS store on {addr}, which is not a loopback address: \
                 anyone who can reach it could read every block; pass --allow-remote to do it anyway"
            )));
        }
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(IpfsError::io(format!("binding the gateway to {addr}")))?;
        let addr = listener.local_addr().map_err(IpfsError::io("reading the gateway's address"))?;
        let app = axum::Router::new().route("/ipfs/{cid}", axum::routing::get(handle)).with_state(store);
        let stop = kelp_magic::CancelToken::new();
        let s = stop.clone();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).with_graceful_shutdown(async move { s.cancelled().await }).await;
        });
        Ok(GatewayServer { addr, stop, task: Some(task) })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR`, the base URL clients use.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stop serving and wait for open responses to end.
    pub async fn stop(mut self) {
        self.stop.cancel();
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

impl Drop for GatewayServer {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

fn plain(status: StatusCode, msg: String) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], msg + "\n").into_response()
}

async fn handle(
    State(store): State<Store>,
    Path(cid_text): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let cid = match parse_cid(&cid_text) {
        Ok(c) => c,
        Err(e) => return plain(StatusCode::BAD_REQUEST, e.to_string()),
    };
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    let format = match q.get("format").map(String::as_str) {
        Some("raw") => RAW_TYPE,
        Some("car") => CAR_TYPE,
        Some(f) => {
            return plain(StatusCode::BAD_REQUEST, format!("format={f} is not served: use format=raw or format=car"));
        }
        None if accept.contains(RAW_TYPE) => RAW_TYPE,
        None if accept.contains(CAR_TYPE) => CAR_TYPE,
        None => {
            return plain(
                StatusCode::NOT_ACCEPTABLE,
                format!(
                    "this is a trustless gateway: ask for ?format=raw or ?format=car (Accept: {RAW_TYPE} or {CAR_TYPE})"
                ),
            );
        }
    };
    let mut scope = match q.get("dag-scope").map(String::as_str) {
        None => Scope::All,
        Some(s) => match Scope::parse(s) {
            Some(s) => s,
            None => {
                return plain(StatusCode::BAD_REQUEST, format!("dag-scope={s} is not valid: use all, entity or block"));
            }
        },
    };
    if let Some(range) = q.get("entity-bytes") {
        match Scope::entity_bytes(range) {
            Some(b) if scope == Scope::Entity => scope = b,
            Some(_) => return plain(StatusCode::BAD_REQUEST, "entity-bytes goes with dag-scope=entity".to_string()),
            None => {
                return plain(
                    StatusCode::BAD_REQUEST,
                    format!("entity-bytes={range} is not valid: use FROM:TO or FROM:* with whole numbers, FROM <= TO"),
                );
            }
        }
    }
    let s = store.clone();
    let root = match tokio::task::spawn_blocking(move || s.get_block(&cid)).await {
        Ok(Ok(b)) => b,
        Ok(Err(IpfsError::NotFound(_))) => return plain(StatusCode::NOT_FOUND, format!("{cid} is not in this store")),
        Ok(Err(e)) => return plain(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        Err(e) => return plain(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    let mut h = HeaderMap::new();
    let hv = |s: &str| HeaderValue::from_str(s).unwrap_or(HeaderValue::from_static(""));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=29030400, immutable"));
    h.insert(header::VARY, HeaderValue::from_static("Accept"));
    h.insert("x-ipfs-path", hv(&format!("/ipfs/{cid}")));
    if format == RAW_TYPE {
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(RAW_TYPE));
        h.insert(header::ETAG, hv(&format!("\"{cid}.raw\"")));
        h.insert(header::CONTENT_DISPOSITION, hv(&format!("attachment; filename=\"{cid}.bin\"")));
        return (StatusCode::OK, h, root).into_response();
    }
    let scope_name = scope.query().replace("dag-scope=", "").replace("&entity-bytes=", ".");
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/vnd.ipld.car; version=1; order=dfs; dups=n"));
    h.insert(header::ETAG, hv(&format!("\"{cid}.car.{scope_name}\"")));
    h.insert(header::CONTENT_DISPOSITION, hv(&format!("attachment; filename=\"{cid}.car\"")));
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(8);
    tokio::task::spawn_blocking(move || {
        let mut out = Vec::with_capacity(64 << 10);
        let head = car::header(&[cid]);
        put_varint(&mut out, head.len() as u64);
        out.extend_from_slice(&head);
        let r = walk(&store, &cid, root, scope, &mut |c, b| {
            let cb = c.to_bytes();
            put_varint(&mut out, (cb.len() + b.len()) as u64);
            out.extend_from_slice(&cb);
            out.extend_from_slice(b);
            if out.len() >= 256 << 10 && tx.blocking_send(Ok(std::mem::take(&mut out))).is_err() {
                return Err(IpfsError::Cancelled("serving a CAR".into()));
            }
            Ok(())
        });
        let last = match r {
            Ok(()) => Ok(out),
            // A DAG the store holds only in part ends the body early: the client sees a
            // truncated CAR, as the spec allows for errors after the headers are sent.
            Err(e) => Err(std::io::Error::other(e.to_string())),
        };
        let _ = tx.blocking_send(last);
    });
    let stream = futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|x| (x, rx)) });
    (StatusCode::OK, h, Body::from_stream(stream)).into_response()
}

/// What [`walk`] calls with each block.
pub(crate) type Visit<'a> = dyn FnMut(&cid::Cid, &[u8]) -> Result<(), IpfsError> + 'a;

/// Visit the blocks of `scope` below `root` (whose bytes are `root_block`), depth-first,
/// each once; bounded by the store's depth limit.
pub(crate) fn walk(
    store: &Store,
    root: &cid::Cid,
    root_block: Vec<u8>,
    scope: Scope,
    visit: &mut Visit<'_>,
) -> Result<(), IpfsError> {
    let max_depth = store.limits().max_depth;
    let mut seen = HashSet::new();
    let mut stack = vec![(*root, 0usize, Want::ROOT, Some(root_block))];
    while let Some((c, depth, want, held)) = stack.pop() {
        if !seen.insert(c.hash().to_bytes()) {
            continue;
        }
        if depth > max_depth {
            return Err(store.limits().too_deep("block", &c));
        }
        let b = match held {
            Some(b) => b,
            None => store.get_block(&c)?,
        };
        visit(&c, &b)?;
        let links = wanted_links(&c, &b, scope, want)?;
        stack.extend(links.into_iter().rev().map(|(l, f)| (l, depth + 1, f, None)));
    }
    Ok(())
}
