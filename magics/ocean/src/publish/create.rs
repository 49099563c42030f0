//! The factory transaction of a publish (NFT + datatoken + pricing in one call) and its
//! recovery: a transaction an earlier attempt sent (journaled hash, or only the nonce it used)
//! is waited for instead of sent twice; one that was mined but reverted created nothing and is
//! dropped, so the publish sends a new one.

use super::{Price, PublishSpec, TX_TIMEOUT};
use crate::chain;
use crate::contracts::{DispenserData, ErcCreateData, FixedData, IERC721Factory, NftCreateData};
use crate::error::{OceanError, Result};
use crate::journal::{Entry, Journal, Stage, TxRecord};
use crate::network::Network;
use crate::signer::{Signer, TxSummary};
use alloy::network::TransactionBuilder;
use alloy::primitives::{Address, B256, U256};
use alloy::providers::Provider;
use alloy::rpc::types::{Filter, TransactionReceipt, TransactionRequest};
use alloy::sol_types::{SolCall, SolEvent};
use std::time::Duration;

/// The factory transaction, or recovery of one sent before a crash.
pub(super) async fn create(
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
                    forget_reverted(e, hash);
                    journal.put(e)?;
                    return Err(OceanError::Reverted {
                        method: summary.method,
                        reason: format!(
                            "the factory transaction {hash} failed and created nothing; retry to send it again"
                        ),
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

/// The account's nonce in the latest block (its mined transactions).
async fn mined_nonce(net: &Network, who: Address) -> Result<u64> {
    net.provider
        .get_transaction_count(who)
        .latest()
        .await
        .map_err(|x| chain::decode_rpc_error(&x, "eth_getTransactionCount", &net.rpc_url))
}

/// A factory transaction an earlier attempt sent and that may not be mined yet: the recorded
/// hash, or — when the attempt died between broadcasting and recording — the account's nonce
/// having moved past the one recorded before sending. Waits for it. One that was mined but
/// created nothing (reverted) is dropped from `e` (`None`: send again).
async fn recorded_or_pending(net: &Network, e: &mut Entry) -> Result<Option<TransactionReceipt>> {
    if let Some(t) = e.txs.iter().find(|t| t.label == CREATE_LABEL) {
        let r = chain::wait_receipt(&net.provider, t.hash, TX_TIMEOUT).await?;
        if r.status() {
            return Ok(Some(r));
        }
        // Mined but reverted: it created nothing, so this publish sends a new one.
        forget_reverted(e, r.transaction_hash);
        return Ok(None);
    }
    let Some(n) = e.nonce else { return Ok(None) };
    if pending_nonce(net, e.publisher).await? <= n {
        return Ok(None);
    }
    let start = std::time::Instant::now();
    while start.elapsed() < TX_TIMEOUT {
        let mined = mined_nonce(net, e.publisher).await? > n;
        if let Some(r) = find_created(net, e).await? {
            return Ok(Some(r));
        }
        if mined {
            // The transaction with nonce `n` is mined and made no NFT of this publish: it
            // reverted (or was another one of the account's). Send again.
            e.nonce = None;
            return Ok(None);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Err(OceanError::devnet(format!(
        "an earlier attempt of this publish used nonce {n} but no NFT {} appeared; check the account's transactions, then delete the entry {} in journal.json to publish anew",
        e.nft_symbol, e.key
    )))
}

/// Drop a reverted factory transaction (and the nonce recorded before it) from the entry.
fn forget_reverted(e: &mut Entry, hash: B256) {
    e.txs.retain(|t| !(t.label == CREATE_LABEL && t.hash == hash));
    e.nonce = None;
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
