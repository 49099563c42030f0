//! The node's HTTP handlers (shapes in the module docs of [`super`]).

use super::auth::{self, Nonces};
use super::fetch::FetchPolicy;
use super::ratelimit::RateLimit;
use super::{NodeConfig, compute, fees, files};
use crate::chain;
use crate::contracts::IERC20Template;
use crate::error::{OceanError, Result};
use alloy::primitives::{Address, B256, U256, keccak256};
use alloy::providers::{DynProvider, Provider};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

pub(super) type Q = Query<HashMap<String, String>>;

/// Everything the handlers share.
pub struct NodeState {
    pub config: NodeConfig,
    pub provider: DynProvider,
    pub nonces: Nonces,
    /// Indexed DDOs by DID.
    pub ddos: RwLock<BTreeMap<String, Value>>,
    /// Indexing problems by DID (bad hash, undecryptable, …), for `state/ddo`.
    pub index_errors: RwLock<BTreeMap<String, String>>,
    /// What `url` files may be fetched, and how much of them.
    pub fetch: FetchPolicy,
    /// `fileInfo` calls per caller IP (unsigned, and each one fetches files).
    pub file_info_limit: RateLimit,
    /// Requests per caller on every route (Ocean Node's limit, [`super::ratelimit`]).
    pub request_limit: RateLimit,
    /// The compute engine (`None`: this node runs no compute jobs).
    pub compute: Option<compute::ComputeNode>,
}

impl NodeState {
    pub fn new(config: NodeConfig) -> Result<Self> {
        let provider = chain::connect(&config.rpc_url)?;
        let compute = match &config.compute_dir {
            Some(dir) => Some(compute::ComputeNode::open(dir, config.key.address())?),
            None => None,
        };
        Ok(NodeState {
            compute,
            file_info_limit: RateLimit::new(config.fetch.file_info_per_minute),
            request_limit: RateLimit::new(config.fetch.requests_per_minute),
            fetch: config.fetch.clone(),
            config,
            provider,
            nonces: Nonces::default(),
            ddos: RwLock::new(BTreeMap::new()),
            index_errors: RwLock::new(BTreeMap::new()),
        })
    }

    /// The node's address (fee signer, decrypter).
    pub fn address(&self) -> Address {
        self.config.key.address()
    }

    /// ECIES-encrypt to the node's public key.
    pub fn encrypt(&self, plain: &[u8]) -> Result<Vec<u8>> {
        let mut pk = vec![4u8];
        pk.extend_from_slice(self.config.key.public_key().as_slice());
        ecies::encrypt(&pk, plain).map_err(|e| OceanError::devnet(format!("ECIES encryption failed: {e}")))
    }

    /// Decrypt what [`NodeState::encrypt`] produced.
    pub fn decrypt(&self, cipher: &[u8]) -> Result<Vec<u8>> {
        ecies::decrypt(&self.config.key.to_bytes().0, cipher)
            .map_err(|_| OceanError::input("not encrypted to this node's key"))
    }

    pub fn ddo(&self, did: &str) -> Option<Value> {
        self.ddos.read().unwrap_or_else(|e| e.into_inner()).get(did).cloned()
    }
}

/// An error answer as Ocean Node's handlers send one: status + the message as plain text with
/// Express's `text/html; charset=utf-8`.
pub(super) struct ApiError(pub StatusCode, pub String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, [(header::CONTENT_TYPE, super::http::HTML)], crate::error::one_line(&self.1)).into_response()
    }
}

pub(super) fn bad(msg: impl Into<String>) -> ApiError {
    ApiError(StatusCode::BAD_REQUEST, msg.into())
}

pub(super) fn param<'a>(q: &'a HashMap<String, String>, name: &str) -> std::result::Result<&'a str, ApiError> {
    q.get(name).map(String::as_str).filter(|v| !v.is_empty()).ok_or_else(|| bad(format!("missing parameter {name}")))
}

pub(super) fn address_param(q: &HashMap<String, String>, name: &str) -> std::result::Result<Address, ApiError> {
    param(q, name)?.parse().map_err(|_| bad(format!("{name} is not an address")))
}

/// Ocean Node's answer to a request without its signature fields.
pub(super) const UNSIGNED: &str =
    "Invalid authentication, you need to provide either a token or an address, signature, message and nonce";
/// Ocean Node's answer to a signature that is not the address's over `address + nonce + command`.
pub(super) const MISMATCH: &str = "consumer address and nonce signature mismatch";

/// Check `signature` over `address + nonce + command` (the address text exactly as sent) and
/// consume the nonce, answering 401 with Ocean Node's texts.
pub(super) fn check_signed(
    s: &NodeState,
    q: &HashMap<String, String>,
    addr_key: &str,
    command: &str,
    alt: Option<String>,
) -> std::result::Result<Address, ApiError> {
    let unauthorized = |m: String| ApiError(StatusCode::UNAUTHORIZED, m);
    let (Some(addr_text), Some(nonce_text), Some(sig)) = (
        q.get(addr_key).filter(|v| !v.is_empty()),
        q.get("nonce").filter(|v| !v.is_empty()),
        q.get("signature").filter(|v| !v.is_empty()),
    ) else {
        return Err(unauthorized(UNSIGNED.into()));
    };
    let addr = address_param(q, addr_key)?;
    let nonce: u64 =
        nonce_text.parse().map_err(|_| unauthorized(format!("nonce: {nonce_text} is not a valid nonce")))?;
    let ok = auth::verify_request(addr_text, nonce, command, sig)
        || alt.is_some_and(|m| auth::recover(keccak256(format!("{m}{nonce}")).as_slice(), sig) == Some(addr));
    if !ok {
        return Err(unauthorized(MISMATCH.into()));
    }
    if !s.nonces.consume(addr_text, nonce) {
        return Err(unauthorized(format!("nonce: {nonce_text} is not a valid nonce")));
    }
    Ok(addr)
}

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
        .merge(compute::routes())
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

/// The DDO service with id `service_id`, its position, and its datatoken.
pub(super) fn service(ddo: &Value, service_id: &str) -> std::result::Result<(usize, Value, Address), ApiError> {
    let services = ddo["services"].as_array().cloned().unwrap_or_default();
    let (i, svc) = services
        .into_iter()
        .enumerate()
        .find(|(_, s)| s["id"].as_str() == Some(service_id))
        .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, format!("service {service_id} not in the DDO")))?;
    let dt = svc["datatokenAddress"]
        .as_str()
        .and_then(|a| a.parse().ok())
        .ok_or_else(|| bad("service has no datatokenAddress"))?;
    Ok((i, svc, dt))
}

pub(super) fn find_ddo(s: &NodeState, did: &str) -> std::result::Result<Value, ApiError> {
    s.ddo(did).ok_or_else(|| ApiError(StatusCode::NOT_FOUND, format!("asset {did} not found (not indexed yet?)")))
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

/// The provider fee `initialize` and `initializeCompute` hand out: free, signed by the node,
/// valid for a day.
pub(super) async fn provider_fee(
    s: &NodeState,
    did: &str,
    service_id: &str,
    dt: Address,
    consumer: Address,
) -> std::result::Result<fees::ProviderFee, ApiError> {
    let now = chrono::Utc::now().timestamp() as u64;
    let data =
        json!({"dt": dt, "id": did, "serviceId": service_id, "consumer": consumer, "timestamp": now}).to_string();
    fees::sign_fee(&s.config.key, s.config.addresses.ocean, U256::ZERO, data.as_bytes(), now + 86_400)
        .await
        .map_err(|e| ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))
}

/// The decrypted `files` list of a service (whose files object must name the service's datatoken).
pub(super) fn service_files(s: &NodeState, svc: &Value, dt: Address) -> std::result::Result<Vec<Value>, ApiError> {
    let files_hex = svc["files"].as_str().ok_or_else(|| bad("service has no files"))?;
    let cipher = alloy::hex::decode(files_hex).map_err(|_| bad("service files are not hex"))?;
    let plain = s.decrypt(&cipher).map_err(|e| ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let files: Value = serde_json::from_slice(&plain).map_err(|_| bad("files object is not JSON"))?;
    if files["datatokenAddress"].as_str().and_then(|a| a.parse::<Address>().ok()) != Some(dt) {
        return Err(ApiError(StatusCode::FORBIDDEN, "files object belongs to another datatoken".into()));
    }
    Ok(files["files"].as_array().cloned().unwrap_or_default())
}

/// Why an order transaction does not pay for a service.
pub(super) enum OrderFault {
    /// The chain could not be asked.
    Chain(String),
    /// No such transaction on the chain.
    NotFound,
    /// The transaction reverted.
    Failed,
    /// No `OrderStarted` for this datatoken, consumer and service; `elsewhere` when the
    /// transaction orders another datatoken (another asset).
    NotOrdered { elsewhere: bool, other_consumer: bool },
    /// The order does not carry this node's provider fee.
    NoFee,
}

impl OrderFault {
    /// kelp's own answer (the compute routes): one line naming what is wrong.
    pub(super) fn api(self) -> ApiError {
        match self {
            OrderFault::Chain(e) => ApiError(StatusCode::BAD_GATEWAY, format!("chain: {e}")),
            OrderFault::NotFound => bad("order transaction not found on chain"),
            OrderFault::Failed => bad("order transaction failed on chain"),
            OrderFault::NotOrdered { .. } => {
                ApiError(StatusCode::FORBIDDEN, "no order for this consumer and service in that transaction".into())
            }
            OrderFault::NoFee => {
                ApiError(StatusCode::FORBIDDEN, "the order does not carry this node's provider fee".into())
            }
        }
    }
}

/// The order transaction must have succeeded and emitted `OrderStarted` from the datatoken for
/// this consumer and service index.
pub(super) async fn verify_order(
    s: &NodeState,
    tx: B256,
    dt: Address,
    consumer: Address,
    index: usize,
) -> std::result::Result<(), ApiError> {
    order_fault(s, tx, dt, consumer, index).await.map_err(OrderFault::api)
}

/// [`verify_order`]'s check, telling why an order does not count.
pub(super) async fn order_fault(
    s: &NodeState,
    tx: B256,
    dt: Address,
    consumer: Address,
    index: usize,
) -> std::result::Result<(), OrderFault> {
    let receipt = s
        .provider
        .get_transaction_receipt(tx)
        .await
        .map_err(|e| OrderFault::Chain(e.to_string()))?
        .ok_or(OrderFault::NotFound)?;
    if !receipt.status() {
        return Err(OrderFault::Failed);
    }
    let orders: Vec<_> = receipt
        .inner
        .logs()
        .iter()
        .filter_map(|l| Some((l.address(), l.log_decode::<IERC20Template::OrderStarted>().ok()?.inner.data)))
        .collect();
    let ours = |e: &IERC20Template::OrderStarted| e.consumer == consumer && e.serviceIndex == U256::from(index);
    if !orders.iter().any(|(a, e)| *a == dt && ours(e)) {
        let elsewhere = !orders.is_empty() && orders.iter().all(|(a, _)| *a != dt);
        let other_consumer = orders.iter().any(|(a, e)| *a == dt && e.consumer != consumer);
        return Err(OrderFault::NotOrdered { elsewhere, other_consumer });
    }
    // The order must carry this node's provider fee (the contract only checks that the fee is
    // signed by its own providerFeeAddress, which anyone can make).
    let our_fee = receipt.inner.logs().iter().filter(|l| l.address() == dt).any(|l| {
        l.log_decode::<IERC20Template::ProviderFee>()
            .map(|e| e.inner.data.providerFeeAddress == s.address())
            .unwrap_or(false)
    });
    if !our_fee {
        return Err(OrderFault::NoFee);
    }
    Ok(())
}

/// The bytes of one file object (`ipfs` from the node's store, `url` under the node's
/// [`FetchPolicy`](super::fetch::FetchPolicy), at most its `max_bytes`).
pub(super) async fn fetch_file(s: &NodeState, file: &Value) -> std::result::Result<Vec<u8>, ApiError> {
    match file["type"].as_str() {
        Some("ipfs") => ipfs_bytes(s, file).await,
        Some("url") => {
            let url = file["url"].as_str().ok_or_else(|| bad("url file without url"))?;
            s.fetch.fetch_all(url).await.map_err(super::files::fetch_error)
        }
        other => Err(ApiError(StatusCode::NOT_IMPLEMENTED, format!("file type {other:?} not served by this node"))),
    }
}

/// The bytes of an `ipfs` file object from the node's IPFS source.
pub(super) async fn ipfs_bytes(s: &NodeState, file: &Value) -> std::result::Result<Vec<u8>, ApiError> {
    let cid = file["hash"].as_str().ok_or_else(|| bad("ipfs file without hash"))?;
    let src = s
        .config
        .ipfs
        .as_ref()
        .ok_or_else(|| ApiError(StatusCode::NOT_IMPLEMENTED, "this node has no IPFS store".into()))?;
    src.cat(cid).await.map_err(|e| ApiError(StatusCode::BAD_GATEWAY, format!("ipfs {cid}: {e}")))
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
