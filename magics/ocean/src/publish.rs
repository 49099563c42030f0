//! Publishing an asset (REFERENCE §4.1–§4.3, §4.9): one factory transaction creates the data
//! NFT, its datatoken and the pricing (dispenser for free assets, fixed-rate exchange for priced
//! ones); the files object and the DDO 4.1.0 are encrypted by the node; `setMetaData` stores the
//! DDO on chain; the node indexes it. Every step is journaled ([`crate::journal`]), so a retry
//! resumes instead of publishing twice.
//!
//! A dataset published with [`ComputeOptions`] ([`publish_with`]) is compute-only: its one
//! service (index 0, id `"0"`) is a `compute` service naming the algorithms it trusts, and it has
//! no `access` service, so its bytes are never downloadable.

use crate::chain;
use crate::contracts::{IERC20, IERC721Template};
use crate::ddo;
use crate::error::{OceanError, Result};
use crate::journal::{Entry, Journal, Stage, TxRecord};
use crate::network::Network;
use crate::provider::NodeClient;
use crate::signer::{Signer, Steps, TxSummary};
use alloy::network::TransactionBuilder;
use alloy::primitives::{Address, B256, Bytes, U256};
use alloy::providers::Provider;
use alloy::rpc::types::TransactionRequest;
use alloy::sol_types::SolCall;
use serde::Serialize;
use serde_json::{Value, json};
use std::time::Duration;

mod create;
pub mod reach;
use create::create;

const TX_TIMEOUT: Duration = Duration::from_secs(120);
const INDEX_TIMEOUT: Duration = Duration::from_secs(60);

/// Dataset or algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum AssetType {
    Dataset,
    Algorithm,
}

/// The price of one datatoken (in a `%publish` result: `"Free"` or `{"Fixed": {"amount", "token"}}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub enum Price {
    /// A dispenser hands out datatokens.
    Free,
    /// A fixed-rate exchange sells datatokens for `amount` (wei of `token`, 18 decimals).
    Fixed {
        /// Wei of `token` per datatoken, as a `0x` hex number.
        #[schemars(with = "String")]
        amount: U256,
        /// The base token's address.
        #[schemars(with = "String")]
        token: Address,
    },
}

/// The file behind the asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum FileRef {
    /// A file on IPFS.
    Ipfs {
        /// Its CID.
        hash: String,
    },
    /// A file at an http(s) URL.
    Url {
        /// The URL.
        url: String,
    },
}

impl FileRef {
    fn to_json(&self) -> Value {
        match self {
            FileRef::Ipfs { hash } => json!({"type": "ipfs", "hash": hash}),
            FileRef::Url { url } => json!({"type": "url", "url": url, "method": "GET"}),
        }
    }
}

/// Docker image metadata of an algorithm (DDO `metadata.algorithm`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Container {
    pub image: String,
    pub tag: String,
    pub entrypoint: String,
    pub checksum: String,
}

/// What to publish (plain data, parsed from the magic's arguments).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublishSpec {
    pub name: String,
    pub kind: AssetType,
    pub price: Price,
    pub file: FileRef,
    pub description: Option<String>,
    pub license: Option<String>,
    pub tags: Vec<String>,
    pub container: Option<Container>,
    /// A free-form word that makes an otherwise identical publish a new asset (`--new`).
    pub salt: Option<String>,
    /// `metadata.additionalInformation` of the DDO (e.g. `{"kelp": lineage}` of a notebook).
    pub additional_information: Option<Value>,
}

impl PublishSpec {
    /// A dataset of `file` at `price`, with nothing else set.
    pub fn dataset(name: impl Into<String>, file: FileRef, price: Price) -> PublishSpec {
        PublishSpec {
            name: name.into(),
            kind: AssetType::Dataset,
            price,
            file,
            description: None,
            license: None,
            tags: vec![],
            container: None,
            salt: None,
            additional_information: None,
        }
    }
}

/// The result of a publish.
#[derive(Debug, Clone, Serialize)]
pub struct Published {
    pub did: String,
    pub nft: Address,
    pub datatoken: Address,
    pub exchange_id: Option<B256>,
    pub chain_id: u64,
    pub txs: Vec<TxRecord>,
    pub gas_total: u64,
    /// The publish had already completed (journal): nothing was sent now.
    pub already: bool,
    pub ddo: Value,
}

/// Compute-to-data settings of a compute-only dataset (`%publish --compute`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ComputeOptions {
    /// DIDs of published algorithms the dataset trusts (pinned by their checksums).
    pub trusted_algorithms: Vec<String>,
    /// Publishers (NFT owners) whose every algorithm the dataset trusts.
    pub trusted_publishers: Vec<Address>,
    /// Trust any algorithm.
    pub allow_raw_algorithm: bool,
}

/// An entry of `publisherTrustedAlgorithms` (REFERENCE §4.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrustedAlgorithm {
    pub did: String,
    /// [`ddo::files_checksum`] of the algorithm's files.
    pub files_checksum: String,
    /// [`ddo::container_section_checksum`] of its container.
    pub container_section_checksum: String,
}

/// Resolve an algorithm DID through the node and pin it: it must be indexed and of type
/// `algorithm` with a container; its file checksums come from the node's `fileInfo`.
pub async fn trusted_algorithm(node: &NodeClient, did: &str) -> Result<TrustedAlgorithm> {
    let ddo = node.ddo(did).await?.ok_or_else(|| {
        OceanError::input(format!("--trust {did}: the node at {} does not know this DID", node.url()))
    })?;
    if ddo["metadata"]["type"] != "algorithm" {
        return Err(OceanError::input(format!(
            "--trust {did}: not an algorithm (type {}); publish the algorithm with --type algorithm",
            ddo["metadata"]["type"]
        )));
    }
    let container_section_checksum = ddo::algorithm_container_checksum(&ddo)
        .ok_or_else(|| OceanError::input(format!("--trust {did}: the algorithm has no container metadata")))?;
    let service = ddo["services"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["files"].is_string()))
        .and_then(|s| s["id"].as_str())
        .ok_or_else(|| OceanError::input(format!("--trust {did}: the algorithm has no service with files")))?;
    // The node's checksums, refused in one line if it read a file as 0 bytes.
    let sums = node.file_checksums(did, service).await?;
    Ok(TrustedAlgorithm {
        did: did.to_string(),
        files_checksum: ddo::files_checksum(&sums),
        container_section_checksum,
    })
}

/// The journal key: the spec, the publisher and the chain.
pub fn journal_key(spec: &PublishSpec, publisher: Address, chain_id: u64) -> String {
    journal_key_with(spec, None, publisher, chain_id)
}

/// The journal key of a publish with compute settings (the same as [`journal_key`] without).
pub fn journal_key_with(
    spec: &PublishSpec,
    compute: Option<&ComputeOptions>,
    publisher: Address,
    chain_id: u64,
) -> String {
    let text = match compute {
        None => serde_json::to_string(&(spec, publisher, chain_id)),
        Some(c) => serde_json::to_string(&(spec, publisher, chain_id, c)),
    }
    .unwrap_or_default();
    alloy::hex::encode(ddo::sha256(text.as_bytes()))
}

/// Publish `spec` on `net` with `signer`; `step` is told each step's name.
pub async fn publish(
    net: &Network,
    signer: &dyn Signer,
    spec: &PublishSpec,
    journal: &Journal,
    step: &mut (dyn FnMut(&str) + Send),
) -> Result<Published> {
    publish_with(net, signer, spec, None, journal, step).await
}

/// Publish `spec`, as a compute-only dataset when `compute` is given (checked, and its trusted
/// algorithms resolved, before any transaction).
pub async fn publish_with(
    net: &Network,
    signer: &dyn Signer,
    spec: &PublishSpec,
    compute: Option<&ComputeOptions>,
    journal: &Journal,
    step: &mut (dyn FnMut(&str) + Send),
) -> Result<Published> {
    let node = NodeClient::of(net)?;
    let mut trusted = Vec::new();
    if let Some(c) = compute {
        if spec.kind != AssetType::Dataset {
            return Err(OceanError::input("--compute is for datasets; publish algorithms with --type algorithm alone"));
        }
        for did in &c.trusted_algorithms {
            trusted.push(trusted_algorithm(&node, did).await?);
        }
    }
    let publisher = signer.address().await?;
    let chain_id = signer.chain_id().await?;
    if chain_id != net.chain_id {
        return Err(OceanError::WrongChain { expected: net.chain_id, got: chain_id });
    }
    // Everything that can be checked is checked before the first transaction: a dead node or a
    // bad price token must not leave a half-made asset behind.
    let decryptor = node.check(chain_id).await?;
    check_price_token(net, &spec.price).await?;
    reach::check_reachable(net, &node, &spec.file).await?;
    let key = journal_key_with(spec, compute, publisher, chain_id);
    let recorded = match journal.get(&key)? {
        Some(e) if stale(net, &e).await? => None,
        other => other,
    };
    let mut e = match recorded {
        Some(e) => e,
        None => {
            let from_block = net
                .provider
                .get_block_number()
                .await
                .map_err(|e| chain::decode_rpc_error(&e, "eth_blockNumber", &net.rpc_url))?;
            let from_block_hash = block_hash(net, from_block).await?;
            let e = Entry {
                stage: Stage::Creating,
                chain_id,
                publisher,
                from_block,
                from_block_hash,
                created: chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                nft_symbol: format!("KELP-{}", &key[..8].to_uppercase()),
                dt_symbol: format!("DT-{}", &key[..8].to_uppercase()),
                key: key.clone(),
                nft: None,
                datatoken: None,
                exchange_id: None,
                did: None,
                txs: vec![],
                nonce: None,
            };
            journal.put(&e)?;
            e
        }
    };
    let already = e.stage == Stage::Done;
    // A person approves up to APPROVALS requests; each dialog says which one it is.
    let first = if e.stage == Stage::Creating { 1 } else { 2 };
    let signer = &Steps::new(signer, first, APPROVALS);
    if e.stage == Stage::Creating {
        step(&format!("step 1 of {APPROVALS}: creating the data NFT + datatoken"));
        create(net, signer, spec, journal, &mut e).await?;
    }
    let (nft, dt) = (e.nft.ok_or_else(journal_broken)?, e.datatoken.ok_or_else(journal_broken)?);
    let did = ddo::did(nft, chain_id);
    if e.stage == Stage::Created {
        step(&format!(
            "NFT created, metadata pending: steps 2–{APPROVALS} of {APPROVALS}, encrypting and setting metadata"
        ));
        let section = compute.map(|c| compute_section(c, &trusted));
        let finish = async {
            let doc = build_ddo(spec, section, &e, &did, nft, dt, chain_id, &node, signer).await?;
            set_metadata(net, signer, &node, decryptor, journal, &mut e, &doc).await
        };
        finish.await.map_err(|source| metadata_pending(nft, source))?;
    }
    step("metadata set; waiting for the node to index");
    let ddo = node.wait_ddo(&did, INDEX_TIMEOUT).await?;
    if e.stage != Stage::Done {
        e.stage = Stage::Done;
        e.did = Some(did.clone());
        journal.put(&e)?;
    }
    let gas_total = e.txs.iter().filter_map(|t| t.gas).sum();
    Ok(Published {
        did,
        nft,
        datatoken: dt,
        exchange_id: e.exchange_id,
        chain_id,
        txs: e.txs.clone(),
        gas_total,
        already,
        ddo,
    })
}

/// A fixed price's base token must be an ERC-20 contract with 18 decimals (the amount is in
/// 18-decimal units); checked with a `decimals()` call before any transaction.
async fn check_price_token(net: &Network, price: &Price) -> Result<()> {
    let Price::Fixed { token, .. } = price else { return Ok(()) };
    if token.is_zero() {
        return Err(OceanError::input(ZERO_TOKEN));
    }
    let not_token = || {
        OceanError::input(format!(
            "price token {token} is not an ERC-20 token on {}; use N:OCEAN or the address of an ERC-20 token",
            net.name
        ))
    };
    let code =
        net.provider.get_code_at(*token).await.map_err(|x| chain::decode_rpc_error(&x, "eth_getCode", &net.rpc_url))?;
    if code.is_empty() {
        return Err(not_token());
    }
    let decimals = IERC20::new(*token, &net.provider).decimals().call().await.map_err(|_| not_token())?;
    if decimals != 18 {
        return Err(OceanError::input(format!(
            "price token {token} has {decimals} decimals; kelp prices in 18-decimal tokens only (e.g. N:OCEAN)"
        )));
    }
    Ok(())
}

/// The error for a price in the zero address.
pub const ZERO_TOKEN: &str =
    "the price token is the zero address, which is no token; use N:OCEAN or N:<address of an ERC-20 token>";

/// The hash of block `n` on `net`'s chain (`None` if the chain has no such block).
async fn block_hash(net: &Network, n: u64) -> Result<Option<B256>> {
    let b = net
        .provider
        .get_block_by_number(n.into())
        .await
        .map_err(|e| chain::decode_rpc_error(&e, "eth_getBlockByNumber", &net.rpc_url))?;
    Ok(b.map(|b| b.header.hash))
}

/// Whether a journal entry belongs to a chain that is gone (`kelp devnet reset`, a lost
/// snapshot, another deployment on the same chain id): the block it started at is not this
/// chain's block, or the NFT it recorded has no code. Such an entry is replaced, not trusted.
pub async fn stale(net: &Network, e: &Entry) -> Result<bool> {
    if let Some(h) = e.from_block_hash
        && block_hash(net, e.from_block).await? != Some(h)
    {
        return Ok(true);
    }
    if let Some(nft) = e.nft {
        let code = net
            .provider
            .get_code_at(nft)
            .await
            .map_err(|x| chain::decode_rpc_error(&x, "eth_getCode", &net.rpc_url))?;
        if code.is_empty() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The approvals of a publish: the factory transaction, two node requests (encrypt the files,
/// encrypt the DDO) and the `setMetaData` transaction.
pub const APPROVALS: u32 = 4;

/// The error of a publish stopped after its NFT was created: the NFT stays, the journal resumes.
fn metadata_pending(nft: Address, source: OceanError) -> OceanError {
    OceanError::Unfinished {
        done: format!("NFT created ({nft}), metadata pending"),
        resume: "run the cell again to finish this asset (the publish journal resumes it; no second NFT is made)"
            .into(),
        source: Box::new(source),
    }
}

fn journal_broken() -> OceanError {
    OceanError::devnet("the publish journal lost the NFT address; delete its entry in journal.json and retry")
}

/// The `compute` object of a compute service (REFERENCE §4.2); network access is never allowed.
pub fn compute_section(c: &ComputeOptions, trusted: &[TrustedAlgorithm]) -> Value {
    json!({
        "allowRawAlgorithm": c.allow_raw_algorithm,
        "allowNetworkAccess": false,
        "publisherTrustedAlgorithms": trusted,
        "publisherTrustedAlgorithmPublishers": c.trusted_publishers.iter().map(|a| a.to_checksum(None)).collect::<Vec<_>>(),
    })
}

#[allow(clippy::too_many_arguments)]
async fn build_ddo(
    spec: &PublishSpec,
    compute: Option<Value>,
    e: &Entry,
    did: &str,
    nft: Address,
    dt: Address,
    chain_id: u64,
    node: &NodeClient,
    signer: &dyn Signer,
) -> Result<Value> {
    let files = json!({"datatokenAddress": dt, "nftAddress": nft, "files": [spec.file.to_json()]});
    let enc = node.encrypt(signer, chain_id, files.to_string().as_bytes()).await?;
    let mut metadata = json!({
        "created": e.created, "updated": e.created, "type": spec.kind, "name": spec.name,
        "description": spec.description.clone().unwrap_or_else(|| spec.name.clone()),
        "author": e.publisher.to_checksum(None),
        "license": spec.license.clone().unwrap_or_else(|| "CC0: PublicDomain".into()),
        "tags": spec.tags,
    });
    if let Some(info) = &spec.additional_information {
        metadata["additionalInformation"] = info.clone();
    }
    if let Some(c) = &spec.container {
        metadata["algorithm"] = json!({"language": "", "format": "docker-image", "version": "0.1",
            "container": {"entrypoint": c.entrypoint, "image": c.image, "tag": c.tag, "checksum": c.checksum}});
    }
    let mut service = json!({"id": "0", "type": "access", "files": format!("0x{}", alloy::hex::encode(enc)),
        "datatokenAddress": dt, "serviceEndpoint": node.url(), "timeout": 0});
    if let Some(c) = compute {
        service["type"] = json!("compute");
        service["compute"] = c;
    }
    Ok(json!({
        "@context": ["https://w3id.org/did/v1"], "id": did, "version": "4.1.0", "chainId": chain_id,
        "nftAddress": nft, "metadata": metadata, "credentials": {"allow": [], "deny": []},
        "services": [service],
    }))
}

async fn set_metadata(
    net: &Network,
    signer: &dyn Signer,
    node: &NodeClient,
    decryptor: Address,
    journal: &Journal,
    e: &mut Entry,
    doc: &Value,
) -> Result<()> {
    let nft = e.nft.ok_or_else(journal_broken)?;
    let contract = IERC721Template::new(nft, &net.provider);
    let meta = contract.getMetaData().call().await.map_err(|x| OceanError::Rpc(format!("getMetaData: {x}")))?;
    if !meta._3 {
        let plain = serde_json::to_vec(doc).map_err(|x| OceanError::devnet(x.to_string()))?;
        let hash = B256::from(ddo::sha256(&plain));
        let data = node.encrypt(signer, net.chain_id, &plain).await?;
        let call = IERC721Template::setMetaDataCall {
            _metaDataState: 0,
            _metaDataDecryptorUrl: node.url().to_string(),
            _metaDataDecryptorAddress: decryptor.to_checksum(None),
            flags: Bytes::from_static(&[2]),
            data: data.into(),
            _metaDataHash: hash,
            _metadataProofs: vec![],
        };
        let summary = TxSummary::call(net.chain_id, format!("data NFT {}", e.nft_symbol), nft, "setMetaData")
            .arg("state", 0)
            .arg("decryptorUrl", node.url())
            .arg("flags", "0x02 (encrypted)")
            .arg("metaDataHash", hash);
        let tx = TransactionRequest::default().with_to(nft).with_input(call.abi_encode());
        let r = chain::transact(signer, &net.provider, tx, &summary, TX_TIMEOUT).await?;
        e.txs.push(TxRecord { label: "setMetaData".into(), hash: r.transaction_hash, gas: Some(r.gas_used) });
    }
    e.stage = Stage::MetadataSet;
    journal.put(e)
}
