//! The node's shared state ([`NodeState`]: config, chain connection, nonces, the index, limits,
//! the compute engine) and what every handler uses: [`ApiError`] (Ocean Node's plain-text error
//! answers), query parameters, signature checks, services and files of an indexed DDO, order
//! checks on chain, fetching a file object. The routes ([`crate::routes`], [`crate::compute_api`])
//! sit above it.

use crate::auth::Nonces;
use crate::chain;
use crate::error::{NodeError, Result};
use crate::fetch::{FetchError, FetchPolicy};
use crate::ratelimit::RateLimit;
use crate::{NodeConfig, compute, fees};
use alloy::primitives::{Address, B256, U256, keccak256};
use alloy::providers::{DynProvider, Provider};
use axum::extract::Query;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use kelp_ocean_wire::auth;
use kelp_ocean_wire::contracts::IERC20Template;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::sync::RwLock;

pub(crate) type Q = Query<HashMap<String, String>>;

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
    /// Requests per caller on every route (Ocean Node's limit, [`crate::ratelimit`]).
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
        ecies::encrypt(&pk, plain).map_err(|e| NodeError::setup(format!("ECIES encryption failed: {e}")))
    }

    /// Decrypt what [`NodeState::encrypt`] produced.
    pub fn decrypt(&self, cipher: &[u8]) -> Result<Vec<u8>> {
        ecies::decrypt(&self.config.key.to_bytes().0, cipher)
            .map_err(|_| NodeError::input("not encrypted to this node's key"))
    }

    pub fn ddo(&self, did: &str) -> Option<Value> {
        self.ddos.read().unwrap_or_else(|e| e.into_inner()).get(did).cloned()
    }
}

/// An error answer as Ocean Node's handlers send one: status + the message as plain text with
/// Express's `text/html; charset=utf-8`.
pub(crate) struct ApiError(pub StatusCode, pub String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, [(header::CONTENT_TYPE, crate::http::HTML)], crate::error::one_line(&self.1)).into_response()
    }
}

pub(crate) fn bad(msg: impl Into<String>) -> ApiError {
    ApiError(StatusCode::BAD_REQUEST, msg.into())
}

pub(crate) fn param<'a>(q: &'a HashMap<String, String>, name: &str) -> std::result::Result<&'a str, ApiError> {
    q.get(name).map(String::as_str).filter(|v| !v.is_empty()).ok_or_else(|| bad(format!("missing parameter {name}")))
}

pub(crate) fn address_param(q: &HashMap<String, String>, name: &str) -> std::result::Result<Address, ApiError> {
    param(q, name)?.parse().map_err(|_| bad(format!("{name} is not an address")))
}

/// Ocean Node's answer to a request without its signature fields.
pub(crate) const UNSIGNED: &str =
    "Invalid authentication, you need to provide either a token or an address, signature, message and nonce";
/// Ocean Node's answer to a signature that is not the address's over `address + nonce + command`.
pub(crate) const MISMATCH: &str = "consumer address and nonce signature mismatch";

/// Check `signature` over `address + nonce + command` (the address text exactly as sent) and
/// consume the nonce, answering 401 with Ocean Node's texts.
pub(crate) fn check_signed(
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

/// The DDO service with id `service_id`, its position, and its datatoken.
pub(crate) fn service(ddo: &Value, service_id: &str) -> std::result::Result<(usize, Value, Address), ApiError> {
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

pub(crate) fn find_ddo(s: &NodeState, did: &str) -> std::result::Result<Value, ApiError> {
    s.ddo(did).ok_or_else(|| ApiError(StatusCode::NOT_FOUND, format!("asset {did} not found (not indexed yet?)")))
}

/// The provider fee `initialize` and `initializeCompute` hand out: free, signed by the node,
/// valid for a day.
pub(crate) async fn provider_fee(
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
pub(crate) fn service_files(s: &NodeState, svc: &Value, dt: Address) -> std::result::Result<Vec<Value>, ApiError> {
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
pub(crate) enum OrderFault {
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
    pub(crate) fn api(self) -> ApiError {
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
pub(crate) async fn verify_order(
    s: &NodeState,
    tx: B256,
    dt: Address,
    consumer: Address,
    index: usize,
) -> std::result::Result<(), ApiError> {
    order_fault(s, tx, dt, consumer, index).await.map_err(OrderFault::api)
}

/// [`verify_order`]'s check, telling why an order does not count.
pub(crate) async fn order_fault(
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
/// [`FetchPolicy`](crate::fetch::FetchPolicy), at most its `max_bytes`).
pub(crate) async fn fetch_file(s: &NodeState, file: &Value) -> std::result::Result<Vec<u8>, ApiError> {
    match file["type"].as_str() {
        Some("ipfs") => ipfs_bytes(s, file).await,
        Some("url") => {
            let url = file["url"].as_str().ok_or_else(|| bad("url file without url"))?;
            s.fetch.fetch_all(url).await.map_err(fetch_error)
        }
        other => Err(ApiError(StatusCode::NOT_IMPLEMENTED, format!("file type {other:?} not served by this node"))),
    }
}

/// The bytes of an `ipfs` file object from the node's IPFS source.
pub(crate) async fn ipfs_bytes(s: &NodeState, file: &Value) -> std::result::Result<Vec<u8>, ApiError> {
    let cid = file["hash"].as_str().ok_or_else(|| bad("ipfs file without hash"))?;
    let src = s
        .config
        .ipfs
        .as_ref()
        .ok_or_else(|| ApiError(StatusCode::NOT_IMPLEMENTED, "this node has no IPFS store".into()))?;
    src.cat(cid).await.map_err(|e| ApiError(StatusCode::BAD_GATEWAY, format!("ipfs {cid}: {e}")))
}

/// The node's answer for a file it would not or could not fetch.
pub(crate) fn fetch_error(e: FetchError) -> ApiError {
    let status = match e {
        FetchError::Setting(_) => StatusCode::INTERNAL_SERVER_ERROR,
        FetchError::BadUrl => StatusCode::BAD_REQUEST,
        FetchError::Scheme(_) | FetchError::Unsafe | FetchError::Refused { .. } => StatusCode::FORBIDDEN,
        FetchError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
        FetchError::Resolve { .. } | FetchError::TooManyRedirects(_) | FetchError::Upstream { .. } => {
            StatusCode::BAD_GATEWAY
        }
    };
    ApiError(status, e.to_string())
}
