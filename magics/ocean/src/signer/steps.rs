//! What a signature authorises, beyond its bytes: [`NodeRequest`] (a request to an Ocean node,
//! signed as Ocean Node checks it) and [`Steps`], a signer wrapper that numbers the approvals of a
//! longer operation ("step 2 of 4") so a person sees up front how many will follow.

use super::{Signer, TxSummary};
use crate::error::Result;
use alloy::primitives::{Address, Signature, TxHash};
use alloy::rpc::types::TransactionRequest;
use async_trait::async_trait;
use kelp_ocean_wire::auth;
use serde::Serialize;
use std::fmt;
use std::sync::Mutex;

/// One approval of several: `index` of `total` (1-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Step {
    pub index: u32,
    pub total: u32,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "step {} of {}", self.index, self.total)
    }
}

/// A request to an Ocean node that the signature authorises: the node's URL, the command
/// (`encrypt`, `download`, `startCompute`, …) and the nonce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeRequest {
    pub node: String,
    pub command: String,
    pub nonce: u64,
    pub step: Option<Step>,
}

impl NodeRequest {
    /// The sentence a person reads: `Authorise Ocean node NODE to COMMAND (nonce N)`.
    pub fn describe(&self) -> String {
        format!("Authorise Ocean node {} to {} (nonce {})", self.node, self.command, self.nonce)
    }
}

/// Sign the request `command` with `nonce` to the node at `node_url` as Ocean Node checks it
/// ([`auth::request_hash`]); returns the `0x…` 65-byte signature.
pub async fn sign_node_request(signer: &dyn Signer, node_url: &str, nonce: u64, command: &str) -> Result<String> {
    let address = signer.address().await?.to_checksum(None);
    let hash = auth::request_hash(&address, nonce, command);
    let request = NodeRequest { node: node_url.to_string(), command: command.to_string(), nonce, step: None };
    let sig = signer.sign_node_request(&hash, &request).await?;
    Ok(format!("0x{}", alloy::hex::encode(sig.as_bytes())))
}

/// A signer that numbers each approval it passes on (transactions, node requests, messages,
/// typed data) as `step k of total`, `k` counting from `first`.
#[derive(Debug)]
pub struct Steps<'a> {
    inner: &'a dyn Signer,
    next: Mutex<u32>,
    total: u32,
}

impl<'a> Steps<'a> {
    /// Number the approvals asked through `inner` from `first` to `total`.
    pub fn new(inner: &'a dyn Signer, first: u32, total: u32) -> Self {
        Steps { inner, next: Mutex::new(first.max(1)), total }
    }

    /// The next step (the total grows if more approvals are asked than planned).
    fn take(&self) -> Step {
        let mut n = self.next.lock().unwrap_or_else(|e| e.into_inner());
        let step = Step { index: *n, total: self.total.max(*n) };
        *n += 1;
        step
    }
}

#[async_trait]
impl Signer for Steps<'_> {
    async fn address(&self) -> Result<Address> {
        self.inner.address().await
    }
    async fn chain_id(&self) -> Result<u64> {
        self.inner.chain_id().await
    }
    async fn send_transaction(&self, tx: TransactionRequest, summary: &TxSummary) -> Result<TxHash> {
        let summary = TxSummary { step: Some(self.take()), ..summary.clone() };
        self.inner.send_transaction(tx, &summary).await
    }
    async fn personal_sign(&self, message: &[u8]) -> Result<Signature> {
        self.take();
        self.inner.personal_sign(message).await
    }
    async fn sign_typed_data(&self, typed_data: &serde_json::Value) -> Result<Signature> {
        self.take();
        self.inner.sign_typed_data(typed_data).await
    }
    async fn sign_node_request(&self, hash: &[u8; 32], request: &NodeRequest) -> Result<Signature> {
        let request = NodeRequest { step: Some(self.take()), ..request.clone() };
        self.inner.sign_node_request(hash, &request).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signer::LocalKeySigner;

    /// Records what each approval was told.
    #[derive(Debug, Default)]
    struct Seen(Mutex<Vec<String>>);

    #[async_trait]
    impl Signer for Seen {
        async fn address(&self) -> Result<Address> {
            Ok(Address::repeat_byte(1))
        }
        async fn chain_id(&self) -> Result<u64> {
            Ok(8996)
        }
        async fn send_transaction(&self, _tx: TransactionRequest, s: &TxSummary) -> Result<TxHash> {
            self.0.lock().unwrap().push(format!("{} {}", s.step.map(|s| s.to_string()).unwrap_or_default(), s.method));
            Ok(TxHash::ZERO)
        }
        async fn personal_sign(&self, _m: &[u8]) -> Result<Signature> {
            Err(crate::error::OceanError::Rpc("unused".into()))
        }
        async fn sign_typed_data(&self, _t: &serde_json::Value) -> Result<Signature> {
            Err(crate::error::OceanError::Rpc("unused".into()))
        }
        async fn sign_node_request(&self, _h: &[u8; 32], r: &NodeRequest) -> Result<Signature> {
            self.0.lock().unwrap().push(format!(
                "{} {}",
                r.step.map(|s| s.to_string()).unwrap_or_default(),
                r.describe()
            ));
            Err(crate::error::OceanError::Rpc("stop".into()))
        }
    }

    #[tokio::test]
    async fn steps_number_every_approval_in_order() {
        let seen = Seen::default();
        let steps = Steps::new(&seen, 2, 4);
        let s = TxSummary::call(8996, "ERC721Factory", Address::ZERO, "createNft");
        steps.send_transaction(TransactionRequest::default(), &s).await.unwrap();
        assert!(sign_node_request(&steps, "http://127.0.0.1:8001", 7, "encrypt").await.is_err());
        steps.send_transaction(TransactionRequest::default(), &s).await.unwrap();
        steps.send_transaction(TransactionRequest::default(), &s).await.unwrap();
        assert_eq!(
            *seen.0.lock().unwrap(),
            [
                "step 2 of 4 createNft",
                "step 3 of 4 Authorise Ocean node http://127.0.0.1:8001 to encrypt (nonce 7)",
                "step 4 of 4 createNft",
                "step 5 of 5 createNft",
            ]
        );
    }

    #[tokio::test]
    async fn node_request_signature_is_what_the_node_verifies() {
        let s = LocalKeySigner::dev_account(1, "http://127.0.0.1:1", 8996).unwrap();
        let addr = s.account().to_checksum(None);
        let sig = sign_node_request(&s, "http://node", 9, "download").await.unwrap();
        assert!(auth::verify_request(&addr, 9, "download", &sig));
        assert!(!auth::verify_request(&addr, 9, "encrypt", &sig));
    }
}
