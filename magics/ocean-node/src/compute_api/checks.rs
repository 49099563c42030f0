//! What the node checks before it runs an algorithm on a dataset: the assets and their
//! services, the dataset's trust in the algorithm, and the bytes it fetches for the job; and the
//! fields `initializeCompute` requires, with Ocean Node v3.1.0's texts.

use crate::state::{ApiError, NodeState, fetch_file, find_ddo, service, service_files};
use alloy::primitives::Address;
use axum::http::StatusCode;
use kelp_ocean_wire::ddo;
use serde_json::Value;

/// An indexed asset and one of its services.
pub(super) struct AssetService {
    pub did: String,
    pub service_id: String,
    pub ddo: Value,
    pub index: usize,
    pub svc: Value,
    pub datatoken: Address,
}

fn forbidden(msg: String) -> ApiError {
    ApiError(StatusCode::FORBIDDEN, msg)
}

/// `{documentId, serviceId}` of a request item, resolved against the index.
pub(super) fn asset(s: &NodeState, item: &Value, what: &str) -> Result<AssetService, ApiError> {
    let did = item["documentId"]
        .as_str()
        .filter(|d| !d.is_empty())
        .ok_or_else(|| ApiError(StatusCode::BAD_REQUEST, format!("{what}: missing documentId")))?;
    let service_id = match &item["serviceId"] {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return Err(ApiError(StatusCode::BAD_REQUEST, format!("{what} {did}: missing serviceId"))),
    };
    let ddo = find_ddo(s, did)?;
    let (index, svc, datatoken) = service(&ddo, &service_id)?;
    Ok(AssetService { did: did.to_string(), service_id, ddo, index, svc, datatoken })
}

/// A dataset item: its service must be a `compute` service.
pub(super) fn dataset(s: &NodeState, item: &Value) -> Result<AssetService, ApiError> {
    let a = asset(s, item, "dataset")?;
    if a.svc["type"] != "compute" {
        return Err(forbidden(format!(
            "dataset {} service {} is not a compute service (type {}): its publisher did not allow compute on it",
            a.did, a.service_id, a.svc["type"]
        )));
    }
    Ok(a)
}

/// The algorithm item: an asset of type `algorithm` with a container.
pub(super) fn algorithm(s: &NodeState, item: &Value) -> Result<AssetService, ApiError> {
    let a = asset(s, item, "algorithm")?;
    if a.ddo["metadata"]["type"] != "algorithm" {
        return Err(forbidden(format!("{} is not an algorithm (type {})", a.did, a.ddo["metadata"]["type"])));
    }
    if ddo::algorithm_container_checksum(&a.ddo).is_none() {
        return Err(forbidden(format!("algorithm {} has no container metadata (metadata.algorithm.container)", a.did)));
    }
    Ok(a)
}

/// A raw algorithm (`meta: {rawcode, container: {entrypoint, …}}`): its code and container.
pub(super) fn raw_algorithm(meta: &Value) -> Result<(Vec<u8>, Value), ApiError> {
    let bad = |m: &str| ApiError(StatusCode::BAD_REQUEST, format!("raw algorithm: {m}"));
    let code = meta["rawcode"].as_str().filter(|c| !c.is_empty()).ok_or_else(|| bad("meta.rawcode is missing"))?;
    let container = &meta["container"];
    if container["entrypoint"].as_str().is_none_or(|e| e.trim().is_empty()) {
        return Err(bad("meta.container.entrypoint is missing (e.g. \"python3 $ALGO\")"));
    }
    Ok((code.as_bytes().to_vec(), container.clone()))
}

/// A raw algorithm runs only on datasets whose compute service has `allowRawAlgorithm`.
pub(super) fn check_raw_allowed(dataset: &AssetService) -> Result<(), ApiError> {
    if dataset.svc["compute"]["allowRawAlgorithm"] == true {
        return Ok(());
    }
    Err(forbidden(format!(
        "a raw algorithm is not trusted by dataset {}: it does not allow raw algorithms (publish the algorithm and have the dataset trust it)",
        dataset.did
    )))
}

/// Fetch every file of a service (decrypted by the node).
pub(super) async fn fetch_all(s: &NodeState, a: &AssetService) -> Result<Vec<Vec<u8>>, ApiError> {
    let mut out = Vec::new();
    for f in service_files(s, &a.svc, a.datatoken)? {
        out.push(fetch_file(s, &f).await?);
    }
    if out.is_empty() {
        return Err(ApiError(StatusCode::BAD_REQUEST, format!("{} service {} has no files", a.did, a.service_id)));
    }
    Ok(out)
}

/// The `filesChecksum` of fetched files.
pub(super) fn files_checksum(files: &[Vec<u8>]) -> String {
    let sums: Vec<String> = files.iter().map(|b| ddo::file_checksum(b)).collect();
    ddo::files_checksum(&sums)
}

/// Whether `dataset`'s compute service trusts `algo` (whose files hash to `algo_files`).
pub(super) fn check_trusted(dataset: &AssetService, algo: &AssetService, algo_files: &str) -> Result<(), ApiError> {
    // `allowRawAlgorithm` concerns raw code only ([`check_raw_allowed`]): a published algorithm
    // must be trusted, as Ocean Node's validateAlgoForDataset requires.
    let c = &dataset.svc["compute"];
    let owner = algo.ddo["indexedMetadata"]["nft"]["owner"].as_str().unwrap_or("");
    let by_publisher = c["publisherTrustedAlgorithmPublishers"].as_array().is_some_and(|p| {
        p.iter().any(|a| a.as_str().is_some_and(|a| !owner.is_empty() && a.eq_ignore_ascii_case(owner)))
    });
    if by_publisher {
        return Ok(());
    }
    let not_trusted = format!("algorithm {} is not trusted by dataset {}", algo.did, dataset.did);
    let entry = c["publisherTrustedAlgorithms"]
        .as_array()
        .and_then(|l| l.iter().find(|t| t["did"].as_str() == Some(algo.did.as_str())))
        .ok_or_else(|| forbidden(not_trusted.clone()))?;
    let container = ddo::algorithm_container_checksum(&algo.ddo).unwrap_or_default();
    let files_ok = entry["filesChecksum"].as_str().is_some_and(|f| f.eq_ignore_ascii_case(algo_files));
    let container_ok = entry["containerSectionChecksum"].as_str().is_some_and(|f| f.eq_ignore_ascii_case(&container));
    if !files_ok || !container_ok {
        let what = if files_ok { "container" } else { "files" };
        return Err(forbidden(format!("{not_trusted}: its {what} changed since the dataset trusted it")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn assets(compute: Value, owner: &str) -> (AssetService, AssetService) {
        let d = AssetService {
            did: "did:op:d".into(),
            service_id: "0".into(),
            ddo: json!({}),
            index: 0,
            svc: json!({"type": "compute", "compute": compute}),
            datatoken: Address::ZERO,
        };
        let a = AssetService {
            did: "did:op:a".into(),
            service_id: "0".into(),
            ddo: json!({"indexedMetadata": {"nft": {"owner": owner}}, "metadata": {"type": "algorithm", "algorithm": {"container": {"entrypoint": "sh $ALGO", "checksum": ""}}}}),
            index: 0,
            svc: json!({}),
            datatoken: Address::ZERO,
        };
        (d, a)
    }

    #[test]
    fn trust_by_did_checksums_publisher_or_raw() {
        let cs = ddo::container_section_checksum("sh $ALGO", "");
        let by_did = json!({"publisherTrustedAlgorithms": [{"did": "did:op:a", "filesChecksum": "AB", "containerSectionChecksum": cs}]});
        let (d, a) = assets(by_did, "0xPub");
        assert!(check_trusted(&d, &a, "ab").is_ok());
        let e = check_trusted(&d, &a, "cd").unwrap_err();
        assert_eq!(
            e.1,
            "algorithm did:op:a is not trusted by dataset did:op:d: its files changed since the dataset trusted it"
        );
        let (d, a) = assets(json!({"publisherTrustedAlgorithms": []}), "0xPub");
        assert_eq!(check_trusted(&d, &a, "ab").unwrap_err().1, "algorithm did:op:a is not trusted by dataset did:op:d");
        let (d, a) = assets(json!({"publisherTrustedAlgorithmPublishers": ["0xpub"]}), "0xPub");
        assert!(check_trusted(&d, &a, "x").is_ok());
        let (d, a) = assets(json!({"publisherTrustedAlgorithmPublishers": ["0xother"]}), "0xPub");
        assert!(check_trusted(&d, &a, "x").is_err());
        let (d, a) = assets(json!({"allowRawAlgorithm": true}), "");
        assert!(check_trusted(&d, &a, "x").is_err(), "allowRawAlgorithm admits raw code, not published algorithms");
    }
}

/// The fields `initializeCompute` requires, checked in Ocean Node v3.1.0's order and with its
/// texts: the route's own checks (`Missing algorithm`, `Missing dataset did`), then the handler's
/// required fields, the consumer address and the payment options (all 400).
pub(super) fn initialize_fields(body: &Value) -> Result<(), ApiError> {
    let bad = |m: String| ApiError(StatusCode::BAD_REQUEST, m);
    if body["algorithm"].is_null() {
        return Err(bad("Missing algorithm".into()));
    }
    let datasets = body["datasets"].as_array().map(Vec::as_slice).unwrap_or_default();
    if datasets.iter().any(|d| d["documentId"].is_null() || d["documentId"] == "") {
        return Err(bad("Missing dataset did".into()));
    }
    const REQUIRED: [&str; 5] = ["datasets", "algorithm", "payment", "consumerAddress", "environment"];
    if let Some(field) = REQUIRED.iter().find(|f| body[**f].is_null()) {
        return Err(bad(format!(
            "Missing one ( \"{field}\" ) or more required field(s) for command: \"initializeCompute\". Required fields: {}",
            REQUIRED.join(",")
        )));
    }
    if body["consumerAddress"].as_str().and_then(|a| a.parse::<Address>().ok()).is_none() {
        return Err(bad("Parameter : \"consumerAddress\" is not a valid web3 address".into()));
    }
    let p = &body["payment"];
    let chain = p["chainId"].as_u64().is_some_and(|c| c > 0) || p["chainId"].as_str().is_some_and(|c| !c.is_empty());
    if !chain || p["token"].as_str().is_none_or(str::is_empty) {
        return Err(bad("Invalid payment options".into()));
    }
    Ok(())
}

#[cfg(test)]
mod field_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn initialize_compute_fields_in_ocean_nodes_order() {
        let err = |b: Value| initialize_fields(&b).unwrap_err().1;
        let ok = json!({"datasets": [{"documentId": "did:op:1", "serviceId": "0"}], "algorithm": {"documentId": "did:op:2"},
            "payment": {"chainId": 8996, "token": "0x01"}, "consumerAddress": "0x90F79bf6EB2c4f870365E785982E1f101E93b906",
            "environment": "e"});
        assert!(initialize_fields(&ok).is_ok());
        let mut b = ok.clone();
        b.as_object_mut().unwrap().remove("algorithm");
        assert_eq!(err(b), "Missing algorithm");
        let mut b = ok.clone();
        b["datasets"] = json!([{"serviceId": "0"}]);
        assert_eq!(err(b), "Missing dataset did");
        let mut b = ok.clone();
        b.as_object_mut().unwrap().remove("payment");
        b.as_object_mut().unwrap().remove("environment");
        assert!(err(b).starts_with("Missing one ( \"payment\" ) or more required field(s)"));
        let mut b = ok.clone();
        b["consumerAddress"] = json!("me");
        assert_eq!(err(b), "Parameter : \"consumerAddress\" is not a valid web3 address");
        let mut b = ok;
        b["payment"] = json!({"chainId": 8996});
        assert_eq!(err(b), "Invalid payment options");
    }
}
