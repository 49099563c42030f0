//! kelp-ocean-node: kelp's local Ocean node, an HTTP server with Ocean Node's shapes (REFERENCE
//! §4.5–§4.9) backed by the devnet's chain, so kelp-ocean's client works the same against it and
//! against a real Ocean Node. It shares only wire types with the client ([`kelp_ocean_wire`]);
//! kelp-ocean's devnet starts it as a process (the `kelp-ocean-node` binary, or `kelp devnet node`).
//! It owns a key (its identity: ECIES encryption target and provider-fee signer), nonces,
//! and an index of DDOs fed by `MetadataCreated`/`MetadataUpdated` events ([`indexer`]).
//!
//! Routes, shaped like Ocean Node v3.1.0's (checked against its recorded transcripts by
//! kelp-ocean's `tests/it/conformance.rs`; handler errors are plain text with `text/html; charset=utf-8`, unknown
//! routes get Express's 404 page, repeated slashes are collapsed and CORS is open: [`http`]):
//! - `GET /` — `{nodeId, chainIds (strings), providerAddress, nodePublicKey, serviceEndpoints,
//!   software: "Ocean-Node", version}`
//! - `GET /api/services/nonce?userAddress` — `{"nonce": "<last used>"}`, keyed by the exact text
//! - `POST /api/services/encrypt?chainId&nonce&consumerAddress&signature` (octet-stream body) —
//!   200, `0x` hex of ECIES(node key, body); signed with command `encrypt`
//! - `POST /api/services/decrypt` — `decryptDDO` for other nodes' indexers and any signer
//!   ([`decrypt`]); kelp's own indexer decrypts in process
//! - `GET /api/services/initialize?documentId&serviceId[&consumerAddress]` — `{providerFee,
//!   datatoken, nonce, computeAddress}`
//! - `GET /api/services/download?documentId&serviceId&consumerAddress&transferTxId&fileIndex&nonce&signature`
//!   — the bytes, after checking the signature (command `download`) and the on-chain `OrderStarted`;
//!   for an `ipfs` file the `X-Ipfs-Cid` header names its CID so the consumer can verify the bytes
//! - `GET /api/aquarius/assets/{ddo,metadata}/{did}` (the DDO with Ocean Node's
//!   `indexedMetadata`, [`indexer`]), `POST /api/aquarius/assets/metadata/query` (Typesense-shaped,
//!   [`query`]), `GET /api/aquarius/state/ddo?did|nft|txId`
//! - `POST /api/aquarius/assets/ddo/validate` — `{hash, publicKey, r, s, v}` for a DDO a publisher
//!   is about to set (ocean.js's `createAsset` asks for it): [`validate`]
//! - `POST /api/services/fileInfo` with a file object or `{did, serviceId}` — per file `{valid,
//!   contentLength, contentType, checksum (hex sha256 of the bytes), name, type}`, no content
//!   type; unsigned, so limited per caller IP like Ocean Node ([`ratelimit`], 429 past the limit)
//! - Compute-to-data (`computeEnvironments`, `initializeCompute`, `compute` POST/GET/PUT,
//!   `computeResult`) on a kelp-c2d engine: see [`compute`].
//!
//! `url` files (fileInfo, download, compute inputs) are fetched only from public addresses,
//! redirects re-checked, bodies streamed under a size cap ([`fetch`]); the devnet's node also
//! allows loopback, because the devnet's files are served from this machine.

pub mod auth;
pub mod chain;
pub mod compute;
pub mod compute_api;
mod decrypt;
pub mod error;
pub mod fees;
pub mod fetch;
mod files;
pub mod http;
pub mod indexer;
pub mod ipfs;
pub mod query;
pub mod ratelimit;
mod routes;
pub mod serve;
mod state;
#[cfg(feature = "testing")]
pub mod testing;
mod validate;

pub use error::{NodeError, Result};
pub use ipfs::IpfsSource;
pub use kelp_ocean_wire::CID_HEADER;

use alloy::signers::local::PrivateKeySigner;
use kelp_ocean_wire::addresses::OceanAddresses;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What the node needs to run.
pub struct NodeConfig {
    pub rpc_url: String,
    pub chain_id: u64,
    pub addresses: OceanAddresses,
    pub key: PrivateKeySigner,
    /// The URL clients use to reach it (written into DDOs as `serviceEndpoint`).
    pub public_url: String,
    pub ipfs: Option<Arc<dyn IpfsSource>>,
    /// Where the node's compute engine keeps its jobs and the inputs it fetched (`None`: no
    /// compute). Never the user's own `%c2d` folder.
    pub compute_dir: Option<PathBuf>,
    /// Which `url` files the node fetches and how much of them ([`fetch`]); the default refuses
    /// loopback and private addresses.
    pub fetch: fetch::FetchPolicy,
}

impl std::fmt::Debug for NodeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeConfig")
            .field("rpc_url", &self.rpc_url)
            .field("chain_id", &self.chain_id)
            .field("address", &self.key.address())
            .field("public_url", &self.public_url)
            .field("fetch", &self.fetch)
            .finish()
    }
}

/// Load the node's key from `path` (hex), creating it (mode 0600) on first use.
pub fn load_or_create_key(path: &Path) -> Result<PrivateKeySigner> {
    match std::fs::read_to_string(path) {
        Ok(hex) => hex
            .trim()
            .parse()
            .map_err(|_| NodeError::setup(format!("{}: not a node key; delete it to make a new one", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = PrivateKeySigner::random();
            let hex = alloy::hex::encode(key.to_bytes());
            write_private(path, hex.as_bytes())?;
            Ok(key)
        }
        Err(e) => Err(NodeError::io(path, e)),
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| NodeError::io(dir, e))?;
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| NodeError::io(path, e))?;
    f.write_all(bytes).map_err(|e| NodeError::io(path, e))
}

/// Where the node keeps its key under `$KELP_HOME/ocean`.
pub fn key_path(ocean_dir: &Path) -> PathBuf {
    kelp_ocean_wire::layout::DevnetPaths::new(ocean_dir).node_key()
}

/// A running node: the index and the listening address.
pub struct Node {
    pub state: Arc<state::NodeState>,
    pub local_addr: std::net::SocketAddr,
}

/// Bind `127.0.0.1:port` (0 = any free port), start the indexer and serve until `shutdown`
/// resolves. Returns once bound; the server runs on a spawned task.
pub async fn start(
    config: NodeConfig,
    port: u16,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(Node, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|e| NodeError::setup(format!("the node cannot listen on 127.0.0.1:{port}: {e}")))?;
    let local_addr = listener.local_addr().map_err(|e| NodeError::setup(e.to_string()))?;
    let state = Arc::new(state::NodeState::new(config)?);
    let idx = state.clone();
    let indexer = tokio::spawn(async move { indexer::run(idx).await });
    compute_api::settle_unclaimed(state.clone());
    let app = routes::router(state.clone());
    let handle = tokio::spawn(async move {
        let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
        let _ = axum::serve(listener, app).with_graceful_shutdown(shutdown).await;
        indexer.abort();
    });
    Ok((Node { state, local_addr }, handle))
}
