//! `POST /api/aquarius/assets/ddo/validate`, Ocean Node v3.1.0's `validateDDO`: publishing
//! clients (ocean.js's `createAsset`) ask it for the metadata hash they put on chain.
//!
//! Takes `{ddo, publisherAddress?, nonce?, signature?}`. A signature, when sent, must be the
//! publisher's over `publisherAddress + nonce + "validateDDO"` (nonce consumed); unsigned
//! requests are accepted, as with the real node's `validateUnsignedDDO`. The DDO's required v4
//! fields are checked, then the answer is `{hash, publicKey, r, s, v}`: `hash` is `0x` + sha256
//! of the DDO as sent with the whitespace between tokens removed (Ocean Node hashes
//! `JSON.stringify(ddo)`, the same bytes for the compact JSON clients send), `publicKey` the
//! node's address, and `r, s, v` the node's EIP-191 signature over keccak256 of the hash's text.
//!
//! Errors (400, one line): the real node's texts for a body without `ddo` and a DDO without
//! `version`; `Validation error: <what>` for a missing or mistyped field (where the real node
//! loses the details and says `[object Object]`).

use crate::state::{ApiError, NodeState, bad, check_signed};
use alloy::primitives::keccak256;
use alloy::signers::SignerSync;
use alloy::signers::local::PrivateKeySigner;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;

/// Ocean Node's answer to a body without `ddo`.
const MISSING_DDO: &str =
    "Missing one ( \"ddo\" ) or more required field(s) for command: \"validateDDO\". Required fields: ddo";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Request<'a> {
    #[serde(borrow)]
    ddo: Option<&'a RawValue>,
    publisher_address: Option<Value>,
    nonce: Option<Value>,
    signature: Option<Value>,
}

pub(super) async fn validate(State(s): State<Arc<NodeState>>, body: Bytes) -> Result<Json<Value>, ApiError> {
    let req: Request = serde_json::from_slice(&body).map_err(|_| bad("the body is not a JSON object: send {ddo}"))?;
    let raw = req.ddo.ok_or_else(|| bad(MISSING_DDO))?;
    if req.signature.is_some() {
        let text = |v: &Option<Value>| match v {
            Some(Value::String(t)) => Some(t.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        let q: HashMap<String, String> = [
            ("publisherAddress", text(&req.publisher_address)),
            ("nonce", text(&req.nonce)),
            ("signature", text(&req.signature)),
        ]
        .into_iter()
        .filter_map(|(k, v)| Some((k.to_string(), v?)))
        .collect();
        check_signed(&s, &q, "publisherAddress", "validateDDO", None)?;
    }
    let ddo: Value = serde_json::from_str(raw.get()).map_err(|_| bad(MISSING_DDO))?;
    if ddo.get("version").is_none_or(Value::is_null) {
        return Err(bad("Missing DDO version"));
    }
    check_ddo(&ddo).map_err(|what| bad(format!("Validation error: {what}")))?;
    let hash = format!("0x{}", alloy::hex::encode(Sha256::digest(compact(raw.get()).as_bytes())));
    signed(&s.config.key, &hash).map(Json).map_err(|e| ApiError(StatusCode::INTERNAL_SERVER_ERROR, e))
}

/// `{hash, publicKey, r, s, v}` with the node's signature over keccak256(`hash`'s text).
fn signed(key: &PrivateKeySigner, hash: &str) -> Result<Value, String> {
    let sig = key
        .sign_message_sync(keccak256(hash.as_bytes()).as_slice())
        .map_err(|e| format!("the node cannot sign the validation: {e}"))?;
    Ok(json!({
        "hash": hash,
        "publicKey": key.address().to_checksum(None),
        "r": format!("0x{}", alloy::hex::encode(sig.r().to_be_bytes::<32>())),
        "s": format!("0x{}", alloy::hex::encode(sig.s().to_be_bytes::<32>())),
        "v": 27 + u8::from(sig.v()),
    }))
}

/// JSON text without the whitespace between tokens (strings kept as they are).
fn compact(raw: &str) -> String {
    let (mut out, mut in_string, mut escaped) = (String::with_capacity(raw.len()), false, false);
    for c in raw.chars() {
        if in_string {
            out.push(c);
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !matches!(c, ' ' | '\t' | '\n' | '\r') {
            out.push(c);
        }
    }
    out
}

/// The fields a v4 DDO must have, or what is wrong.
fn check_ddo(ddo: &Value) -> Result<(), String> {
    let string = |v: &Value, path: &str| match v.pointer(path) {
        Some(Value::String(t)) if !t.is_empty() => Ok(()),
        _ => Err(format!("{} must be a non-empty string", path.trim_start_matches('/').replace('/', "."))),
    };
    string(ddo, "/version")?;
    string(ddo, "/id")?;
    if !ddo["id"].as_str().is_some_and(|d| d.starts_with("did:op:")) {
        return Err("id must be a did:op: DID".into());
    }
    if !ddo["chainId"].is_u64() {
        return Err("chainId must be a number".into());
    }
    string(ddo, "/nftAddress")?;
    for f in ["name", "description", "author", "license", "created", "updated"] {
        string(ddo, &format!("/metadata/{f}"))?;
    }
    if !matches!(ddo["metadata"]["type"].as_str(), Some("dataset" | "algorithm")) {
        return Err("metadata.type must be dataset or algorithm".into());
    }
    let services = ddo["services"].as_array().filter(|s| !s.is_empty()).ok_or("services must be a non-empty list")?;
    for (i, svc) in services.iter().enumerate() {
        for f in ["id", "type", "files", "datatokenAddress", "serviceEndpoint"] {
            string(svc, &format!("/{f}")).map_err(|e| format!("services[{i}].{e}"))?;
        }
        if !svc["timeout"].is_u64() {
            return Err(format!("services[{i}].timeout must be a number of seconds"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_like_ocean_node() {
        // anvil's public development key #9, the real node's key in the recorded transcripts
        // (validate_ddo_valid_unsigned): the same hash gives the same signature.
        let key: PrivateKeySigner =
            "0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6".parse().unwrap();
        let v = signed(&key, "0x2a03d1eda037dc0a3db61d0c4c8cbf995f728c79d3802a80eab6e190b2be8134").unwrap();
        assert_eq!(v["publicKey"], "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720");
        assert_eq!(v["r"], "0x93f0be78bdeed927559b6869fa78955669261db849a3b997bbf95db159dfc6fe");
        assert_eq!(v["s"], "0x701741efa137220c9f350af8aeeeb02b494e7752727cfd00614fce91362332d1");
        assert_eq!(v["v"], 27);
    }

    #[test]
    fn compacts_between_tokens_only() {
        assert_eq!(compact("{ \"a\" : [1, \"x y\\\" z\"],\n \"b\":{} }"), "{\"a\":[1,\"x y\\\" z\"],\"b\":{}}");
    }

    #[test]
    fn names_what_is_missing() {
        let ok = json!({"version": "4.1.0", "id": "did:op:1", "chainId": 8996, "nftAddress": "0x1",
            "metadata": {"name": "n", "description": "d", "author": "a", "license": "MIT", "created": "c", "updated": "u", "type": "dataset"},
            "services": [{"id": "0", "type": "access", "files": "0x", "datatokenAddress": "0x2", "serviceEndpoint": "http://n", "timeout": 0}]});
        assert_eq!(check_ddo(&ok), Ok(()));
        let mut no_name = ok.clone();
        no_name["metadata"].as_object_mut().unwrap().remove("name");
        assert_eq!(check_ddo(&no_name).unwrap_err(), "metadata.name must be a non-empty string");
        let mut no_did = ok.clone();
        no_did["id"] = json!("urn:x");
        assert_eq!(check_ddo(&no_did).unwrap_err(), "id must be a did:op: DID");
        let mut bad_timeout = ok;
        bad_timeout["services"][0]["timeout"] = json!("0");
        assert_eq!(check_ddo(&bad_timeout).unwrap_err(), "services[0].timeout must be a number of seconds");
    }
}
