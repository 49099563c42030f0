//! Request signatures and nonces, as Ocean Node checks them (REFERENCE §4.5, §4.9):
//! `personal_sign(keccak256(utf8(address + nonce + command)))`, the nonce strictly greater than
//! the last one used by that address. The client side ([`sign_request`]) and the node side
//! ([`verify_request`], [`Nonces`]) live together so they cannot drift apart.

use crate::error::Result;
use crate::signer::Signer;
use alloy::primitives::{Address, Signature, keccak256};
use std::collections::HashMap;
use std::sync::Mutex;

/// The 32-byte hash a request signature covers.
pub fn request_hash(address: &str, nonce: u64, command: &str) -> [u8; 32] {
    keccak256(format!("{address}{nonce}{command}").as_bytes()).0
}

/// Sign a node request: returns the `0x…` 65-byte signature.
pub async fn sign_request(signer: &dyn Signer, nonce: u64, command: &str) -> Result<String> {
    let address = signer.address().await?.to_checksum(None);
    let hash = request_hash(&address, nonce, command);
    let sig = signer.personal_sign(&hash).await?;
    Ok(format!("0x{}", alloy::hex::encode(sig.as_bytes())))
}

/// Recover the signer of `message` (EIP-191) from a hex signature.
pub fn recover(message: &[u8], signature: &str) -> Option<Address> {
    let raw = alloy::hex::decode(signature.trim()).ok()?;
    let sig = Signature::try_from(raw.as_slice()).ok()?;
    sig.recover_address_from_msg(message).ok()
}

/// Whether `signature` is `address`'s signature over one of the accepted forms of the request:
/// the hash bytes, or the hash's `0x` hex string (wallets sign either).
pub fn verify_request(address: &str, nonce: u64, command: &str, signature: &str) -> bool {
    let Ok(expected) = address.parse::<Address>() else { return false };
    let hash = request_hash(address, nonce, command);
    let hex = format!("0x{}", alloy::hex::encode(hash));
    [hash.as_slice(), hex.as_bytes()].iter().any(|m| recover(m, signature) == Some(expected))
}

/// The last nonce each address used (in memory: a restarted node accepts any nonce > 0 again,
/// as a fresh Ocean Node does). Keyed by the exact address text a request carries, as Ocean
/// Node keys its store: a lowercase address has its own counter.
#[derive(Debug, Default)]
pub struct Nonces(Mutex<HashMap<String, u64>>);

impl Nonces {
    /// The last nonce used by the address written as `address` (0 if none).
    pub fn current(&self, address: &str) -> u64 {
        *self.lock().get(address).unwrap_or(&0)
    }
    /// Accept `nonce` if it is greater than the stored one, and store it.
    pub fn consume(&self, address: &str, nonce: u64) -> bool {
        let mut m = self.lock();
        let cur = m.entry(address.to_string()).or_insert(0);
        if nonce > *cur {
            *cur = nonce;
            true
        } else {
            false
        }
    }
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, u64>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signer::LocalKeySigner;

    #[tokio::test]
    async fn signed_request_verifies_only_for_its_address_nonce_and_command() {
        let s = LocalKeySigner::dev_account(1, "http://127.0.0.1:1", 8996).unwrap();
        let addr = s.account().to_checksum(None);
        let sig = sign_request(&s, 7, "download").await.unwrap();
        assert!(verify_request(&addr, 7, "download", &sig));
        assert!(!verify_request(&addr, 8, "download", &sig));
        assert!(!verify_request(&addr, 7, "encrypt", &sig));
        let other = LocalKeySigner::dev_address(2).unwrap().to_checksum(None);
        assert!(!verify_request(&other, 7, "download", &sig));
        assert!(!verify_request(&addr, 7, "download", "0xnothex"));
    }

    #[test]
    fn nonces_must_increase() {
        let n = Nonces::default();
        let a = "0xAbC";
        assert_eq!(n.current(a), 0);
        assert!(n.consume(a, 1));
        assert!(!n.consume(a, 1));
        assert!(n.consume(a, 5));
        assert_eq!(n.current(a), 5);
        assert_eq!(n.current("0xabc"), 0, "another spelling of the address has its own counter");
    }
}
