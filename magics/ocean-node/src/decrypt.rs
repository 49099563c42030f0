//! `POST /api/services/decrypt` (Ocean Node's `decryptDDO`): how other nodes' indexers, and any
//! signer, get the plain DDO of an asset whose `setMetaData` named this node as decryptor.
//!
//! The body is `{decrypterAddress, chainId (number or string), nonce, signature,
//! dataNftAddress, transactionId | (encryptedDocument, flags, documentHash)}`; the signature is
//! the decrypter's over `decrypterAddress + nonce + "decryptDDO"`. Like an Ocean Node whose
//! `authorizedDecrypters` is empty, any signer may decrypt. By `transactionId` the document,
//! flags and hash come from that transaction's `MetadataCreated`/`MetadataUpdated` event; the
//! sha256 of the decrypted text must equal the event's `metaDataHash` (or `documentHash`), and
//! its `id` must be the DID of `dataNftAddress` on this chain. The answer is the decrypted text,
//! 200 `text/plain; charset=utf-8`; failures answer 400 "Decrypt DDO: …" and 401 for
//! signatures, with Ocean Node's texts.

use crate::state::{ApiError, NodeState, check_signed};
use alloy::primitives::{Address, B256};
use alloy::providers::Provider;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use kelp_ocean_wire::contracts::IERC721Template::{MetadataCreated, MetadataUpdated};
use kelp_ocean_wire::ddo;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

const REQUIRED: [&str; 4] = ["decrypterAddress", "chainId", "nonce", "signature"];

fn failed(what: &str) -> ApiError {
    ApiError(StatusCode::BAD_REQUEST, format!("Decrypt DDO: {what}"))
}

/// A body field as text (numbers as their digits).
fn text(b: &Value, k: &str) -> Option<String> {
    match &b[k] {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The encrypted document, its flags and hash: from the body, or from the transaction's event.
async fn document(s: &NodeState, b: &Value) -> Result<(Vec<u8>, u8, B256), ApiError> {
    if let Some(tx) = text(b, "transactionId") {
        let tx: B256 = tx.parse().map_err(|_| failed("Failed to process transaction id"))?;
        let receipt = s
            .provider
            .get_transaction_receipt(tx)
            .await
            .map_err(|e| ApiError(StatusCode::INTERNAL_SERVER_ERROR, format!("Decrypt DDO: chain: {e}")))?
            .ok_or_else(|| failed("Failed to process transaction id"))?;
        for log in receipt.inner.logs() {
            if let Ok(e) = log.log_decode::<MetadataCreated>() {
                let d = e.inner.data;
                return Ok((d.data.to_vec(), d.flags.first().copied().unwrap_or(0), d.metaDataHash));
            }
            if let Ok(e) = log.log_decode::<MetadataUpdated>() {
                let d = e.inner.data;
                return Ok((d.data.to_vec(), d.flags.first().copied().unwrap_or(0), d.metaDataHash));
            }
        }
        return Err(failed("Failed to process transaction id"));
    }
    let doc = text(b, "encryptedDocument").ok_or_else(|| failed("missing transactionId or encryptedDocument"))?;
    let doc = alloy::hex::decode(doc.trim()).map_err(|_| failed("encryptedDocument is not hex"))?;
    let flags = match &b["flags"] {
        Value::Number(n) => n.as_u64().and_then(|f| u8::try_from(f).ok()),
        Value::String(t) => t.parse().ok(),
        _ => Some(0),
    }
    .ok_or_else(|| failed("flags must be a number 0-255"))?;
    let hash = text(b, "documentHash")
        .and_then(|h| h.parse::<B256>().ok())
        .ok_or_else(|| failed("documentHash must be a 0x 32-byte hex hash"))?;
    Ok((doc, flags, hash))
}

/// The route.
pub(super) async fn decrypt_ddo(State(s): State<Arc<NodeState>>, body: axum::body::Bytes) -> Response {
    match decrypt(&s, &body).await {
        Ok(plain) => (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], plain).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn decrypt(s: &NodeState, body: &[u8]) -> Result<Vec<u8>, ApiError> {
    let b: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    if let Some(missing) = REQUIRED.iter().find(|k| text(&b, k).is_none_or(|v| v.is_empty())) {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            format!(
                "Missing one ( \"{missing}\" ) or more required field(s) for command: \"decryptDDO\". Required fields: {}",
                REQUIRED.join(",")
            ),
        ));
    }
    let decrypter = text(&b, "decrypterAddress").unwrap_or_default();
    if decrypter.parse::<Address>().is_err() {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            "Parameter : \"decrypterAddress\" is not a valid web3 address".into(),
        ));
    }
    if text(&b, "chainId").and_then(|c| c.parse::<u64>().ok()) != Some(s.config.chain_id) {
        return Err(failed("Unsupported chain id"));
    }
    let signed: HashMap<String, String> =
        ["decrypterAddress", "nonce", "signature"].iter().filter_map(|k| Some((k.to_string(), text(&b, k)?))).collect();
    check_signed(s, &signed, "decrypterAddress", "decryptDDO", None)?;
    let nft: Address = text(&b, "dataNftAddress")
        .and_then(|a| a.parse().ok())
        .ok_or_else(|| failed("dataNftAddress is not an address"))?;
    let (data, flags, hash) = document(s, &b).await?;
    if flags & 1 != 0 {
        return Err(failed("lzma-compressed documents are not supported by this node"));
    }
    let plain = if flags & 2 != 0 { s.decrypt(&data).map_err(|_| failed("Failed to decrypt"))? } else { data };
    if !ddo::hash_matches(&plain, &hash.0) {
        return Err(failed("checksum does not match"));
    }
    let id = serde_json::from_slice::<Value>(&plain).ok().and_then(|d| d["id"].as_str().map(str::to_string));
    if id.as_deref() != Some(ddo::did(nft, s.config.chain_id).as_str()) {
        return Err(failed("did does not match"));
    }
    Ok(plain)
}
