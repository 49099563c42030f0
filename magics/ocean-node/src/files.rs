//! The node's two routes that read an asset's files: `fileInfo` (unsigned, so rate-limited per
//! caller and never holding a body in memory: the bytes are counted and hashed as they stream)
//! and `download` (signed and ordered; a `url` file is streamed to the consumer as it arrives).
//! Both fetch `url` files only under the node's [`FetchPolicy`](super::fetch::FetchPolicy).

use super::fetch::{FetchError, capped};
use crate::state::{
    ApiError, NodeState, OrderFault, Q, bad, check_signed, fetch_error, ipfs_bytes, service, service_files,
};
use alloy::primitives::B256;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use kelp_ocean_wire::CID_HEADER;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::net::SocketAddr;
use std::sync::Arc;

/// The node's answer to a download of a compute service's files: those are only ever read by a
/// compute job on this node.
fn compute_only(did: &str) -> String {
    format!("{did} is compute-only: its files are never downloadable; start a compute job on it instead")
}

/// The file name of a URL: its path's last segment.
fn url_name(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or_default().rsplit('/').next().unwrap_or_default()
}

/// Size, type and sha256 of one file, read as a stream. A source that answers with an error
/// (or not at all) is, as Ocean Node reports it, 0 bytes of no type with the sha256 of nothing;
/// a URL the node refuses to fetch stays an error.
async fn url_info(s: &NodeState, url: &str) -> Result<(u64, String, String), ApiError> {
    let resp = match s.fetch.open(url).await {
        Ok(resp) => resp,
        Err(FetchError::Upstream { .. }) => return Ok((0, String::new(), alloy::hex::encode(Sha256::digest([])))),
        Err(e) => return Err(fetch_error(e)),
    };
    let content_type =
        resp.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let mut hash = Sha256::new();
    let mut len = 0u64;
    let mut body = std::pin::pin!(capped(resp, s.fetch.max_bytes));
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(fetch_error)?;
        len += chunk.len() as u64;
        hash.update(&chunk);
    }
    Ok((len, content_type, alloy::hex::encode(hash.finalize())))
}

/// `POST /api/services/fileInfo` with a file object (`{type: "url", url, method}`, `{type: "ipfs",
/// hash}`) or `{did, serviceId}`: per file Ocean Node's `{valid, contentLength (string),
/// contentType, checksum (hex sha256), name, type}`, sent without a content type as the real node
/// does. Limited to [`FetchPolicy::file_info_per_minute`](super::fetch::FetchPolicy) calls per
/// caller IP, answered past that as Ocean Node answers ([`super::ratelimit`]).
pub(super) async fn file_info(
    State(s): State<Arc<NodeState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: Bytes,
) -> Result<Response, ApiError> {
    if let Err(wait) = s.file_info_limit.check(&peer.ip().to_string()) {
        return Ok(super::ratelimit::limited(wait));
    }
    let b: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let files = if let Some(kind) = b.get("type") {
        if !matches!(kind.as_str(), Some("url" | "ipfs" | "arweave" | "s3" | "ftp")) {
            return Err(bad("Invalid Request: type must be one of url, ipfs, arweave, s3, ftp"));
        }
        vec![b.clone()]
    } else if let Some(did) = b["did"].as_str() {
        let service_id = b["serviceId"]
            .as_str()
            .ok_or_else(|| bad("Invalid arguments. Please provide either file && Type OR did && serviceId"))?;
        let not_served = || {
            ApiError(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Unable to decrypt files, files not served by the current node!".into(),
            )
        };
        let ddo = s.ddo(did).ok_or_else(not_served)?;
        let (_, svc, dt) = service(&ddo, service_id).map_err(|_| not_served())?;
        service_files(&s, &svc, dt)?
    } else {
        return Err(bad("Invalid request parameters"));
    };
    let mut out = Vec::new();
    for file in &files {
        let (len, content_type, checksum, name) = match file["type"].as_str() {
            Some("url") => {
                let url = file["url"].as_str().ok_or_else(|| bad("url file without url"))?;
                let (len, content_type, checksum) = url_info(&s, url).await?;
                (len, content_type, checksum, url_name(url).to_string())
            }
            _ => {
                let bytes = ipfs_or_unsupported(&s, file).await?;
                (
                    bytes.len() as u64,
                    "application/octet-stream".into(),
                    kelp_ocean_wire::ddo::file_checksum(&bytes),
                    String::new(),
                )
            }
        };
        out.push(json!({"valid": true, "contentLength": len.to_string(), "contentType": content_type,
            "checksum": checksum, "name": name, "type": file["type"]}));
    }
    let mut res = Response::new(Body::from(serde_json::to_vec(&out).unwrap_or_default()));
    res.headers_mut().remove(header::CONTENT_TYPE);
    Ok(res)
}

async fn ipfs_or_unsupported(s: &NodeState, file: &Value) -> Result<Vec<u8>, ApiError> {
    match file["type"].as_str() {
        Some("ipfs") => ipfs_bytes(s, file).await,
        other => Err(ApiError(StatusCode::NOT_IMPLEMENTED, format!("file type {other:?} not served by this node"))),
    }
}

/// Ocean Node's answers to an order that does not pay for the download.
fn order_answer(f: OrderFault) -> Response {
    let text = |m: &str| ApiError(StatusCode::INTERNAL_SERVER_ERROR, m.into()).into_response();
    match f {
        OrderFault::NotOrdered { other_consumer: true, .. } => text(
            "Tx id used not valid, one of the NFT addresses, Datatoken address or the User address contract address does not match.",
        ),
        OrderFault::NotOrdered { elsewhere: true, .. } | OrderFault::NoFee => text("ERROR checking fees"),
        // A transaction that is no order makes the real node throw: 500 with `{}`.
        OrderFault::NotOrdered { .. } | OrderFault::NotFound | OrderFault::Failed => {
            (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(json!({}))).into_response()
        }
        OrderFault::Chain(e) => ApiError(StatusCode::BAD_GATEWAY, format!("chain: {e}")).into_response(),
    }
}

/// `GET /api/services/download`: after the parameters, the signature (command `download`), the
/// DDO and the order, the file's bytes with `content-disposition: attachment;filename=<name>`
/// (the origin's content type passes through). A `url` file is streamed through (a body past
/// the node's cap is cut off with an error, so the consumer never takes a truncated file for a
/// whole one). Failures answer as Ocean Node does.
pub(super) async fn download(
    State(s): State<Arc<NodeState>>,
    axum::extract::Query(q): Q,
) -> Result<Response, ApiError> {
    const REQUIRED: [&str; 4] = ["fileIndex", "documentId", "serviceId", "transferTxId"];
    if let Some(missing) = ["documentId", "serviceId", "transferTxId", "fileIndex"]
        .into_iter()
        .find(|k| q.get(*k).is_none_or(|v| v.is_empty()))
    {
        return Err(bad(format!(
            "Missing one ( \"{missing}\" ) or more required field(s) for command: \"download\". Required fields: {}",
            REQUIRED.join(",")
        )));
    }
    let did = crate::state::param(&q, "documentId")?.to_string();
    let service_id = crate::state::param(&q, "serviceId")?;
    let tx: B256 =
        crate::state::param(&q, "transferTxId")?.parse().map_err(|_| bad("transferTxId is not a transaction hash"))?;
    let file_index =
        q.get("fileIndex").map(|v| v.parse::<usize>()).transpose().map_err(|_| bad("bad fileIndex"))?.unwrap_or(0);
    let consumer = check_signed(&s, &q, "consumerAddress", "download", Some(did.clone()))?;
    let ddo =
        s.ddo(&did).ok_or_else(|| ApiError(StatusCode::INTERNAL_SERVER_ERROR, "No DDO found for asset".into()))?;
    let (index, svc, dt) = service(&ddo, service_id)
        .map_err(|_| ApiError(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error".into()))?;
    if svc["type"] == "compute" {
        return Err(ApiError(StatusCode::FORBIDDEN, compute_only(&did)));
    }
    if let Err(f) = crate::state::order_fault(&s, tx, dt, consumer, index).await {
        return Ok(order_answer(f));
    }
    let files = service_files(&s, &svc, dt)?;
    let file = files
        .get(file_index)
        .cloned()
        .ok_or_else(|| ApiError(StatusCode::NOT_IMPLEMENTED, "Unknown error: Empty file object".into()))?;
    if file["type"] == "url" {
        let url = file["url"].as_str().ok_or_else(|| bad("url file without url"))?;
        let resp = s.fetch.open(url).await.map_err(fetch_error)?;
        let content_type = resp
            .headers()
            .get(header::CONTENT_TYPE)
            .cloned()
            .unwrap_or(header::HeaderValue::from_static("application/octet-stream"));
        let disposition = format!("attachment;filename={}", url_name(url));
        let stream = capped(resp, s.fetch.max_bytes).map(|r| r.map_err(std::io::Error::other));
        let mut res = (StatusCode::OK, Body::from_stream(stream)).into_response();
        res.headers_mut().insert(header::CONTENT_TYPE, content_type);
        if let Ok(v) = header::HeaderValue::from_str(&disposition) {
            res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
        }
        return Ok(res);
    }
    let bytes = ipfs_or_unsupported(&s, &file).await?;
    let headers =
        [(header::CONTENT_TYPE, "application/octet-stream"), (header::CONTENT_DISPOSITION, "attachment;filename=")];
    let mut resp = (StatusCode::OK, headers, bytes).into_response();
    // The paying consumer learns the CID of an ipfs file, so it can check what it received.
    if let Some(cid) = file["hash"].as_str()
        && let Ok(v) = header::HeaderValue::from_str(cid)
    {
        resp.headers_mut().insert(CID_HEADER, v);
    }
    Ok(resp)
}
