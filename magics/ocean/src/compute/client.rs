//! HTTP client of an Ocean Node's compute routes (REFERENCE §4.7, Ocean Node v3 shapes):
//! `computeEnvironments`, `initializeCompute`, `compute` (start, status, stop) and
//! `computeResult`, with Ocean Node request signatures (`startCompute`, `stopCompute`,
//! `getComputeResult`). A non-2xx answer's one-line body becomes the error line.

use crate::error::{OceanError, Result, one_line};
use crate::provider::NodeClient;
use crate::signer::Signer;
use alloy::primitives::Address;
use serde_json::Value;
use std::path::Path;

/// Time limit of status, environment and stop calls.
const QUICK: std::time::Duration = std::time::Duration::from_secs(30);

/// The compute routes of one node.
#[derive(Debug, Clone)]
pub struct ComputeClient {
    base: String,
    http: reqwest::Client,
    node: NodeClient,
}

impl ComputeClient {
    pub fn new(base: &str) -> Self {
        let base = base.trim_end_matches('/').to_string();
        // A node that accepts connections but never answers must not hang a cell: status and
        // control calls have a time limit; result downloads only a connect limit.
        let http = reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(10))
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        ComputeClient { node: NodeClient::new(&base), base, http }
    }

    pub fn url(&self) -> &str {
        &self.base
    }

    /// The node's general client (DDOs, nonces).
    pub fn node(&self) -> &NodeClient {
        &self.node
    }

    fn err(&self, reason: impl AsRef<str>) -> OceanError {
        OceanError::Node { url: self.base.clone(), reason: one_line(reason.as_ref()) }
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Result<reqwest::Response> {
        let r = req
            .send()
            .await
            .map_err(|e| self.err(format!("not reachable (is the node running? `%devnet status`): {e}")))?;
        self.check(r).await
    }

    /// A 2xx answer, or its one-line error.
    async fn check(&self, r: reqwest::Response) -> Result<reqwest::Response> {
        if r.status().is_success() {
            return Ok(r);
        }
        let status = r.status().as_u16();
        // Ocean Node answers errors as one plain-text line (a JSON string from compute start,
        // `{"error"}` from some versions, Express' HTML page for unknown routes).
        let msg = crate::provider::wire::error_text(&r.text().await.unwrap_or_default());
        let msg = if msg.trim().is_empty() { format!("HTTP {status}") } else { msg };
        Err(self.err(msg))
    }

    async fn json(&self, req: reqwest::RequestBuilder) -> Result<Value> {
        self.send(req).await?.json().await.map_err(|e| self.err(format!("answer is not JSON: {e}")))
    }

    async fn signed(&self, signer: &dyn Signer, command: &str) -> Result<(String, u64, String)> {
        let me = signer.address().await?;
        let nonce = self.node.nonce(me).await? + 1;
        let sig = crate::signer::sign_node_request(signer, &self.base, nonce, command).await?;
        Ok((me.to_checksum(None), nonce, sig))
    }

    /// `GET /api/services/computeEnvironments` (a list; older nodes key it by chain id).
    pub async fn environments(&self, chain_id: u64) -> Result<Vec<Value>> {
        let v =
            self.json(self.http.get(format!("{}/api/services/computeEnvironments", self.base)).timeout(QUICK)).await?;
        Ok(match v {
            Value::Array(a) => a,
            Value::Object(m) => m.get(&chain_id.to_string()).and_then(|e| e.as_array()).cloned().unwrap_or_default(),
            _ => vec![],
        })
    }

    /// `POST /api/services/initializeCompute`: per asset, its datatoken and a provider fee.
    pub async fn initialize(&self, body: &Value) -> Result<Value> {
        self.json(self.http.post(format!("{}/api/services/initializeCompute", self.base)).json(body)).await
    }

    /// `POST /api/services/compute`, signed `startCompute`: the started job(s).
    pub async fn start(&self, signer: &dyn Signer, body: &Value) -> Result<Vec<Value>> {
        let (addr, nonce, sig) = self.signed(signer, "startCompute").await?;
        let mut b = body.clone();
        b["consumerAddress"] = Value::String(addr);
        // As Ocean's own clients send it (and the node reads it): a decimal string.
        b["nonce"] = Value::String(nonce.to_string());
        b["signature"] = Value::String(sig);
        let v = self.json(self.http.post(format!("{}/api/services/compute", self.base)).json(&b)).await?;
        jobs(v).ok_or_else(|| self.err("compute answered without a job"))
    }

    /// `GET /api/services/compute?consumerAddress&jobId` (no signature).
    pub async fn status(&self, consumer: Address, job_id: &str) -> Result<Value> {
        let q = [("consumerAddress", consumer.to_checksum(None)), ("jobId", job_id.to_string())];
        let req = self.http.get(format!("{}/api/services/compute", self.base)).query(&q).timeout(QUICK);
        let v = self.json(req).await?;
        let all = jobs(v).unwrap_or_default();
        all.into_iter()
            .find(|j| j["jobId"].as_str().is_some_and(|id| same_job(id, job_id)))
            .ok_or_else(|| self.err(format!("the node lists no job {job_id} for {consumer}")))
    }

    /// `PUT /api/services/compute`, signed `stopCompute`.
    pub async fn stop(&self, signer: &dyn Signer, job_id: &str) -> Result<()> {
        let (addr, nonce, sig) = self.signed(signer, "stopCompute").await?;
        let q = [("consumerAddress", addr), ("signature", sig), ("nonce", nonce.to_string()), ("jobId", job_id.into())];
        self.send(self.http.put(format!("{}/api/services/compute", self.base)).query(&q).timeout(QUICK)).await?;
        Ok(())
    }

    /// `GET /api/services/computeResult`, signed `getComputeResult`: result `index` streamed to
    /// `dest`. Returns the bytes written.
    pub async fn result(&self, signer: &dyn Signer, job_id: &str, index: usize, dest: &Path) -> Result<u64> {
        use tokio::io::AsyncWriteExt;
        let (addr, nonce, sig) = self.signed(signer, "getComputeResult").await?;
        let q = [
            ("consumerAddress", addr),
            ("jobId", job_id.to_string()),
            ("index", index.to_string()),
            ("nonce", nonce.to_string()),
            ("signature", sig),
        ];
        let mut r = self.send(self.http.get(format!("{}/api/services/computeResult", self.base)).query(&q)).await?;
        let mut f = tokio::fs::File::create(dest).await.map_err(|e| OceanError::io(dest, e))?;
        let mut n = 0u64;
        while let Some(chunk) = r.chunk().await.map_err(|e| self.err(format!("result download broke off: {e}")))? {
            f.write_all(&chunk).await.map_err(|e| OceanError::io(dest, e))?;
            n += chunk.len() as u64;
        }
        f.sync_all().await.map_err(|e| OceanError::io(dest, e))?;
        Ok(n)
    }
}

impl ComputeClient {
    /// `GET /api/services/computeStreamableLogs`, signed `getComputeStreamableLogs`: `out` gets
    /// the running job's log as the node streams it (whole UTF-8 characters), until the node
    /// ends the stream. `Ok(false)` when the node answers 404 (no such route, or the job is not
    /// running: Ocean Node's "Job not found or not running").
    pub async fn stream_logs(
        &self,
        signer: &dyn Signer,
        job_id: &str,
        out: &mut (dyn for<'s> FnMut(&'s str) + Send),
    ) -> Result<bool> {
        let (addr, nonce, sig) = self.signed(signer, "getComputeStreamableLogs").await?;
        let q = [
            ("consumerAddress", addr),
            ("jobId", job_id.to_string()),
            ("nonce", nonce.to_string()),
            ("signature", sig),
        ];
        let r = self
            .http
            .get(format!("{}/api/services/computeStreamableLogs", self.base))
            .query(&q)
            .send()
            .await
            .map_err(|e| self.err(format!("not reachable (is the node running? `%devnet status`): {e}")))?;
        if r.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(false);
        }
        let mut r = self.check(r).await?;
        let mut pending: Vec<u8> = Vec::new();
        // Ocean Node streams Docker's multiplexed frames: only their payload is log text.
        let mut frames = super::results::Frames::default();
        while let Some(chunk) = r.chunk().await.map_err(|e| self.err(format!("log stream broke off: {e}")))? {
            pending.extend(frames.push(&chunk));
            let whole = match std::str::from_utf8(&pending) {
                Ok(s) => s.len(),
                // An incomplete character at the end waits for the next chunk.
                Err(e) if e.error_len().is_none() => e.valid_up_to(),
                Err(_) => pending.len(),
            };
            if whole > 0 {
                let rest = pending.split_off(whole);
                out(&String::from_utf8_lossy(&pending));
                pending = rest;
            }
        }
        pending.extend(frames.finish());
        if !pending.is_empty() {
            out(&String::from_utf8_lossy(&pending));
        }
        Ok(true)
    }
}

/// Whether the node's `listed` job id names `started`: Ocean Node starts jobs as
/// `<engine hash>-<id>` but lists them by `<id>` alone.
fn same_job(listed: &str, started: &str) -> bool {
    listed == started || started.rsplit_once('-').is_some_and(|(engine, id)| !engine.is_empty() && id == listed)
}

/// A job list answer: `[ComputeJob]`, or a single job object.
fn jobs(v: Value) -> Option<Vec<Value>> {
    match v {
        Value::Array(a) if !a.is_empty() => Some(a),
        Value::Object(_) if v.get("jobId").is_some() => Some(vec![v]),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;
    use axum::routing::get;

    /// Shapes only: a tiny in-test server answering as a node does (lists, errors as text).
    #[tokio::test]
    async fn parses_lists_and_shows_the_nodes_error_line() {
        let app = axum::Router::new()
            .route(
                "/api/services/computeEnvironments",
                get(|| async { axum::Json(serde_json::json!({"8996": [{"id": "env-a"}]})) }),
            )
            .route(
                "/api/services/compute",
                get(|| async { (StatusCode::NOT_FOUND, "no compute job x for consumer 0xabc") }),
            );
        let l = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let url = format!("http://{}", l.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
        let c = ComputeClient::new(&url);
        let envs = c.environments(8996).await.unwrap();
        assert_eq!(envs[0]["id"], "env-a");
        let e = c.status(Address::ZERO, "x").await.unwrap_err().to_string();
        assert_eq!(e, format!("Ocean node {url}: no compute job x for consumer 0xabc"));
        assert_eq!(jobs(serde_json::json!([])), None);
        assert_eq!(jobs(serde_json::json!({"jobId": "j"})).unwrap().len(), 1);
        assert!(same_job("77ab", "0x0fdb-77ab") && same_job("0x0fdb-77ab", "0x0fdb-77ab"));
        assert!(!same_job("77ab", "0x0fdb-88cd") && !same_job("77ab", "-x") && !same_job("", "0x0fdb-77ab"));
    }
}
