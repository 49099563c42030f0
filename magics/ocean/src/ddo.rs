//! DIDs and DDO 4.1.0 documents (REFERENCE §4.1–§4.3): the DID rule, the hashes `setMetaData`
//! carries, and the encrypted files object.

use alloy::primitives::Address;
use sha2::{Digest, Sha256};

/// `did:op:` + sha256(checksummed NFT address + decimal chain id), as ocean.py and Ocean Node
/// compute it.
pub fn did(nft: Address, chain_id: u64) -> String {
    let digest = Sha256::digest(format!("{}{chain_id}", nft.to_checksum(None)).as_bytes());
    format!("did:op:{}", alloy::hex::encode(digest))
}

/// sha256 of bytes.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// Whether `hash` is a valid `metaDataHash` for the plain document `doc`: sha256 of the bytes
/// (what ocean.py writes for encrypted documents), or sha256 of their `0x` hex string (what
/// Ocean Node compares for plain documents, REFERENCE §4.9).
pub fn hash_matches(doc: &[u8], hash: &[u8; 32]) -> bool {
    sha256(doc) == *hash || sha256(format!("0x{}", alloy::hex::encode(doc)).as_bytes()) == *hash
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::address;

    #[test]
    fn did_is_sha256_of_checksum_address_and_chain_id() {
        // Computed independently: python3 hashlib.sha256(b"0xf39Fd6e51aad88F6F4ce6aB8827279cffFb922668996").
        let nft = address!("f39fd6e51aad88f6f4ce6ab8827279cfffb92266");
        assert_eq!(did(nft, 8996), "did:op:d598de92d7dfd0a92f34c7a0b9f9b1e16a0e5ad50bdde09b280812009877e69c");
        assert_ne!(did(nft, 1), did(nft, 8996));
    }

    #[test]
    fn both_hash_forms_match_and_others_do_not() {
        let doc = br#"{"id":"did:op:x"}"#;
        assert!(hash_matches(doc, &sha256(doc)));
        assert!(hash_matches(doc, &sha256(format!("0x{}", alloy::hex::encode(doc)).as_bytes())));
        assert!(!hash_matches(doc, &sha256(b"other")));
    }
}
