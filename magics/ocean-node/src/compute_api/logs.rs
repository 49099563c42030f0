//! `GET /api/services/computeStreamableLogs?consumerAddress&jobId&nonce&signature` (Ocean Node's
//! command `getComputeStreamableLogs`): a running job's `algorithm.log` as a plain-text stream,
//! from its start, following what the algorithm writes until the job ends. A job that is not
//! running (ended, unknown, someone else's) answers 404 `Job not found or not running`, as Ocean
//! Node does; its log is then a result (`computeResult?index=0`).

use super::routes::{Answer, compute_of, engine_err, owned, text};
use crate::state::{NodeState, check_signed, param};
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use kelp_c2d::Engine;
use kelp_c2d::engine::read_from;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// How often a running job's log is looked at for new bytes.
const TICK: Duration = Duration::from_millis(200);

pub(super) async fn streamable_logs(
    State(s): State<Arc<NodeState>>,
    Query(q): Query<HashMap<String, String>>,
) -> Answer<Response> {
    let c = compute_of(&s)?.clone();
    let job = param(&q, "jobId")?.to_string();
    let consumer = check_signed(&s, &q, "consumerAddress", "getComputeStreamableLogs", None)?;
    let not_running = || text(StatusCode::NOT_FOUND, "Job not found or not running");
    // Another engine's id stays Ocean Node's 500 "Invalid C2D Environment"; any other miss is 404.
    let id = owned(&c, &job, consumer)
        .map_err(|e| if e.status() == StatusCode::INTERNAL_SERVER_ERROR { e } else { not_running() })?;
    if c.engine.record(&id).map_err(engine_err)?.status.is_terminal() {
        return Err(not_running());
    }
    let live = c.engine.log_path(&id).map_err(engine_err)?;
    let tail = Tail { engine: c.engine.clone(), id, live, offset: 0, done: false };
    let stream =
        futures::stream::unfold(
            tail,
            |mut t| async move { t.next().await.map(|b| (Ok::<Bytes, std::io::Error>(b), t)) },
        );
    let headers = [(header::CONTENT_TYPE, "text/plain; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")];
    Ok((StatusCode::OK, headers, Body::from_stream(stream)).into_response())
}

/// Follows one job's log file.
struct Tail {
    engine: Engine,
    id: String,
    live: PathBuf,
    offset: u64,
    done: bool,
}

impl Tail {
    /// The next new bytes; `None` once the job has ended and everything was sent.
    async fn next(&mut self) -> Option<Bytes> {
        loop {
            if self.done {
                return None;
            }
            let ended = self.engine.record(&self.id).map(|r| r.status.is_terminal()).unwrap_or(true);
            // An ended job's log is its result copy (the live file plus the engine's last notes).
            let path = match ended {
                true => self.engine.result_file(&self.id, 0).map(|r| r.1).unwrap_or_else(|_| self.live.clone()),
                false => self.live.clone(),
            };
            let chunk = read_from(&path, self.offset);
            self.done = ended;
            if !chunk.is_empty() {
                self.offset += chunk.len() as u64;
                return Some(Bytes::from(chunk));
            }
            if !ended {
                tokio::time::sleep(TICK).await;
            }
        }
    }
}
