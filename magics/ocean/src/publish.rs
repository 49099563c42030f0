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
use crate::contracts::{DispenserData, ErcCreateData, FixedData, IERC721Factory, IERC721Template, NftCreateData};
use crate::ddo;
use crate::error::{OceanError, Result};
use crate::journal::{Entry, Journal, Stage, TxRecord};
use crate::network::Network;
use crate::node::client::NodeClient;
use crate::signer::{Signer, TxSummary};
use alloy::network::TransactionBuilder;
use alloy::primitives::{Address, B256, Bytes, U256};
use alloy::providers::Provider;
use alloy::rpc::types::{Filter, TransactionReceipt, TransactionRequest};
use alloy::sol_types::{SolCall, SolEvent};
use serde::Serialize;
use serde_json::{Value, json};
use std::time::Duration;

const TX_TIMEOUT: Duration = Duration::from_secs(120);
const INDEX_TIMEOUT: Duration = Duration::from_secs(60);

/// Dataset or algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AssetType {
    Dataset,
    Algorithm,
}

/// The price of one datatoken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Price {
    /// A dispenser hands out datatokens.
    Free,
    /// A fixed-rate exchange sells datatokens for `amount` (wei of `token`, 18 decimals).
    Fixed { amount: U256, token: Address },
}

/// The file behind the asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum FileRef {
    Ipfs { hash: String },
    Url { url: String },
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
    let infos = node.file_info(did, service).await?;
    let sums: Vec<String> = infos.iter().filter_map(|i| i["checksum"].as_str().map(str::to_string)).collect();
    if sums.is_empty() || sums.len() != infos.len() {
        return Err(OceanError::input(format!("--trust {did}: the node could not checksum the algorithm's files")));
    }
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
    let node_url = net.node_url.clone().ok_or_else(|| {
        OceanError::input(format!("no Ocean node for network {}; set $KELP_OCEAN_NODE_URL", net.name))
    })?;
    let node = NodeClient::new(&node_url);
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
    if e.stage == Stage::Creating {
        step("creating data NFT + datatoken");
        create(net, signer, spec, journal, &mut e).await?;
    }
    let (nft, dt) = (e.nft.ok_or_else(journal_broken)?, e.datatoken.ok_or_else(journal_broken)?);
    let did = ddo::did(nft, chain_id);
    if e.stage == Stage::Created {
        step("encrypting and setting metadata");
        let section = compute.map(|c| compute_section(c, &trusted));
        let doc = build_ddo(spec, section, &e, &did, nft, dt, chain_id, &node, signer).await?;
        set_metadata(net, signer, &node, journal, &mut e, &doc).await?;
    }
    step("waiting for the node to index");
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

fn journal_broken() -> OceanError {
    OceanError::devnet("the publish journal lost the NFT address; delete its entry in journal.json and retry")
}

/// The factory transaction, or recovery of one sent before a crash.
async fn create(
    net: &Network,
    signer: &dyn Signer,
    spec: &PublishSpec,
    journal: &Journal,
    e: &mut Entry,
) -> Result<()> {
    let receipt = match find_created(net, e).await? {
        Some(r) => r,
        None => match recorded_or_pending(net, e).await? {
            Some(r) => r,
            None => {
                // Record the account's next nonce first: if we crash after broadcasting, the
                // retry sees it used and waits for this transaction instead of sending another.
                e.nonce = Some(pending_nonce(net, e.publisher).await?);
                journal.put(e)?;
                let (tx, summary) = create_tx(net, spec, e);
                let hash = signer.send_transaction(tx, &summary).await?;
                e.txs.push(TxRecord { label: CREATE_LABEL.into(), hash, gas: None });
                journal.put(e)?;
                let r = chain::wait_receipt(&net.provider, hash, TX_TIMEOUT).await?;
                if !r.status() {
                    return Err(OceanError::Reverted {
                        method: summary.method,
                        reason: "the factory transaction failed".into(),
                    });
                }
                r
            }
        },
    };
    read_created(&receipt, e)?;
    if let Some(t) = e.txs.iter_mut().find(|t| t.hash == receipt.transaction_hash) {
        t.gas = Some(receipt.gas_used);
    } else {
        e.txs.push(TxRecord {
            label: CREATE_LABEL.into(),
            hash: receipt.transaction_hash,
            gas: Some(receipt.gas_used),
        });
    }
    e.stage = Stage::Created;
    journal.put(e)
}

const CREATE_LABEL: &str = "create NFT + datatoken + pricing";

async fn pending_nonce(net: &Network, who: Address) -> Result<u64> {
    net.provider
        .get_transaction_count(who)
        .pending()
        .await
        .map_err(|x| chain::decode_rpc_error(&x, "eth_getTransactionCount", &net.rpc_url))
}

/// A factory transaction an earlier attempt sent and that may not be mined yet: the recorded
/// hash, or — when the attempt died between broadcasting and recording — the account's nonce
/// having moved past the one recorded before sending. Waits for it.
async fn recorded_or_pending(net: &Network, e: &Entry) -> Result<Option<TransactionReceipt>> {
    if let Some(t) = e.txs.iter().find(|t| t.label == CREATE_LABEL) {
        return chain::wait_receipt(&net.provider, t.hash, TX_TIMEOUT).await.map(Some);
    }
    let Some(n) = e.nonce else { return Ok(None) };
    if pending_nonce(net, e.publisher).await? <= n {
        return Ok(None);
    }
    let start = std::time::Instant::now();
    while start.elapsed() < TX_TIMEOUT {
        if let Some(r) = find_created(net, e).await? {
            return Ok(Some(r));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Err(OceanError::devnet(format!(
        "an earlier attempt of this publish used nonce {n} but no NFT {} appeared; check the account's transactions, then delete the entry {} in journal.json to publish anew",
        e.nft_symbol, e.key
    )))
}

/// Look for this publish's `NFTCreated` (by creator and symbol) since the journal's first block.
async fn find_created(net: &Network, e: &Entry) -> Result<Option<TransactionReceipt>> {
    let filter = Filter::new()
        .address(net.addresses.erc721_factory)
        .from_block(e.from_block)
        .event_signature(IERC721Factory::NFTCreated::SIGNATURE_HASH)
        .topic3(e.publisher.into_word());
    let logs =
        net.provider.get_logs(&filter).await.map_err(|x| chain::decode_rpc_error(&x, "eth_getLogs", &net.rpc_url))?;
    for log in logs {
        let Ok(ev) = log.log_decode::<IERC721Factory::NFTCreated>() else { continue };
        if ev.inner.data.symbol == e.nft_symbol
            && let Some(h) = log.transaction_hash
        {
            return net
                .provider
                .get_transaction_receipt(h)
                .await
                .map_err(|x| chain::decode_rpc_error(&x, "eth_getTransactionReceipt", &net.rpc_url));
        }
    }
    Ok(None)
}

fn read_created(r: &TransactionReceipt, e: &mut Entry) -> Result<()> {
    for log in r.inner.logs() {
        if let Ok(ev) = log.log_decode::<IERC721Factory::NFTCreated>() {
            e.nft = Some(ev.inner.data.newTokenAddress);
        } else if let Ok(ev) = log.log_decode::<IERC721Factory::TokenCreated>() {
            e.datatoken = Some(ev.inner.data.newTokenAddress);
        } else if let Ok(ev) = log.log_decode::<IERC721Factory::NewFixedRate>() {
            e.exchange_id = Some(ev.inner.data.exchangeId);
        }
    }
    if e.nft.is_none() || e.datatoken.is_none() {
        return Err(OceanError::devnet("the factory transaction created no NFT/datatoken (unexpected events)"));
    }
    Ok(())
}

fn create_tx(net: &Network, spec: &PublishSpec, e: &Entry) -> (TransactionRequest, TxSummary) {
    let a = &net.addresses;
    let me = e.publisher;
    let nft = NftCreateData {
        name: spec.name.clone(),
        symbol: e.nft_symbol.clone(),
        templateIndex: U256::from(1),
        tokenURI: String::new(),
        transferable: true,
        owner: me,
    };
    let erc = ErcCreateData {
        templateIndex: U256::from(1),
        strings: vec![format!("{} Datatoken", spec.name), e.dt_symbol.clone()],
        addresses: vec![me, me, Address::ZERO, Address::ZERO],
        uints: vec![U256::MAX, U256::ZERO],
        bytess: vec![],
    };
    let mut summary = TxSummary::call(net.chain_id, "ERC721Factory", a.erc721_factory, "")
        .arg("name", &spec.name)
        .arg("symbol", &e.nft_symbol)
        .arg("datatoken", &e.dt_symbol);
    let input: Vec<u8> = match &spec.price {
        Price::Free => {
            summary.method = "createNftWithErc20WithDispenser".into();
            summary = summary.arg("price", "free (dispenser)");
            let d = DispenserData {
                dispenserAddress: a.dispenser,
                maxTokens: U256::MAX,
                maxBalance: U256::MAX,
                withMint: true,
                allowedSwapper: Address::ZERO,
            };
            IERC721Factory::createNftWithErc20WithDispenserCall {
                _NftCreateData: nft,
                _ErcCreateData: erc,
                _DispenserData: d,
            }
            .abi_encode()
        }
        Price::Fixed { amount, token } => {
            summary.method = "createNftWithErc20WithFixedRate".into();
            summary = summary.arg("price", format!("{} wei of {token}", amount));
            let f = FixedData {
                fixedPriceAddress: a.fixed_price,
                addresses: vec![*token, me, me, Address::ZERO],
                uints: vec![U256::from(18), U256::from(18), *amount, U256::ZERO, U256::from(1)],
            };
            IERC721Factory::createNftWithErc20WithFixedRateCall {
                _NftCreateData: nft,
                _ErcCreateData: erc,
                _FixedData: f,
            }
            .abi_encode()
        }
    };
    (TransactionRequest::default().with_to(a.erc721_factory).with_input(input), summary)
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
        let decryptor = node.provider_address().await?;
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
