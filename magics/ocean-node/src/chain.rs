//! The node's own chain access: a read connection for the indexer and the handlers, and sending
//! the node's transactions (Escrow locks and claims) signed with its key.

use crate::error::{NodeError, Result, one_line};
use alloy::network::EthereumWallet;
use alloy::primitives::TxHash;
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::TransactionRequest;
use alloy::signers::local::PrivateKeySigner;
use std::time::Duration;

fn url(rpc_url: &str) -> Result<reqwest::Url> {
    rpc_url.parse().map_err(|_| NodeError::setup(format!("`{rpc_url}` is not an RPC URL (expected http://host:port)")))
}

/// A read-only connection.
pub fn connect(rpc_url: &str) -> Result<DynProvider> {
    Ok(ProviderBuilder::new().connect_http(url(rpc_url)?).erased())
}

/// A chain error as one line naming the call.
pub fn rpc_error(e: impl std::fmt::Display, method: &str, rpc_url: &str) -> NodeError {
    NodeError::Chain { url: rpc_url.to_string(), reason: format!("{method}: {}", one_line(&e.to_string())) }
}

/// Send `tx` signed by `key`, wait (up to `timeout`) for its receipt, and return its hash; a
/// failed status is an error carrying the reason `eth_call` gives at that block.
pub async fn send(
    key: &PrivateKeySigner,
    rpc_url: &str,
    tx: TransactionRequest,
    method: &str,
    timeout: Duration,
) -> Result<TxHash> {
    let provider = ProviderBuilder::new().wallet(EthereumWallet::from(key.clone())).connect_http(url(rpc_url)?);
    let pending = provider.send_transaction(tx.clone()).await.map_err(|e| rpc_error(e, method, rpc_url))?;
    let receipt = pending.with_timeout(Some(timeout)).get_receipt().await.map_err(|e| rpc_error(e, method, rpc_url))?;
    if receipt.status() {
        return Ok(receipt.transaction_hash);
    }
    let mut replay = tx;
    replay.from = Some(key.address());
    let reason = match provider.call(replay).block(receipt.block_number.unwrap_or_default().into()).await {
        Err(e) => one_line(&e.to_string()),
        Ok(_) => "no reason available".into(),
    };
    Err(NodeError::Chain { url: rpc_url.to_string(), reason: format!("{method} reverted: {reason}") })
}
