//! Seam 3 — signing. A [`Signer`] is whoever holds the key: a local key ([`LocalKeySigner`]) or
//! the person's browser wallet reached through the JupyterLab relay ([`BrowserSigner`]).
//! Everything that spends or signs goes through it, with a
//! [`TxSummary`] a person can read before approving.
//!
//! The trait is object safe: callers hold an `Arc<dyn Signer>`.

mod browser;
mod local;
mod steps;

pub use browser::{BrowserSigner, tx_json};
pub use local::{ENV_PRIVATE_KEY, KeySource, LocalKeySigner};
pub use steps::{NodeRequest, Step, Steps, sign_node_request};

use crate::error::Result;
use alloy::primitives::{Address, Signature, TxHash, U256};
use alloy::rpc::types::TransactionRequest;
use async_trait::async_trait;
use serde::Serialize;
use std::fmt;

/// Who signs. Implementations never print, log or return key material.
#[async_trait]
pub trait Signer: Send + Sync + fmt::Debug {
    /// The account that signs.
    async fn address(&self) -> Result<Address>;
    /// The chain the signer sends transactions to.
    async fn chain_id(&self) -> Result<u64>;
    /// Sign and broadcast `tx` (the signer fills nonce, gas and chain id as needed); `summary` is
    /// what a person sees before approving. Returns the transaction hash; the caller waits for
    /// the receipt through its own RPC connection.
    async fn send_transaction(&self, tx: TransactionRequest, summary: &TxSummary) -> Result<TxHash>;
    /// EIP-191 `personal_sign` over `message` (the wallet adds the prefix).
    async fn personal_sign(&self, message: &[u8]) -> Result<Signature>;
    /// EIP-712 `eth_signTypedData_v4` over a typed-data JSON document.
    async fn sign_typed_data(&self, typed_data: &serde_json::Value) -> Result<Signature>;
    /// `personal_sign` over `hash`, the 32 bytes that authorise `request` to an Ocean node; a
    /// signer that shows requests to a person says which node, which command and which nonce.
    async fn sign_node_request(&self, hash: &[u8; 32], request: &NodeRequest) -> Result<Signature> {
        let _ = request;
        self.personal_sign(hash).await
    }
}

/// A transaction decoded for people: which contract, which method, which arguments, how much
/// ETH, on which chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TxSummary {
    pub chain_id: u64,
    /// A name for the contract (e.g. `ERC721Factory`, `datatoken DT1`), or `deploy X`.
    pub contract: String,
    pub to: Option<Address>,
    pub method: String,
    /// Argument names and readable values, in call order.
    pub args: Vec<(String, String)>,
    /// ETH sent with the call, in wei.
    pub value: U256,
    /// Where this transaction sits in a longer operation (set by [`Steps`]).
    pub step: Option<Step>,
}

impl TxSummary {
    /// A summary of a call to `method` on `contract` at `to`.
    pub fn call(chain_id: u64, contract: impl Into<String>, to: Address, method: impl Into<String>) -> Self {
        TxSummary {
            chain_id,
            contract: contract.into(),
            to: Some(to),
            method: method.into(),
            args: Vec::new(),
            value: U256::ZERO,
            step: None,
        }
    }

    /// A summary of a contract deployment.
    pub fn deploy(chain_id: u64, contract: impl Into<String>) -> Self {
        TxSummary {
            chain_id,
            contract: contract.into(),
            to: None,
            method: "constructor".into(),
            args: Vec::new(),
            value: U256::ZERO,
            step: None,
        }
    }

    /// Add a named argument.
    pub fn arg(mut self, name: impl Into<String>, value: impl fmt::Display) -> Self {
        self.args.push((name.into(), value.to_string()));
        self
    }

    /// Set the ETH value.
    pub fn value(mut self, wei: U256) -> Self {
        self.value = wei;
        self
    }
}

impl fmt::Display for TxSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let args = self.args.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ");
        match self.to {
            Some(to) => write!(f, "{}({}).{}({args})", self.contract, to, self.method)?,
            None => write!(f, "deploy {}({args})", self.contract)?,
        }
        if !self.value.is_zero() {
            write!(f, " value {} wei", self.value)?;
        }
        write!(f, " on chain {}", self.chain_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_reads_as_one_line() {
        let to = Address::repeat_byte(0xab);
        let s = TxSummary::call(8996, "ERC721Factory", to, "createNftWithErc20WithDispenser")
            .arg("name", "Data")
            .arg("symbol", "DN1")
            .value(U256::from(5));
        let text = s.to_string();
        assert_eq!(
            text,
            format!(
                "ERC721Factory({to}).createNftWithErc20WithDispenser(name=Data, symbol=DN1) value 5 wei on chain 8996"
            )
        );
        assert_eq!(
            TxSummary::deploy(1, "Dispenser").arg("router", "0x1").to_string(),
            "deploy Dispenser(router=0x1) on chain 1"
        );
    }
}
