//! Whether a dataset's compute service lets a published algorithm run, with the verdict Ocean
//! Node v3.1 gives (`validateAlgoForDataset`), so `%c2d start` refuses before any order what
//! the node would refuse after it, and never refuses what the node accepts:
//!
//! - no `publisherTrustedAlgorithms` and no `publisherTrustedAlgorithmPublishers`: refused
//!   (`allowRawAlgorithm` concerns raw code only);
//! - trusted by entry: one entry whose `did`, `filesChecksum`, `containerSectionChecksum` (and
//!   `serviceId`, when the entry has one) each equal the algorithm's, or are `*`;
//! - trusted by publisher: the list holds `*`, or (case-insensitively) the algorithm's
//!   **NFT address** — the node compares the list with `nftAddress`, not with the owner.
//!
//! Either suffices. The algorithm's files checksum (its files' sha256s, concatenated) is only
//! needed when an entry could match; the caller supplies it lazily.

use crate::ddo;
use serde_json::Value;

/// What a trusted-algorithm entry is compared with.
pub struct Algorithm<'a> {
    pub did: &'a str,
    pub ddo: &'a Value,
    pub service_id: &'a str,
}

/// The verdict, with the reason for a refusal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Trusted,
    /// One line: why the node will refuse the algorithm.
    Refused(String),
}

fn is(entry: &Value, key: &str, actual: &str) -> bool {
    entry[key].as_str().is_some_and(|v| v == "*" || v == actual)
}

/// The node's verdict on running `algo` on the compute service `svc` of a dataset.
/// `files_checksum` is asked at most once, and only when an entry's other fields match.
pub async fn verdict<F, Fut>(svc: &Value, algo: &Algorithm<'_>, files_checksum: F) -> crate::error::Result<Verdict>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = crate::error::Result<String>>,
{
    let c = &svc["compute"];
    let list = |k: &str| c[k].as_array().cloned().unwrap_or_default();
    let (publishers, entries) = (list("publisherTrustedAlgorithmPublishers"), list("publisherTrustedAlgorithms"));
    if publishers.is_empty() && entries.is_empty() {
        return Ok(Verdict::Refused(
            "it trusts no algorithm and no publisher (an Ocean node refuses every published algorithm then)".into(),
        ));
    }
    let nft = algo.ddo["nftAddress"].as_str().unwrap_or("").to_ascii_lowercase();
    if publishers
        .iter()
        .filter_map(Value::as_str)
        .any(|p| p == "*" || (!nft.is_empty() && p.to_ascii_lowercase() == nft))
    {
        return Ok(Verdict::Trusted);
    }
    let container = ddo::algorithm_container_checksum(algo.ddo).unwrap_or_default();
    let candidates: Vec<&Value> = entries
        .iter()
        .filter(|e| is(e, "did", algo.did) && is(e, "containerSectionChecksum", &container))
        .filter(|e| e.get("serviceId").is_none() || is(e, "serviceId", algo.service_id))
        .collect();
    if candidates.is_empty() {
        let by_did = entries.iter().any(|e| is(e, "did", algo.did));
        let why = if by_did {
            "its container changed since the dataset trusted it"
        } else if publishers.is_empty() {
            "the dataset does not list it"
        } else {
            "the dataset lists neither it nor its NFT address among trusted publishers (Ocean nodes compare publishers with the algorithm's nftAddress)"
        };
        return Ok(Verdict::Refused(why.into()));
    }
    if candidates.iter().any(|e| e["filesChecksum"] == "*") {
        return Ok(Verdict::Trusted);
    }
    let files = files_checksum().await?;
    if candidates.iter().any(|e| is(e, "filesChecksum", &files)) {
        Ok(Verdict::Trusted)
    } else {
        Ok(Verdict::Refused("its files changed since the dataset trusted it".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NFT: &str = "0x88577731Cc84560fE297792ab784b600A54728E2";
    const OWNER: &str = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

    fn algo_ddo() -> Value {
        json!({"id": "did:op:a", "nftAddress": NFT, "indexedMetadata": {"nft": {"owner": OWNER}},
            "metadata": {"type": "algorithm", "algorithm": {"container": {"entrypoint": "sh $ALGO", "checksum": "sha256:1"}}}})
    }

    async fn judge(compute: Value, files: &str) -> Verdict {
        let d = algo_ddo();
        let a = Algorithm { did: "did:op:a", ddo: &d, service_id: "0" };
        let f = files.to_string();
        verdict(&json!({"compute": compute}), &a, || async move { Ok(f) }).await.unwrap()
    }

    #[tokio::test]
    async fn verdicts_match_ocean_node() {
        let container = ddo::container_section_checksum("sh $ALGO", "sha256:1");
        let entry =
            |files: &str| json!({"did": "did:op:a", "filesChecksum": files, "containerSectionChecksum": container});
        assert_eq!(judge(json!({"publisherTrustedAlgorithms": [entry("ff")]}), "ff").await, Verdict::Trusted);
        assert!(
            matches!(judge(json!({"publisherTrustedAlgorithms": [entry("ff")]}), "ee").await, Verdict::Refused(r) if r.contains("files"))
        );
        assert_eq!(judge(json!({"publisherTrustedAlgorithms": [entry("*")]}), "ee").await, Verdict::Trusted);
        let other_service =
            json!({"did": "*", "filesChecksum": "*", "containerSectionChecksum": "*", "serviceId": "1"});
        assert!(matches!(judge(json!({"publisherTrustedAlgorithms": [other_service]}), "").await, Verdict::Refused(_)));
        // Publishers: the node compares with the NFT address, not the owner.
        assert_eq!(
            judge(json!({"publisherTrustedAlgorithmPublishers": [NFT.to_lowercase()]}), "").await,
            Verdict::Trusted
        );
        assert!(
            matches!(judge(json!({"publisherTrustedAlgorithmPublishers": [OWNER]}), "").await, Verdict::Refused(r) if r.contains("nftAddress"))
        );
        assert_eq!(judge(json!({"publisherTrustedAlgorithmPublishers": ["*"]}), "").await, Verdict::Trusted);
        // Nothing trusted: refused, raw algorithms allowed or not.
        assert!(matches!(judge(json!({"allowRawAlgorithm": true}), "").await, Verdict::Refused(_)));
    }
}
