//! DIDs and DDO 4.1.0 documents (REFERENCE §4.1–§4.3): the DID rule, the hashes `setMetaData`
//! carries, the encrypted files object, and the two checksums a compute dataset pins a trusted
//! algorithm with (REFERENCE §4.2, `publisherTrustedAlgorithms`).

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

/// The checksum of one file of an asset as the node reports it (`fileInfo` with `checksum`):
/// lowercase hex sha256 of the file's bytes.
pub fn file_checksum(bytes: &[u8]) -> String {
    alloy::hex::encode(sha256(bytes))
}

/// `filesChecksum` of a trusted algorithm: its files' checksums ([`file_checksum`]) concatenated
/// in the order of the files object.
pub fn files_checksum<S: AsRef<str>>(file_checksums: &[S]) -> String {
    file_checksums.iter().map(|c| c.as_ref().to_ascii_lowercase()).collect()
}

/// `containerSectionChecksum` of a trusted algorithm: hex sha256 of `entrypoint` followed by
/// `container.checksum` (as ocean-node compares it).
pub fn container_section_checksum(entrypoint: &str, checksum: &str) -> String {
    alloy::hex::encode(sha256(format!("{entrypoint}{checksum}").as_bytes()))
}

/// The `containerSectionChecksum` of an algorithm DDO (`metadata.algorithm.container`), or
/// `None` if the DDO is not an algorithm with a container.
pub fn algorithm_container_checksum(ddo: &serde_json::Value) -> Option<String> {
    let c = ddo["metadata"]["algorithm"]["container"].as_object()?;
    let entry = c.get("entrypoint")?.as_str()?;
    Some(container_section_checksum(entry, c.get("checksum").and_then(|v| v.as_str()).unwrap_or("")))
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
    fn trusted_algorithm_checksums() {
        // python3: hashlib.sha256(b"print(1)\n").hexdigest()
        let f = file_checksum(b"print(1)\n");
        assert_eq!(f, "cc42155088fca5730758db72b2a5bca33112a941dfaa2d43098ec422ce4ea213");
        assert_eq!(files_checksum(&[f.as_str(), "AB"]), format!("{f}ab"));
        // python3: hashlib.sha256(b"python3 $ALGOsha256:00").hexdigest()
        assert_eq!(
            container_section_checksum("python3 $ALGO", "sha256:00"),
            "95a2d0de9848bd80ed91ef2895958400adfd9aea57ee92be6eb776f0ff145b82"
        );
        let ddo =
            serde_json::json!({"metadata": {"algorithm": {"container": {"entrypoint": "sh $ALGO", "checksum": "c"}}}});
        assert_eq!(algorithm_container_checksum(&ddo).unwrap(), container_section_checksum("sh $ALGO", "c"));
        assert_eq!(algorithm_container_checksum(&serde_json::json!({"metadata": {}})), None);
    }

    #[test]
    fn both_hash_forms_match_and_others_do_not() {
        let doc = br#"{"id":"did:op:x"}"#;
        assert!(hash_matches(doc, &sha256(doc)));
        assert!(hash_matches(doc, &sha256(format!("0x{}", alloy::hex::encode(doc)).as_bytes())));
        assert!(!hash_matches(doc, &sha256(b"other")));
    }
}
