//! Sending transactions through a [`Signer`] and waiting for their receipts; a failed status
//! becomes an [`OceanError::Reverted`] with the reason. Connections and RPC errors are
//! [`crate::rpc`]'s (re-exported here).

pub use crate::rpc::{connect, decode_rpc_error, parse_url, revert_reason, wait_receipt};

use crate::error::{OceanError, Result};
use crate::signer::{Signer, TxSummary};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::{TransactionReceipt, TransactionRequest};
use std::time::Duration;

/// Send `tx` through `signer`, wait for the receipt, and turn a failed status into a
/// [`OceanError::Reverted`] with the reason (replayed with `eth_call` at the failing block).
pub async fn transact(
    signer: &dyn Signer,
    provider: &DynProvider,
    tx: TransactionRequest,
    summary: &TxSummary,
    timeout: Duration,
) -> Result<TransactionReceipt> {
    let hash = signer.send_transaction(tx.clone(), summary).await?;
    let receipt = wait_receipt(provider, hash, timeout).await?;
    if receipt.status() {
        return Ok(receipt);
    }
    let from = signer.address().await?;
    let mut replay = tx;
    replay.from = Some(from);
    let reason = match provider.call(replay).block(receipt.block_number.unwrap_or_default().into()).await {
        Err(e) => match decode_rpc_error(&e, &summary.method, "") {
            OceanError::Reverted { reason, .. } => reason,
            other => other.to_string(),
        },
        Ok(_) => "reverted on chain (no reason available)".into(),
    };
    Err(OceanError::Reverted { method: summary.method.clone(), reason })
}
