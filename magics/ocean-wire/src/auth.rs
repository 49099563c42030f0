//! Request signatures and nonces, as Ocean Node checks them (REFERENCE §4.5, §4.9):
//! `personal_sign(keccak256(utf8(address + nonce + command)))`, the nonce strictly greater than
//! the last one used by that address. The client signs [`request_hash`]; the node checks with
//! [`verify_request`] and keeps the nonces itself.

use alloy::primitives::{Address, Signature, keccak256};

/// The 32-byte hash a request signature covers.
pub fn request_hash(address: &str, nonce: u64, command: &str) -> [u8; 32] {
    keccak256(format!("{address}{nonce}{command}").as_bytes()).0
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

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::signers::SignerSync;
    use alloy::signers::local::PrivateKeySigner;

    #[test]
    fn a_signature_verifies_only_for_its_address_nonce_and_command_in_both_forms() {
        let key = PrivateKeySigner::random();
        let addr = key.address().to_checksum(None);
        let hash = request_hash(&addr, 7, "download");
        for message in [hash.to_vec(), format!("0x{}", alloy::hex::encode(hash)).into_bytes()] {
            let sig = format!("0x{}", alloy::hex::encode(key.sign_message_sync(&message).unwrap().as_bytes()));
            assert!(verify_request(&addr, 7, "download", &sig));
            assert!(!verify_request(&addr, 8, "download", &sig));
            assert!(!verify_request(&addr, 7, "encrypt", &sig));
            let other = PrivateKeySigner::random().address().to_checksum(None);
            assert!(!verify_request(&other, 7, "download", &sig));
        }
        assert!(!verify_request(&addr, 7, "download", "0xnothex"));
        assert!(!verify_request("not an address", 7, "download", "0x00"));
    }
}
