//! A replay of a real Ocean Node v3.1.0: an HTTP server on 127.0.0.1 that answers kelp's
//! requests with the answers a real node gave, from the recorded transcripts
//! (`shared/ocean-node-v3.1.0/transcripts.jsonl` beside the clone, or `$KELP_OCEAN_TRANSCRIPTS`).
//!
//! A test names the records that are live. A request is answered by the first unused live record
//! with the same method, path (repeated slashes collapsed, as the node does), query and JSON body,
//! compared without the values of `nonce` and `signature` (fresh in every run). Records may be
//! told to ignore further fields (`ignoring`), for fields the node is recorded to ignore.
//!
//! The server also checks the SHAPE of what kelp sends against the recorded request, and notes
//! every difference as a problem for the test to assert on: the same query keys, the same JSON
//! key set and value types (so a nonce sent as a number where the real client sent a string is
//! caught), the same request content type, and a signature that recovers to the consumer over
//! `address text + nonce + command` (EIP-191 over keccak256), the message Ocean Node checks.
//! When kelp's nonce equals the recorded one, its signature must equal the recorded signature
//! byte for byte (anvil's keys sign deterministically).
//!
//! Answers carry the recorded status, content type (none when the node sent none) and body:
//! JSON re-serialised, text as is, and file bodies (`{sha256, length, head}`) rebuilt from
//! `head` when it holds the whole file (checked against `sha256`); a longer file cannot be
//! replayed and is a problem.

use alloy::primitives::{Address, Signature, keccak256};
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

// The transcripts are the node crate's test support; each test binary uses some of these.
#[allow(unused_imports)]
pub use kelp_ocean_node::testing::{Record, load, record, transcripts_path};

/// A request the server received: its path and query (what the tests check afterwards).
#[derive(Debug, Clone)]
pub struct Got {
    pub path: String,
    pub query: Map<String, Value>,
}

struct Live {
    record: Record,
    ignore: Vec<String>,
    used: bool,
}

#[derive(Default)]
struct State {
    live: Vec<Live>,
    got: Vec<Got>,
    problems: Vec<String>,
}

/// The running replay server.
pub struct Replay {
    pub url: String,
    state: Arc<Mutex<State>>,
}

/// Fields whose values are fresh in each run.
const FRESH: [&str; 2] = ["nonce", "signature"];

/// The command a signed route's signature covers (Ocean Node v3.1).
fn command(method: &str, path: &str) -> Option<&'static str> {
    Some(match (method, path) {
        ("POST", "/api/services/encrypt") => "encrypt",
        ("POST", "/api/services/encryptFile") => "encryptFile",
        ("GET", "/api/services/download") => "download",
        ("POST", "/api/services/compute") => "startCompute",
        ("POST", "/api/services/freeCompute") => "freeStartCompute",
        ("PUT", "/api/services/compute") => "stopCompute",
        ("GET", "/api/services/computeResult") => "getComputeResult",
        ("GET", "/api/services/computeStreamableLogs") => "getComputeStreamableLogs",
        _ => return None,
    })
}

fn collapse(path: &str) -> String {
    let mut out = String::new();
    for c in path.chars() {
        if !(c == '/' && out.ends_with('/')) {
            out.push(c);
        }
    }
    out
}

/// `v` without the keys in `drop` (top level only).
fn without(v: &Value, drop: &[String]) -> Value {
    match v {
        Value::Object(m) => {
            Value::Object(m.iter().filter(|(k, _)| !drop.contains(k)).map(|(k, v)| (k.clone(), v.clone())).collect())
        }
        other => other.clone(),
    }
}

/// The JSON type name of a value.
pub fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Differences of key sets and value types between what was sent and what was recorded.
fn shape_diff(at: &str, sent: &Value, recorded: &Value, out: &mut Vec<String>) {
    if kind(sent) != kind(recorded) {
        out.push(format!("{at}: sent a {}, the recorded client sent a {}", kind(sent), kind(recorded)));
        return;
    }
    match (sent, recorded) {
        (Value::Object(s), Value::Object(r)) => {
            for k in r.keys().filter(|k| !s.contains_key(*k)) {
                out.push(format!("{at}.{k}: missing (the recorded client sent it)"));
            }
            for k in s.keys().filter(|k| !r.contains_key(*k)) {
                out.push(format!("{at}.{k}: sent, but the recorded client did not send it"));
            }
            for (k, v) in s {
                if let Some(rv) = r.get(k) {
                    shape_diff(&format!("{at}.{k}"), v, rv, out);
                }
            }
        }
        (Value::Array(s), Value::Array(r)) => {
            for (i, (a, b)) in s.iter().zip(r.iter()).enumerate() {
                shape_diff(&format!("{at}[{i}]"), a, b, out);
            }
        }
        _ => {}
    }
}

/// The signer of an Ocean Node request signature: EIP-191 over keccak256(address + nonce + command).
fn signer_of(address: &str, nonce: &str, command: &str, signature: &str) -> Option<Address> {
    let raw = alloy::hex::decode(signature).ok()?;
    let sig = Signature::try_from(raw.as_slice()).ok()?;
    let hash = keccak256(format!("{address}{nonce}{command}").as_bytes());
    sig.recover_address_from_msg(hash.as_slice()).ok()
}

fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The bytes of a recorded body, or why it cannot be replayed.
fn body_bytes(body: &Value, content_type: Option<&str>) -> Result<Vec<u8>, String> {
    if let Some(o) = body.as_object()
        && o.contains_key("sha256")
        && o.contains_key("head_encoding")
    {
        let head: Vec<u8> = o["head"].as_str().unwrap_or("").chars().map(|c| c as u32 as u8).collect();
        let len = o["length"].as_u64().unwrap_or(u64::MAX);
        if head.len() as u64 != len {
            return Err(format!("a file body of {len} bytes; the transcript holds only its first {}", head.len()));
        }
        if alloy::hex::encode(Sha256::digest(&head)) != o["sha256"].as_str().unwrap_or("") {
            return Err("the recorded head does not hash to the recorded sha256".into());
        }
        return Ok(head);
    }
    let json = content_type.is_none_or(|c| c.contains("json"));
    Ok(match body {
        // Text, or a body without content type that was not JSON (kept as its exact text).
        Value::String(s) if !json || content_type.is_none() => s.clone().into_bytes(),
        Value::Null if content_type.is_none() => Vec::new(),
        other => serde_json::to_vec(other).unwrap_or_default(),
    })
}

impl Replay {
    /// Start a replay of the records `names` (each answers once, in this order among records
    /// matching the same request).
    pub async fn start(names: &[&str]) -> Replay {
        Self::start_ignoring(names, &[]).await
    }

    /// As [`Replay::start`], with `(record, fields)`: fields the record's matching ignores (top
    /// level of the query and of the JSON body).
    pub async fn start_ignoring(names: &[&str], ignoring: &[(&str, &[&str])]) -> Replay {
        let all = load();
        let live = names
            .iter()
            .map(|n| {
                let record =
                    all.iter().find(|r| r.name == *n).unwrap_or_else(|| panic!("no transcript named {n}")).clone();
                let mut ignore: Vec<String> = FRESH.iter().map(|s| s.to_string()).collect();
                for (_, fields) in ignoring.iter().filter(|(r, _)| r == n) {
                    ignore.extend(fields.iter().map(|f| f.to_string()));
                }
                Live { record, ignore, used: false }
            })
            .collect();
        let state = Arc::new(Mutex::new(State { live, ..State::default() }));
        let s = state.clone();
        let app = axum::Router::new().fallback(move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
            let s = s.clone();
            async move { answer(&s, method, uri, headers, body) }
        });
        let l = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let url = format!("http://{}", l.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
        Replay { url, state }
    }

    /// What the server received, in order.
    pub fn got(&self) -> Vec<Got> {
        self.state.lock().unwrap().got.clone()
    }

    /// Every difference between kelp's requests and the recorded ones (empty: none).
    pub fn problems(&self) -> Vec<String> {
        self.state.lock().unwrap().problems.clone()
    }

    /// The live records not used yet.
    pub fn unused(&self) -> Vec<String> {
        self.state.lock().unwrap().live.iter().filter(|l| !l.used).map(|l| l.record.name.clone()).collect()
    }

    /// Assert that every request matched a record in shape and signature, and (when `all`)
    /// that every live record was asked for.
    pub fn assert_clean(&self, all: bool) {
        let problems = self.problems();
        assert!(problems.is_empty(), "kelp's requests differ from the real client's:\n{}", problems.join("\n"));
        if all {
            assert!(self.unused().is_empty(), "never requested: {:?}", self.unused());
        }
    }
}

fn answer(state: &Mutex<State>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let path = collapse(uri.path());
    let query: Map<String, Value> = reqwest::Url::parse(&format!("http://replay{uri}"))
        .map(|u| u.query_pairs().map(|(k, v)| (k.into_owned(), Value::String(v.into_owned()))).collect())
        .unwrap_or_default();
    let content_type = headers.get("content-type").and_then(|v| v.to_str().ok()).map(str::to_string);
    let body: Value = if body.is_empty() {
        Value::Null
    } else if content_type.as_deref().is_some_and(|c| c.contains("json")) {
        serde_json::from_slice(&body).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()))
    } else {
        Value::String(String::from_utf8_lossy(&body).into_owned())
    };
    let mut st = state.lock().unwrap();
    let query_v = Value::Object(query.clone());
    let found = st.live.iter().position(|l| {
        let r = &l.record.request;
        let rbody = if r["body"] == "" { Value::Null } else { r["body"].clone() };
        !l.used
            && r["method"] == method.as_str()
            && r["path"].as_str().map(collapse).as_deref() == Some(path.as_str())
            && without(&r["query"], &l.ignore) == without(&query_v, &l.ignore)
            && without(&rbody, &l.ignore) == without(&body, &l.ignore)
    });
    let got = Got { path: path.clone(), query: query.clone() };
    let Some(i) = found else {
        st.problems.push(format!("{method} {path} {query_v} {body}: no live record answers this request"));
        st.got.push(got);
        return (StatusCode::NOT_IMPLEMENTED, "replay: no recorded answer").into_response();
    };
    st.live[i].used = true;
    let rec = st.live[i].record.clone();
    let mut problems = Vec::new();
    // The shape of what was sent, against the recorded request.
    let r = &rec.request;
    let recorded_ct = r["headers"]["content-type"].as_str();
    if recorded_ct.map(|c| c.split(';').next().unwrap_or("").trim().to_string())
        != content_type.as_deref().map(|c| c.split(';').next().unwrap_or("").trim().to_string())
    {
        problems.push(format!("content type {content_type:?}, the recorded client sent {recorded_ct:?}"));
    }
    shape_diff("query", &query_v, &r["query"], &mut problems);
    if body.is_object() || r["body"].is_object() {
        shape_diff("body", &body, &r["body"], &mut problems);
    }
    // The signature: the node's message, and byte-equal to the recording on the same nonce.
    if let Some(cmd) = command(method.as_str(), &path) {
        let field = |k: &str| query.get(k).or_else(|| body.get(k)).and_then(text_of);
        let recorded = |k: &str| r["query"].get(k).or_else(|| r["body"].get(k)).and_then(text_of);
        match (field("consumerAddress"), field("nonce"), field("signature")) {
            (Some(addr), Some(nonce), Some(sig)) => {
                let want: Option<Address> = addr.parse().ok();
                if signer_of(&addr, &nonce, cmd, &sig).is_none_or(|a| Some(a) != want) {
                    problems.push(format!("signature does not recover to {addr} over {addr}{nonce}{cmd}"));
                }
                if recorded("nonce").as_deref() == Some(nonce.as_str()) && recorded("signature") != Some(sig.clone()) {
                    problems.push(format!("on the recorded nonce {nonce} the signature differs from the recorded one"));
                }
            }
            _ => problems.push(format!("{cmd}: consumerAddress, nonce and signature are not all sent")),
        }
    }
    st.problems.extend(problems.into_iter().map(|p| format!("{} ({}): {p}", rec.name, rec.by)));
    st.got.push(got);
    let resp = &rec.response;
    let ct = resp["headers"]["content-type"].as_str();
    let bytes = match body_bytes(&resp["body"], ct) {
        Ok(b) => b,
        Err(e) => {
            st.problems.push(format!("{}: cannot be replayed: {e}", rec.name));
            return (StatusCode::NOT_IMPLEMENTED, "replay: body not replayable").into_response();
        }
    };
    let mut out = Response::new(axum::body::Body::from(bytes));
    *out.status_mut() = StatusCode::from_u16(resp["status"].as_u64().unwrap_or(500) as u16).unwrap();
    let keep: HashMap<&str, ()> = [("content-type", ()), ("content-disposition", ())].into();
    if let Some(h) = resp["headers"].as_object() {
        for (k, v) in h.iter().filter(|(k, _)| keep.contains_key(k.as_str())) {
            if let Some(v) = v.as_str().and_then(|v| v.parse().ok()) {
                out.headers_mut().insert(axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(), v);
            }
        }
    }
    out
}
