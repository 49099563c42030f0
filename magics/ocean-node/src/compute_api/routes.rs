//! The compute HTTP handlers (shapes and checks in the module docs of [`super`]).

use super::checks::{self, AssetService};
use super::paid;
use crate::compute::{ComputeNode, set_mode};
use crate::state::{ApiError, NodeState, address_param, check_signed, param, provider_fee, verify_order};
use alloy::primitives::{Address, B256};
use alloy::providers::Provider;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use kelp_c2d::{AlgorithmSpec, C2dError, ComputeJob, Container, DatasetInput, JobSpec, ResourceRequest, Resources};
use kelp_ocean_wire::contracts::IERC20Template;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

type Q = Query<HashMap<String, String>>;
pub(super) type Answer<T> = std::result::Result<T, TextError>;

/// Longest job a consumer gets without `maxJobDuration`.
const DEFAULT_JOB_SECS: u64 = 600;

/// A compute error: status + one plain-text line (sent as `text/html; charset=utf-8`, as Ocean
/// Node sends its handler errors).
pub(super) struct TextError(StatusCode, String);

impl TextError {
    pub(super) fn message(&self) -> &str {
        &self.1
    }
    pub(super) fn status(&self) -> StatusCode {
        self.0
    }
}

/// Ocean Node's answer when a handler throws.
fn internal() -> TextError {
    text(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
}

impl IntoResponse for TextError {
    fn into_response(self) -> Response {
        let line = crate::error::one_line(&self.1);
        // Ocean Node's handler errors: plain text with Express's HTML content type.
        (self.0, [(header::CONTENT_TYPE, crate::http::HTML)], line).into_response()
    }
}

impl From<ApiError> for TextError {
    fn from(e: ApiError) -> Self {
        TextError(e.0, e.1)
    }
}

pub(super) fn text(status: StatusCode, msg: impl Into<String>) -> TextError {
    TextError(status, msg.into())
}

pub(super) fn engine_err(e: C2dError) -> TextError {
    let status = match e {
        C2dError::UnknownJob(_) | C2dError::NoResult { .. } => StatusCode::NOT_FOUND,
        C2dError::NotFinished { .. } => StatusCode::CONFLICT,
        C2dError::Io { .. } | C2dError::Journal { .. } | C2dError::Sandbox(_) => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    };
    text(status, e.to_string())
}

/// The compute routes.
pub fn routes() -> Router<Arc<NodeState>> {
    Router::new()
        .route("/api/services/computeEnvironments", get(environments))
        .route("/api/services/initializeCompute", post(initialize))
        .route("/api/services/compute", post(start_answer).get(status).put(stop).delete(not_yet))
        .route("/api/services/freeCompute", post(free_start_answer))
        .route("/api/services/computeResult", get(result))
        .route("/api/services/computeStreamableLogs", get(super::logs::streamable_logs))
}

pub(super) fn compute_of(s: &NodeState) -> Answer<&ComputeNode> {
    s.compute.as_ref().ok_or_else(|| text(StatusCode::NOT_IMPLEMENTED, "this node runs no compute jobs"))
}

async fn environments(State(s): State<Arc<NodeState>>) -> Json<Value> {
    Json(Value::Array(node_environments(&s)))
}

/// The node's environments: the engine's (free), then their paid twins when there is an Escrow.
fn node_environments(s: &NodeState) -> Vec<Value> {
    let Some(c) = &s.compute else { return vec![] };
    let mut envs = c.engine.environments();
    for e in &mut envs {
        e.consumer_address = s.address().to_checksum(None);
    }
    let free: Vec<Value> = envs.iter().filter_map(|e| serde_json::to_value(e).ok()).map(ocean_node_fields).collect();
    let paid: Vec<Value> = free.iter().filter_map(|e| paid::environment(s, e)).collect();
    free.into_iter().chain(paid).collect()
}

/// The fields of Ocean Node v3.1.0's Docker environment the engine does not name
/// (`compute_environments_docker`): open `access`, each resource's `type`, the queue counters
/// (kelp's engine queues nothing: 0), no network, and `runningfreeJobs` spelled as Ocean Node
/// spells it.
fn ocean_node_fields(mut env: Value) -> Value {
    let open = json!({"addresses": [], "accessLists": null});
    let Some(map) = env.as_object_mut() else { return env };
    if let Some(Value::Array(rs)) = map.get_mut("resources") {
        for r in rs.iter_mut().filter(|r| r.is_object()) {
            r["type"] = r["id"].clone();
        }
    }
    if let Some(running) = map.remove("runningFreeJobs") {
        map.insert("runningfreeJobs".into(), running);
    }
    for k in
        ["queuedJobs", "queuedFreeJobs", "queMaxWaitTime", "queMaxWaitTimeFree", "runMaxWaitTime", "runMaxWaitTimeFree"]
    {
        map.insert(k.into(), json!(0));
    }
    map.insert("enableNetwork".into(), json!(false));
    map.insert("access".into(), open.clone());
    if let Some(free) = map.get_mut("free").and_then(Value::as_object_mut) {
        free.insert("access".into(), open);
        // A free tier's resources are {id, max, inUse} in Ocean Node's answer.
        if let Some(Value::Array(rs)) = free.get_mut("resources") {
            for r in rs.iter_mut().filter_map(Value::as_object_mut) {
                r.retain(|k, _| matches!(k.as_str(), "id" | "max" | "inUse"));
            }
        }
    }
    env
}

/// The environment a request names (the first when it names none).
fn check_environment(s: &NodeState, body: &Value) -> Answer<Value> {
    let envs = node_environments(s);
    let known: Vec<&str> = envs.iter().filter_map(|e| e["id"].as_str()).collect();
    match body["environment"].as_str().filter(|e| !e.is_empty()) {
        None => {
            envs.first().cloned().ok_or_else(|| text(StatusCode::NOT_IMPLEMENTED, "this node runs no compute jobs"))
        }
        Some(e) if known.contains(&e) => Ok(envs.iter().find(|x| x["id"] == e).cloned().unwrap_or_default()),
        // Ocean Node's answer for an environment it does not have.
        Some(_) => Err(text(StatusCode::INTERNAL_SERVER_ERROR, "Invalid C2D Environment")),
    }
}

fn dataset_items(body: &Value) -> Answer<Vec<Value>> {
    let items = body["datasets"].as_array().cloned().unwrap_or_default();
    if items.is_empty() {
        return Err(text(StatusCode::BAD_REQUEST, "no datasets: give datasets:[{documentId, serviceId}]"));
    }
    Ok(items)
}

/// The algorithm of a request: a published asset, or raw code with its container
/// (`algorithm.meta: {rawcode, container: {entrypoint, image, tag, checksum?}}`).
enum Algo {
    Published(AssetService),
    Raw { container: Value },
}

/// Resolve the datasets and the algorithm, fetch the algorithm and check every dataset trusts it.
async fn checked_assets(s: &NodeState, body: &Value) -> Answer<(Vec<AssetService>, Algo, Vec<Vec<u8>>)> {
    let datasets = dataset_items(body)?.iter().map(|d| checks::dataset(s, d)).collect::<Result<Vec<_>, _>>()?;
    let item = &body["algorithm"];
    if !item.is_object() {
        return Err(text(StatusCode::BAD_REQUEST, "no algorithm: give algorithm:{documentId, serviceId}"));
    }
    if item["documentId"].is_null() && item["meta"].is_object() {
        let (code, container) = checks::raw_algorithm(&item["meta"])?;
        for d in &datasets {
            checks::check_raw_allowed(d)?;
        }
        return Ok((datasets, Algo::Raw { container }, vec![code]));
    }
    let algo = checks::algorithm(s, item)?;
    let algo_files = checks::fetch_all(s, &algo).await?;
    let sum = checks::files_checksum(&algo_files);
    for d in &datasets {
        checks::check_trusted(d, &algo, &sum)?;
    }
    Ok((datasets, Algo::Published(algo), algo_files))
}

/// Whether `env` charges (has fees on some chain).
fn is_paid(env: &Value) -> bool {
    env["fees"].as_object().is_some_and(|f| !f.is_empty())
}

/// The resources a request asks for, as `[{id, amount}]` over the engine's defaults.
fn requested_resources(r: Option<&Value>) -> Answer<Resources> {
    match r.filter(|r| !r.is_null()) {
        None => Ok(Resources::default()),
        Some(r) => {
            let reqs: Vec<ResourceRequest> = serde_json::from_value(r.clone()).map_err(|_| {
                text(StatusCode::BAD_REQUEST, "resources must be [{id, amount}] (ids cpu, ram, disk; GB for ram/disk)")
            })?;
            Resources::from_ocean(&reqs).map_err(engine_err)
        }
    }
}

async fn initialize(State(s): State<Arc<NodeState>>, Json(body): Json<Value>) -> Answer<Json<Value>> {
    checks::initialize_fields(&body)?;
    let _ = compute_of(&s)?;
    let env = check_environment(&s, &body)?;
    let payment = if is_paid(&env) {
        let token = paid::payment_token(&env, &body)?;
        let resources = requested_resources(body["payment"].get("resources"))?.to_ocean();
        let seconds = paid::job_seconds(&env, body["maxJobDuration"].as_u64());
        let sent = body["payment"]["token"].as_str().map(str::to_string).unwrap_or_else(|| token.to_string());
        Some(paid::quote(&s, &env, &sent, &resources, seconds)?)
    } else {
        None
    };
    let consumer: Address = body["consumerAddress"]
        .as_str()
        .and_then(|a| a.parse().ok())
        .ok_or_else(|| text(StatusCode::BAD_REQUEST, "consumerAddress is missing or not an address"))?;
    let (datasets, algo, _) = checked_assets(&s, &body).await?;
    let mut out = Vec::new();
    for a in &datasets {
        out.push(order_info(&s, a, consumer).await?);
    }
    // A raw algorithm is not an asset: nothing to order.
    let algorithm = match &algo {
        Algo::Published(a) => order_info(&s, a, consumer).await?,
        Algo::Raw { .. } => json!({"raw": true}),
    };
    let mut answer = json!({"datasets": out, "algorithm": algorithm});
    if let Some(p) = payment {
        answer["payment"] = p;
    }
    Ok(Json(answer))
}

async fn order_info(s: &NodeState, a: &AssetService, consumer: Address) -> Answer<Value> {
    let fee = provider_fee(s, &a.did, &a.service_id, a.datatoken, consumer).await?;
    Ok(json!({"documentId": a.did, "serviceId": a.service_id, "datatoken": a.datatoken, "providerFee": fee}))
}

/// Fields of a JSON body as the query map [`check_signed`] reads.
fn signed_fields(body: &Value) -> HashMap<String, String> {
    ["consumerAddress", "nonce", "signature"]
        .iter()
        .filter_map(|k| {
            let v = &body[*k];
            let t = v.as_str().map(str::to_string).or_else(|| v.as_u64().map(|n| n.to_string()))?;
            Some((k.to_string(), t))
        })
        .collect()
}

async fn check_order(s: &NodeState, a: &AssetService, item: &Value, consumer: Address) -> Answer<()> {
    let what = if a.ddo["metadata"]["type"] == "algorithm" { "algorithm" } else { "dataset" };
    let tx: B256 = item["transferTxId"].as_str().and_then(|t| t.parse().ok()).ok_or_else(|| {
        text(
            StatusCode::BAD_REQUEST,
            format!("{what} {}: missing transferTxId (order it with startOrder first)", a.did),
        )
    })?;
    // Ocean Node v3 and its clients (ocean.js) make compute orders out to the environment's
    // consumerAddress, the node's own; such an order counts when the signer paid for it.
    let made_out_to = if ordered_for_node_by(s, tx, a.datatoken, consumer).await { s.address() } else { consumer };
    verify_order(s, tx, a.datatoken, made_out_to, a.index)
        .await
        .map_err(|e| TextError(e.0, format!("{what} {}: {} (order it with startOrder first)", a.did, e.1)))
}

/// Whether `tx` has an `OrderStarted` of `dt` made out to this node and paid by `payer`.
async fn ordered_for_node_by(s: &NodeState, tx: B256, dt: Address, payer: Address) -> bool {
    let Ok(Some(receipt)) = s.provider.get_transaction_receipt(tx).await else { return false };
    receipt.inner.logs().iter().filter(|l| l.address() == dt).any(|l| {
        l.log_decode::<IERC20Template::OrderStarted>()
            .is_ok_and(|e| e.inner.data.consumer == s.address() && e.inner.data.payer == payer)
    })
}

/// `DELETE /api/services/compute`: Ocean Node v3.1.0 answers 404 "Not yet implemented!".
async fn not_yet() -> TextError {
    text(StatusCode::NOT_FOUND, "Not yet implemented!")
}

/// `POST /api/services/compute`: [`start`], whose errors Ocean Node sends as a JSON string.
async fn start_answer(State(s): State<Arc<NodeState>>, Json(body): Json<Value>) -> Response {
    json_string_errors(start(s, body, false).await)
}

/// `POST /api/services/freeCompute` (signed `freeStartCompute`): a job on a free environment,
/// as `POST compute` runs it there; errors as a JSON string too.
async fn free_start_answer(State(s): State<Arc<NodeState>>, Json(body): Json<Value>) -> Response {
    json_string_errors(start(s, body, true).await)
}

fn json_string_errors(answer: Answer<Json<Value>>) -> Response {
    match answer {
        Ok(jobs) => jobs.into_response(),
        Err(TextError(status, msg)) => (status, Json(Value::String(crate::error::one_line(&msg)))).into_response(),
    }
}

async fn start(s: Arc<NodeState>, body: Value, free: bool) -> Answer<Json<Value>> {
    let c = compute_of(&s)?.clone();
    let command = if free { "freeStartCompute" } else { "startCompute" };
    let consumer = check_signed(&s, &signed_fields(&body), "consumerAddress", command, None)?;
    let env = check_environment(&s, &body)?;
    if free && is_paid(&env) {
        return Err(text(StatusCode::INTERNAL_SERVER_ERROR, "This env does not support free jobs"));
    }
    let token = if is_paid(&env) { Some(paid::payment_token(&env, &body)?) } else { None };
    let (datasets, algo, algo_files) = checked_assets(&s, &body).await?;
    for (d, item) in datasets.iter().zip(dataset_items(&body)?.iter()) {
        check_order(&s, d, item, consumer).await?;
    }
    if let Algo::Published(a) = &algo {
        check_order(&s, a, &body["algorithm"], consumer).await?;
    }
    let resources = requested_resources(body.get("resources"))?;
    let timeout_secs = match token {
        Some(_) => paid::job_seconds(&env, body["maxJobDuration"].as_u64()),
        None => body["maxJobDuration"].as_u64().filter(|t| *t > 0).unwrap_or(DEFAULT_JOB_SECS),
    };
    let environment = paid::engine_environment(env["id"].as_str().unwrap_or("")).to_string();
    // The job's private inputs: dataset files at <job>/<n>/<file index>, the algorithm beside.
    let folder = c.inputs.join(uuid_like());
    let io = |e: std::io::Error| text(StatusCode::INTERNAL_SERVER_ERROR, format!("preparing the job's inputs: {e}"));
    std::fs::create_dir_all(&folder).map_err(io)?;
    set_mode(&folder, 0o755).map_err(|e| text(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let prepared = prepare(&s, &folder, &datasets, &algo_files).await;
    let (inputs, algo_path) = match prepared {
        Ok(x) => x,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&folder);
            return Err(e);
        }
    };
    let (container, source) = match &algo {
        Algo::Published(a) => (&a.ddo["metadata"]["algorithm"]["container"], a.did.clone()),
        Algo::Raw { container } => (container, "raw algorithm".to_string()),
    };
    let field = |k: &str| container[k].as_str().unwrap_or("").to_string();
    let mut spec = JobSpec::new(
        inputs,
        AlgorithmSpec {
            path: algo_path,
            container: Container {
                entrypoint: field("entrypoint"),
                image: field("image"),
                tag: field("tag"),
                checksum: Some(field("checksum")).filter(|c| !c.is_empty()),
            },
            source: Some(source),
        },
    );
    spec.params = body["algorithm"]["algocustomdata"].as_object().cloned().unwrap_or_default();
    spec.resources = resources;
    spec.timeout_secs = timeout_secs;
    spec.environment = Some(environment);
    spec.owner = consumer.to_checksum(None);
    spec.metadata = body["metadata"].as_object().cloned().unwrap_or_default();
    // A paid job: its cost locked in Escrow before it starts (Ocean Node's order of things).
    let mut payment = match token {
        Some(token) => {
            let cost = paid::cost(&env, s.config.chain_id, &resources.to_ocean(), timeout_secs);
            let locked = paid::lock(&s, &c, token, consumer, paid::to_wei(cost), timeout_secs).await;
            let (job_id_hash, lock_tx) = locked.inspect_err(|_| {
                let _ = std::fs::remove_dir_all(&folder);
            })?;
            Some(paid::Payment {
                chain_id: s.config.chain_id,
                token,
                payer: consumer,
                job_id_hash,
                locked: paid::to_wei(cost).to_string(),
                max_job_duration: timeout_secs,
                resources: resources.to_ocean(),
                environment: env["id"].as_str().unwrap_or("").to_string(),
                lock_tx,
                claim_tx: None,
                cost: 0.0,
            })
        }
        None => None,
    };
    let engine = c.engine.clone();
    let submitted = tokio::task::spawn_blocking(move || engine.submit(spec).and_then(|id| engine.status(&id)))
        .await
        .map_err(|e| text(StatusCode::INTERNAL_SERVER_ERROR, format!("engine: {e}")));
    let job = match submitted.and_then(|r| r.map_err(engine_err)) {
        Ok(job) => job,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&folder);
            if let Some(p) = payment.take() {
                // Nothing ran: the whole lock goes back to the payer.
                let _ = paid::claim(&s, &c, &p, alloy::primitives::U256::ZERO, b"job not started".to_vec()).await;
            }
            return Err(e);
        }
    };
    if let Some(p) = &payment {
        paid::save(&c, &job.job_id, p);
    }
    clean_after(&s, &c, &job.job_id, folder, timeout_secs, payment.is_some().then_some(env));
    Ok(Json(json!([public(&c, job)])))
}

/// A random folder name nobody can guess (the inputs folder is not listable).
fn uuid_like() -> String {
    alloy::hex::encode(&alloy::signers::local::PrivateKeySigner::random().to_bytes()[..16])
}

/// Write the fetched bytes into `folder`; returns the engine inputs and the algorithm file.
async fn prepare(
    s: &NodeState,
    folder: &std::path::Path,
    datasets: &[AssetService],
    algo_files: &[Vec<u8>],
) -> Answer<(Vec<DatasetInput>, std::path::PathBuf)> {
    let io = |e: std::io::Error| text(StatusCode::INTERNAL_SERVER_ERROR, format!("preparing the job's inputs: {e}"));
    let mut inputs = Vec::new();
    for (n, d) in datasets.iter().enumerate() {
        let dir = folder.join(format!("dataset{n}"));
        std::fs::create_dir_all(&dir).map_err(io)?;
        for (i, bytes) in checks::fetch_all(s, d).await?.iter().enumerate() {
            std::fs::write(dir.join(i.to_string()), bytes).map_err(io)?;
        }
        inputs.push(DatasetInput { id: d.did.clone(), path: dir, source: Some(d.did.clone()) });
    }
    let algo_path = folder.join("algorithm");
    std::fs::write(&algo_path, &algo_files[0]).map_err(io)?;
    Ok((inputs, algo_path))
}

/// Remove a job's fetched inputs once it ends (or after its time limit and a margin); a paid
/// job's lock is then claimed ([`paid::settle`]).
fn clean_after(
    s: &Arc<NodeState>,
    c: &ComputeNode,
    id: &str,
    folder: std::path::PathBuf,
    timeout_secs: u64,
    paid_env: Option<Value>,
) {
    let (s, c, id) = (s.clone(), c.clone(), id.to_string());
    tokio::spawn(async move {
        let (engine, job) = (c.engine.clone(), id.clone());
        let _ = tokio::task::spawn_blocking(move || engine.wait(&job, Duration::from_secs(timeout_secs + 120))).await;
        let _ = std::fs::remove_dir_all(&folder);
        if let Some(env) = paid_env {
            paid::settle(&s, &c, &id, &env).await;
        }
    });
}

/// After a restart of the node: claim for every paid job not yet claimed, once it has ended.
pub fn settle_unclaimed(s: Arc<NodeState>) {
    let Some(c) = s.compute.clone() else { return };
    let Some(paid_env) = node_environments(&s).into_iter().find(is_paid) else { return };
    for id in paid::unclaimed(&c) {
        let (s, c, env) = (s.clone(), c.clone(), paid_env.clone());
        tokio::spawn(async move {
            let (engine, job) = (c.engine.clone(), id.clone());
            let _ = tokio::task::spawn_blocking(move || engine.wait(&job, Duration::from_secs(24 * 3600))).await;
            paid::settle(&s, &c, &id, &env).await;
        });
    }
}

/// A job as consumers see it: the public id, and a paid job's environment and payment.
fn public(c: &ComputeNode, job: ComputeJob) -> Value {
    let payment = paid::load(c, &job.job_id);
    public_job(c, job, payment.as_ref())
}

pub(super) fn public_job(c: &ComputeNode, mut job: ComputeJob, payment: Option<&paid::Payment>) -> Value {
    job.job_id = c.public_id(&job.job_id);
    let mut v = serde_json::to_value(job).unwrap_or_default();
    if let Some(p) = payment {
        v["environment"] = json!(p.environment);
        v["isFree"] = json!(false);
        v["payment"] = p.public();
    }
    v
}

/// The engine id of `jobId`, checking that `consumer` owns the job.
pub(super) fn owned(c: &ComputeNode, public_id: &str, consumer: Address) -> Answer<String> {
    let unknown = || text(StatusCode::NOT_FOUND, format!("no compute job {public_id} for consumer {consumer}"));
    // Not one of this engine's ids: Ocean Node finds no engine for its prefix.
    let id =
        c.engine_id(public_id).ok_or_else(|| text(StatusCode::INTERNAL_SERVER_ERROR, "Invalid C2D Environment"))?;
    let rec = c.engine.record(id).map_err(|_| unknown())?;
    if rec.job_id != id || !rec.spec.owner.eq_ignore_ascii_case(&consumer.to_string()) {
        return Err(unknown());
    }
    Ok(rec.job_id)
}

async fn status(State(s): State<Arc<NodeState>>, Query(q): Q) -> Answer<Json<Value>> {
    let c = compute_of(&s)?;
    let consumer = address_param(&q, "consumerAddress")?;
    let jobs = match q.get("jobId").filter(|j| !j.is_empty()) {
        // Another engine's id: Ocean Node answers 500 "Internal Server Error".
        Some(j) if c.engine_id(j).is_none() => return Err(internal()),
        Some(j) => vec![c.engine.status(&owned(c, j, consumer)?).map_err(engine_err)?],
        None => c.engine.jobs(Some(&consumer.to_string())).map_err(engine_err)?,
    };
    Ok(Json(Value::Array(jobs.into_iter().map(|j| public(c, j)).collect())))
}

async fn stop(State(s): State<Arc<NodeState>>, Query(q): Q) -> Answer<Json<Value>> {
    let c = compute_of(&s)?.clone();
    let job = param(&q, "jobId")?.to_string();
    // Another engine's id, signed or not: Ocean Node answers 500 "Internal Server Error".
    if c.engine_id(&job).is_none() {
        return Err(internal());
    }
    let consumer = check_signed(&s, &q, "consumerAddress", "stopCompute", None)?;
    let id = owned(&c, &job, consumer)?;
    let engine = c.engine.clone();
    let rec = tokio::task::spawn_blocking(move || engine.stop(&id))
        .await
        .map_err(|e| text(StatusCode::INTERNAL_SERVER_ERROR, format!("engine: {e}")))?
        .map_err(engine_err)?;
    Ok(Json(json!([public(&c, ComputeJob::from(&rec))])))
}

async fn result(State(s): State<Arc<NodeState>>, Query(q): Q) -> Answer<Response> {
    let c = compute_of(&s)?;
    let job = param(&q, "jobId")?.to_string();
    let index: usize = param(&q, "index")?
        .parse()
        .map_err(|_| text(StatusCode::BAD_REQUEST, "index is not a number (0 algorithm.log, 1 outputs.tar)"))?;
    let consumer = check_signed(&s, &q, "consumerAddress", "getComputeResult", None)?;
    let id = owned(c, &job, consumer)?;
    // Read without following links an algorithm could have planted (kelp-c2d's safe reader).
    let engine = c.engine.clone();
    let (file, bytes) = tokio::task::spawn_blocking(move || engine.read_result(&id, index))
        .await
        .map_err(|e| text(StatusCode::INTERNAL_SERVER_ERROR, format!("engine: {e}")))?
        .map_err(engine_err)?;
    let disposition = format!("attachment; filename=\"{}\"", file.filename);
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/octet-stream".to_string()), (header::CONTENT_DISPOSITION, disposition)],
        bytes,
    )
        .into_response())
}
