//! The node's HTTP handlers (shapes in the module docs of [`super`]).

use super::auth::{self, Nonces};
use super::fetch::FetchPolicy;
use super::ratelimit::RateLimit;
use super::{NodeConfig, compute, fees, files, indexer};
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

/// An error answer: status + `{"error": message}`.
pub(super) struct ApiError(pub StatusCode, pub String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({"error": self.1}))).into_response()
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

pub(super) fn u64_param(q: &HashMap<String, String>, name: &str) -> std::result::Result<u64, ApiError> {
    param(q, name)?.parse().map_err(|_| bad(format!("{name} is not a number")))
}

/// Check `signature` over `address + nonce + command` and consume the nonce.
pub(super) fn check_signed(
    s: &NodeState,
    q: &HashMap<String, String>,
    addr_key: &str,
    command: &str,
    alt: Option<String>,
) -> std::result::Result<Address, ApiError> {
    let addr_text = param(q, addr_key)?;
    let addr = address_param(q, addr_key)?;
    let nonce = u64_param(q, "nonce")?;
    let sig = param(q, "signature")?;
    let ok = auth::verify_request(addr_text, nonce, command, sig)
        || alt.is_some_and(|m| auth::recover(keccak256(format!("{m}{nonce}")).as_slice(), sig) == Some(addr));
    if !ok {
        return Err(ApiError(StatusCode::UNAUTHORIZED, format!("invalid signature for {command}")));
    }
    if !s.nonces.consume(addr, nonce) {
        return Err(ApiError(StatusCode::UNAUTHORIZED, "nonce must be greater than the last one used".into()));
    }
    Ok(addr)
}

pub fn router(state: Arc<NodeState>) -> Router {
    Router::new()
        .route("/", get(root))
        .route("/api/services/nonce", get(nonce))
        .route("/api/services/encrypt", post(encrypt))
        .route("/api/services/decrypt", post(decrypt))
        .route("/api/services/initialize", get(initialize))
        .route("/api/services/download", get(files::download))
        .route("/api/fileInfo", post(files::file_info))
        .route("/api/services/fileInfo", post(files::file_info))
        .merge(compute::routes())
        .route("/api/aquarius/assets/ddo/{did}", get(ddo))
        .route("/api/aquarius/assets/metadata/{did}", get(metadata))
        .route("/api/aquarius/assets/metadata/query", post(query))
        .route("/api/aquarius/state/ddo", get(ddo_state))
        .with_state(state)
}

async fn root(State(s): State<Arc<NodeState>>) -> Json<Value> {
    let chain = s.config.chain_id.to_string();
    let ep = |m: &str, p: &str| json!([m, p]);
    Json(json!({
        "software": "kelp-node",
        "version": env!("CARGO_PKG_VERSION"),
        "chainIds": [s.config.chain_id],
        "providerAddress": s.address(),
        "providerAddresses": {chain: s.address()},
        "serviceEndpoints": {
            "nonce": ep("GET", "/api/services/nonce"),
            "encrypt": ep("POST", "/api/services/encrypt"),
            "decrypt": ep("POST", "/api/services/decrypt"),
            "initialize": ep("GET", "/api/services/initialize"),
            "download": ep("GET", "/api/services/download"),
            "fileinfo": ep("POST", "/api/fileInfo"),
            "computeEnvironments": ep("GET", "/api/services/computeEnvironments"),
            "initializeCompute": ep("POST", "/api/services/initializeCompute"),
            "computeStart": ep("POST", "/api/services/compute"),
            "computeStatus": ep("GET", "/api/services/compute"),
            "computeStop": ep("PUT", "/api/services/compute"),
            "computeResult": ep("GET", "/api/services/computeResult"),
        },
    }))
}

async fn nonce(State(s): State<Arc<NodeState>>, Query(q): Q) -> std::result::Result<Json<Value>, ApiError> {
    let a = address_param(&q, "userAddress")?;
    Ok(Json(json!({"nonce": s.nonces.current(a)})))
}

async fn encrypt(State(s): State<Arc<NodeState>>, Query(q): Q, body: Bytes) -> std::result::Result<Response, ApiError> {
    check_signed(&s, &q, "consumerAddress", "encrypt", None)?;
    if body.is_empty() {
        return Err(bad("nothing to encrypt"));
    }
    let c = s.encrypt(&body).map_err(|e| ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok((StatusCode::CREATED, [(header::CONTENT_TYPE, "text/plain")], format!("0x{}", alloy::hex::encode(c)))
        .into_response())
}

async fn decrypt(State(s): State<Arc<NodeState>>, Json(b): Json<Value>) -> std::result::Result<Response, ApiError> {
    let field = |k: &str| b.get(k).map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()));
    let q: HashMap<String, String> = ["decrypterAddress", "nonce", "signature"]
        .iter()
        .filter_map(|k| field(k).map(|v| (k.to_string(), v)))
        .collect();
    let who = check_signed(&s, &q, "decrypterAddress", "decrypt", None)?;
    if who != s.address() {
        return Err(ApiError(StatusCode::FORBIDDEN, "decrypter not authorized by this node".into()));
    }
    let doc = field("encryptedDocument").ok_or_else(|| bad("missing encryptedDocument"))?;
    let raw = alloy::hex::decode(&doc).map_err(|_| bad("encryptedDocument is not hex"))?;
    let plain = s.decrypt(&raw).map_err(|e| bad(e.to_string()))?;
    Ok((StatusCode::CREATED, [(header::CONTENT_TYPE, "text/plain")], plain).into_response())
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

async fn initialize(State(s): State<Arc<NodeState>>, Query(q): Q) -> std::result::Result<Json<Value>, ApiError> {
    let did = param(&q, "documentId")?;
    let service_id = param(&q, "serviceId")?;
    let consumer = address_param(&q, "consumerAddress")?;
    let ddo = find_ddo(&s, did)?;
    let (_, svc, dt) = service(&ddo, service_id)?;
    if svc["type"] == "compute" {
        return Err(bad(format!(
            "service {service_id} of {did} is a compute service: use initializeCompute (POST /api/services/initializeCompute)"
        )));
    }
    let fee = provider_fee(&s, did, service_id, dt, consumer).await?;
    Ok(Json(json!({"datatoken": dt, "nonce": s.nonces.current(consumer), "providerFee": fee})))
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

/// The order transaction must have succeeded and emitted `OrderStarted` from the datatoken for
/// this consumer and service index.
pub(super) async fn verify_order(
    s: &NodeState,
    tx: B256,
    dt: Address,
    consumer: Address,
    index: usize,
) -> std::result::Result<(), ApiError> {
    let receipt = s
        .provider
        .get_transaction_receipt(tx)
        .await
        .map_err(|e| ApiError(StatusCode::BAD_GATEWAY, format!("chain: {e}")))?
        .ok_or_else(|| ApiError(StatusCode::BAD_REQUEST, "order transaction not found on chain".into()))?;
    if !receipt.status() {
        return Err(bad("order transaction failed on chain"));
    }
    let logs: Vec<_> = receipt.inner.logs().iter().filter(|l| l.address() == dt).collect();
    let ordered = logs.iter().any(|l| {
        l.log_decode::<IERC20Template::OrderStarted>()
            .map(|e| e.inner.data.consumer == consumer && e.inner.data.serviceIndex == U256::from(index))
            .unwrap_or(false)
    });
    if !ordered {
        return Err(ApiError(
            StatusCode::FORBIDDEN,
            "no order for this consumer and service in that transaction".into(),
        ));
    }
    // The order must carry this node's provider fee (the contract only checks that the fee is
    // signed by its own providerFeeAddress, which anyone can make).
    let our_fee = logs.iter().any(|l| {
        l.log_decode::<IERC20Template::ProviderFee>()
            .map(|e| e.inner.data.providerFeeAddress == s.address())
            .unwrap_or(false)
    });
    if !our_fee {
        return Err(ApiError(StatusCode::FORBIDDEN, "the order does not carry this node's provider fee".into()));
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

async fn ddo(State(s): State<Arc<NodeState>>, Path(did): Path<String>) -> std::result::Result<Json<Value>, ApiError> {
    find_ddo(&s, &did).map(Json)
}

async fn metadata(
    State(s): State<Arc<NodeState>>,
    Path(did): Path<String>,
) -> std::result::Result<Json<Value>, ApiError> {
    find_ddo(&s, &did).map(|d| Json(d["metadata"].clone()))
}

async fn query(State(s): State<Arc<NodeState>>, Json(body): Json<Value>) -> Json<Value> {
    let all: Vec<Value> = s.ddos.read().unwrap_or_else(|e| e.into_inner()).values().cloned().collect();
    let hits: Vec<Value> = all
        .into_iter()
        .filter(|d| indexer::matches_query(d, &body))
        .map(|d| json!({"_id": d["id"], "_source": d}))
        .collect();
    Json(json!({"hits": {"total": {"value": hits.len()}, "hits": hits}}))
}

async fn ddo_state(State(s): State<Arc<NodeState>>, Query(q): Q) -> std::result::Result<Json<Value>, ApiError> {
    let did = param(&q, "did")?;
    let err = s.index_errors.read().unwrap_or_else(|e| e.into_inner()).get(did).cloned();
    match (s.ddo(did), err) {
        (Some(d), _) => Ok(Json(
            json!({"did": did, "chainId": d["chainId"], "nft": d["nftAddress"], "txId": d["event"]["tx"], "valid": true, "error": ""}),
        )),
        (None, Some(e)) => Ok(Json(json!({"did": did, "valid": false, "error": e}))),
        (None, None) => Err(ApiError(StatusCode::NOT_FOUND, format!("asset {did} not found"))),
    }
}
