//! JSON-RPC connections and their failures: parsing an RPC URL, a read-only connection, waiting
//! for receipts, and turning JSON-RPC errors into [`OceanError`]s a person can act on (revert
//! reasons, missing funds, RPC down). Below the signers and [`crate::chain`], which use it.

use crate::error::{OceanError, Result, one_line};
use alloy::primitives::{Bytes, TxHash};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::TransactionReceipt;
use alloy::sol_types::{Panic, Revert, SolError};
use alloy::transports::{RpcError, TransportError};
use std::time::{Duration, Instant};

/// Parse an RPC URL, as one clear error.
pub fn parse_url(url: &str) -> Result<reqwest::Url> {
    url.parse().map_err(|_| OceanError::input(format!("`{url}` is not an RPC URL (expected http://host:port)")))
}

/// A read-only connection (calls, logs, receipts).
pub fn connect(url: &str) -> Result<DynProvider> {
    Ok(ProviderBuilder::new().connect_http(parse_url(url)?).erased())
}

/// Decode a failed JSON-RPC call into one clear error.
pub fn decode_rpc_error(e: &TransportError, method: &str, url: &str) -> OceanError {
    match e {
        RpcError::Transport(kind) => OceanError::RpcDown { url: url.to_string(), reason: one_line(&kind.to_string()) },
        RpcError::ErrorResp(payload) => {
            let msg = payload.message.to_string();
            let lower = msg.to_lowercase();
            if lower.contains("insufficient funds") {
                return OceanError::NoFunds(format!(
                    "not enough ETH to pay for {method} (gas + value); fund the account"
                ));
            }
            if let Some(data) = payload.as_revert_data() {
                return OceanError::Reverted { method: method.to_string(), reason: revert_reason(&data) };
            }
            if let Some(r) = msg.strip_prefix("execution reverted") {
                let r = r.trim_start_matches(':').trim();
                return OceanError::Reverted {
                    method: method.to_string(),
                    reason: if r.is_empty() { "no reason given".into() } else { r.to_string() },
                };
            }
            OceanError::Rpc(format!("{method}: {}", one_line(&msg)))
        }
        other => OceanError::Rpc(format!("{method}: {}", one_line(&other.to_string()))),
    }
}

/// The human form of revert data: `Error(string)`, `Panic(uint256)`, or the raw selector.
pub fn revert_reason(data: &Bytes) -> String {
    if let Ok(r) = Revert::abi_decode(data) {
        return r.reason;
    }
    if let Ok(p) = Panic::abi_decode(data) {
        return format!("panic {}", p.code);
    }
    if data.is_empty() { "no reason given".into() } else { format!("custom error 0x{}", alloy::hex::encode(data)) }
}

/// Wait for a receipt, polling quickly (anvil mines at once; real chains take seconds).
pub async fn wait_receipt(provider: &DynProvider, hash: TxHash, timeout: Duration) -> Result<TransactionReceipt> {
    let start = Instant::now();
    let mut delay = Duration::from_millis(5);
    loop {
        match provider.get_transaction_receipt(hash).await {
            Ok(Some(r)) => return Ok(r),
            Ok(None) => {}
            Err(e) => return Err(decode_rpc_error(&e, "eth_getTransactionReceipt", "the RPC endpoint")),
        }
        if start.elapsed() > timeout {
            return Err(OceanError::Rpc(format!(
                "transaction {hash} not mined after {}s; check it later with `%wallet`",
                timeout.as_secs()
            )));
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_millis(500));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_error_string_and_panic() {
        let data: Bytes = Revert::from("Invalid provider fee").abi_encode().into();
        assert_eq!(revert_reason(&data), "Invalid provider fee");
        let data: Bytes = Panic { code: alloy::primitives::U256::from(0x11) }.abi_encode().into();
        assert_eq!(revert_reason(&data), "panic 17");
        assert_eq!(revert_reason(&Bytes::new()), "no reason given");
        assert_eq!(revert_reason(&Bytes::from_static(&[1, 2, 3, 4])), "custom error 0x01020304");
    }

    #[tokio::test]
    async fn unreachable_rpc_is_rpc_down() {
        // Port 1 on loopback: nothing listens there.
        let p = connect("http://127.0.0.1:1").unwrap();
        let e = p.get_chain_id().await.unwrap_err();
        let err = decode_rpc_error(&e, "eth_chainId", "http://127.0.0.1:1");
        assert!(matches!(err, OceanError::RpcDown { .. }), "{err}");
        assert!(err.to_string().contains("cannot reach the chain at http://127.0.0.1:1"));
        assert!(parse_url("not a url").unwrap_err().to_string().contains("not an RPC URL"));
    }
}
