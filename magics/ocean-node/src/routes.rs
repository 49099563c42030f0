//! The node's HTTP handlers (shapes in the module docs of [`super`]).

use crate::state::{ApiError, NodeState, Q, address_param, bad, check_signed, provider_fee, service};
use crate::{compute_api, files};
use alloy::primitives::Address;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use std::sync::Arc;

pub fn router(state: Arc<NodeState>) -> Router {
    let routes = Router::new()
        .route("/", get(root))
        .route("/api/services/nonce", get(nonce))
        .route("/api/services/encrypt", post(encrypt))
        .route("/api/services/decrypt", post(super::decrypt::decrypt_ddo))
        .route("/api/services/initialize", get(initialize))
        .route("/api/services/download", get(files::download))
        .route("/api/services/fileInfo", post(files::file_info))
        .route("/api/services/indexQueue", get(|| async { Json(json!({"queue": []})) }))
        .merge(compute_api::routes())
        .route("/api/aquarius/assets/ddo/{did}", get(ddo))
        .route("/api/aquarius/assets/ddo/{did}/{force}", get(ddo_forced))
        .route("/api/aquarius/assets/metadata/{did}", get(ddo))
        .route("/api/aquarius/assets/metadata/{did}/{force}", get(ddo_forced))
        .route("/api/aquarius/assets/metadata/query", post(super::query::query))
        .route("/api/aquarius/assets/ddo/validate", post(super::validate::validate))
        .route("/api/aquarius/state/ddo", get(ddo_state))
        .fallback(super::http::not_found)
        .with_state(state.clone());
    // Outside the routes, so that slashes are collapsed before routing; CORS preflights are
    // answered there, before the rate limit counts a request.
    Router::new()
        .fallback_service(routes)
        .layer(axum::middleware::from_fn_with_state(state, rate_limit))
        .layer(axum::middleware::from_fn(super::http::express_layer))
}

/// Ocean Node's limit on every route, per caller ([`super::ratelimit`]).
async fn rate_limit(
    State(s): State<Arc<NodeState>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let peer = req.extensions().get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0);
    match s.request_limit.check(&super::ratelimit::caller(req.headers(), peer)) {
        Ok(()) => next.run(req).await,
        Err(wait) => super::ratelimit::limited(wait),
    }
}

/// The routes `GET /` lists, as Ocean Node names them.
const ENDPOINTS: &[(&str, &str, &str)] = &[
    ("nonce", "GET", "/api/services/nonce"),
    ("encrypt", "POST", "/api/services/encrypt"),
    ("decrypt", "POST", "/api/services/decrypt"),
    ("initialize", "GET", "/api/services/initialize"),
    ("download", "GET", "/api/services/download"),
    ("fileInfo", "POST", "/api/services/fileInfo"),
    ("computeEnvironments", "GET", "/api/services/computeEnvironments"),
    ("initializeCompute", "POST", "/api/services/initializeCompute"),
    ("computeStart", "POST", "/api/services/compute"),
    ("freeCompute", "POST", "/api/services/freeCompute"),
    ("computeStatus", "GET", "/api/services/compute"),
    ("computeStop", "PUT", "/api/services/compute"),
    ("computeResult", "GET", "/api/services/computeResult"),
    ("computeStreamableLogs", "GET", "/api/services/computeStreamableLogs"),
    ("indexQueue", "GET", "/api/services/indexQueue"),
    ("getDDO", "GET", "/api/aquarius/assets/ddo/:did/:force?"),
    ("getDDOMetadata", "GET", "/api/aquarius/assets/metadata/:did/:force?"),
    ("ddoMetadataQuery", "POST", "/api/aquarius/assets/metadata/query"),
    ("getDDOState", "GET", "/api/aquarius/state/ddo"),
];

/// `GET /`: Ocean Node's `{nodeId, chainIds (strings), providerAddress (checksummed),
/// nodePublicKey (index-keyed bytes of the compressed key), serviceEndpoints, software, version}`.
async fn root(State(s): State<Arc<NodeState>>) -> Json<Value> {
    let public = s.config.key.credential().verifying_key().to_encoded_point(true);
    let key: serde_json::Map<String, Value> =
        public.as_bytes().iter().enumerate().map(|(i, b)| (i.to_string(), json!(b))).collect();
    let endpoints: serde_json::Map<String, Value> =
        ENDPOINTS.iter().map(|(name, m, p)| (name.to_string(), json!([m, p]))).collect();
    Json(json!({
        "nodeId": format!("kelp-{}", s.address().to_checksum(None)),
        "chainIds": [s.config.chain_id.to_string()],
        "providerAddress": s.address().to_checksum(None),
        "nodePublicKey": key,
        "serviceEndpoints": endpoints,
        "software": "Ocean-Node",
        "version": "0.0.1",
    }))
}

/// `GET /api/services/nonce?userAddress`: `{"nonce": "<last used>"}`, keyed by the exact text.
async fn nonce(State(s): State<Arc<NodeState>>, Query(q): Q) -> Json<Value> {
    let n = q.get("userAddress").map(|a| s.nonces.current(a)).unwrap_or(0);
    Json(json!({"nonce": n.to_string()}))
}

/// `POST /api/services/encrypt`: the body checked non-empty before the signature; the answer is
/// `0x` + hex of the ECIES ciphertext as Ocean Node sends it.
async fn encrypt(
    State(s): State<Arc<NodeState>>,
    Query(q): Q,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> std::result::Result<Response, ApiError> {
    let octets = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/octet-stream"));
    if octets && body.is_empty() {
        return Err(bad("Missing required body"));
    }
    check_signed(&s, &q, "consumerAddress", "encrypt", None)?;
    // Ocean Node parses any other content type and encrypts what its body turned into.
    let plain: &[u8] = if octets { &body } else { b"[object Object]" };
    let c = s.encrypt(plain).map_err(|e| ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/octet-stream; charset=utf-8")],
        format!("0x{}", alloy::hex::encode(c)),
    )
        .into_response())
}

/// `GET /api/services/initialize?documentId&serviceId[&consumerAddress][&validUntil]`: Ocean Node's
/// `{providerFee, datatoken (lowercase), nonce (string), computeAddress (the consumer or null)}`.
async fn initialize(State(s): State<Arc<NodeState>>, Query(q): Q) -> std::result::Result<Json<Value>, ApiError> {
    let (Some(did), Some(service_id)) =
        (q.get("documentId").filter(|v| !v.is_empty()), q.get("serviceId").filter(|v| !v.is_empty()))
    else {
        let missing = if q.get("documentId").is_none_or(|v| v.is_empty()) { "ddoId" } else { "serviceId" };
        return Err(bad(format!(
            "Missing one ( \"{missing}\" ) or more required field(s) for command: \"getFees\". Required fields: ddoId,serviceId"
        )));
    };
    let consumer_text = q.get("consumerAddress").filter(|v| !v.is_empty());
    let consumer = match consumer_text {
        Some(_) => address_param(&q, "consumerAddress")?,
        None => Address::ZERO,
    };
    let internal = |m: &str| ApiError(StatusCode::INTERNAL_SERVER_ERROR, m.into());
    let ddo = s.ddo(did).ok_or_else(|| internal("Asset provided is either null, either undefined null"))?;
    let (_, svc, dt) = service(&ddo, service_id).map_err(|_| internal("Internal Server Error"))?;
    if svc["type"] == "compute" {
        return Err(bad(format!(
            "service {service_id} of {did} is a compute service: use initializeCompute (POST /api/services/initializeCompute)"
        )));
    }
    let fee = provider_fee(&s, did, service_id, dt, consumer).await?;
    let nonce = consumer_text.map(|c| s.nonces.current(c)).unwrap_or(0);
    Ok(Json(json!({
        "providerFee": fee,
        "datatoken": format!("{dt:?}").to_lowercase(),
        "nonce": nonce.to_string(),
        "computeAddress": consumer_text,
    })))
}

/// `GET /api/aquarius/assets/{ddo|metadata}/{did}`: the indexed DDO (both routes answer alike).
async fn ddo(State(s): State<Arc<NodeState>>, Path(did): Path<String>) -> std::result::Result<Json<Value>, ApiError> {
    if !did.starts_with("did:op") {
        return Err(bad("Missing or invalid required parameter: \"did\""));
    }
    s.ddo(&did).map(Json).ok_or_else(|| ApiError(StatusCode::NOT_FOUND, "DDO not found".into()))
}

/// The `/{force}` variant asks other nodes over P2P, which this node (like Ocean Node with P2P
/// off) does not do: 404.
async fn ddo_forced() -> ApiError {
    ApiError(StatusCode::NOT_FOUND, "DDO not found".into())
}

/// `GET /api/aquarius/state/ddo?did|nft|txId`: where indexing of an asset stands.
async fn ddo_state(State(s): State<Arc<NodeState>>, Query(q): Q) -> std::result::Result<Json<Value>, ApiError> {
    let all: Vec<Value> = s.ddos.read().unwrap_or_else(|e| e.into_inner()).values().cloned().collect();
    let wanted = |d: &Value| {
        let meta = &d["indexedMetadata"];
        let eq = |k: &str, v: &Value| q.get(k).is_some_and(|w| v.as_str().is_some_and(|t| t.eq_ignore_ascii_case(w)));
        eq("did", &d["id"]) || eq("nft", &d["nftAddress"]) || eq("txId", &meta["event"]["txid"])
    };
    if !["did", "nft", "txId"].iter().any(|k| q.get(*k).is_some_and(|v| !v.is_empty())) {
        return Err(bad(
            "Missing or invalid required parameters, you need to specify one of: \"did\", \"txId\", \"nft\"",
        ));
    }
    if let Some(d) = all.iter().find(|d| wanted(d)) {
        return Ok(Json(json!({
            "chainId": d["chainId"], "did": d["id"], "error": " ", "id": d["id"], "nft": d["nftAddress"],
            "txId": d["indexedMetadata"]["event"]["txid"], "valid": true,
        })));
    }
    let did = q.get("did").cloned().unwrap_or_default();
    let err = s.index_errors.read().unwrap_or_else(|e| e.into_inner()).get(&did).cloned();
    match err {
        Some(e) => Ok(Json(json!({"chainId": s.config.chain_id, "did": did, "error": e, "id": did, "valid": false}))),
        None => Err(ApiError(StatusCode::NOT_FOUND, "DDO not found".into())),
    }
}
