//! Client of an Ocean Node (the local kelp node or a real one, Ocean Node v3.1 shapes): nonce,
//! encrypt, DDO lookup, metadata query, fileInfo, initialize, download. Request signatures go
//! through a [`Signer`]; answers are read tolerantly ([`wire`]), requests are sent in the
//! node's exact shapes.
//!
//! - [`wire`]: reading the node's answers.

pub mod wire;

use crate::error::{OceanError, Result, one_line};
use crate::network::Network;
use crate::signer::Signer;
use alloy::primitives::{Address, TxHash};
use serde_json::Value;
use std::time::{Duration, Instant};
pub use wire::{FileInfo, Initialized};

/// An Ocean Node reached over HTTP.
#[derive(Debug, Clone)]
pub struct NodeClient {
    base: String,
    http: reqwest::Client,
    /// What to do when the node does not answer (depends on the network).
    unreachable_hint: String,
}

/// What to suggest when the node of network `name` does not answer.
fn unreachable_hint(name: &str) -> String {
    if name == "devnet" {
        "is the devnet up? `%devnet status`".into()
    } else {
        format!("is the node running? check ${} for network {name}", crate::network::ENV_NODE_URL)
    }
}

impl NodeClient {
    /// A client of the node at `base`, on no particular network.
    pub fn new(base: &str) -> Self {
        NodeClient {
            base: base.trim_end_matches('/').to_string(),
            http: reqwest::Client::new(),
            unreachable_hint: "is the node running?".into(),
        }
    }

    /// The node of `net` (its `node_url`), with a "not reachable" hint fitting that network.
    pub fn of(net: &Network) -> Result<Self> {
        let url = net.node_url.as_deref().ok_or_else(|| {
            OceanError::input(format!(
                "no Ocean node for network {}; set ${} to an Ocean node URL",
                net.name,
                crate::network::ENV_NODE_URL
            ))
        })?;
        let mut client = Self::new(url);
        client.unreachable_hint = if net.node_from_env {
            format!("is the node running? check ${}", crate::network::ENV_NODE_URL)
        } else {
            unreachable_hint(&net.name)
        };
        Ok(client)
    }

    pub fn url(&self) -> &str {
        &self.base
    }

    fn err(&self, reason: impl Into<String>) -> OceanError {
        OceanError::Node { url: self.base.clone(), reason: one_line(&reason.into()) }
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Result<reqwest::Response> {
        // No answer at all (refused, reset, dropped keep-alive connection, timeout).
        let r = req.send().await.map_err(|e| self.err(format!("not reachable ({}): {e}", self.unreachable_hint)))?;
        if r.status().is_success() {
            return Ok(r);
        }
        let status = r.status();
        let msg = wire::error_text(&r.text().await.unwrap_or_default());
        Err(self.err(format!("HTTP {}: {msg}", status.as_u16()).trim_end_matches([':', ' ']).to_string()))
    }

    async fn json(&self, req: reqwest::RequestBuilder) -> Result<Value> {
        self.send(req).await?.json().await.map_err(|e| self.err(format!("answer is not JSON: {e}")))
    }

    /// `GET /`: chain ids, provider address, endpoints.
    pub async fn root(&self) -> Result<Value> {
        self.json(self.http.get(format!("{}/", self.base))).await
    }

    /// Check the node answers and serves `chain_id` (when its root lists `chainIds`); returns
    /// its `providerAddress`. Used before any transaction, so a dead node costs nothing.
    pub async fn check(&self, chain_id: u64) -> Result<Address> {
        let root = self.root().await?;
        if let Some(ids) = root["chainIds"].as_array()
            && !ids.iter().any(|i| i.as_u64() == Some(chain_id) || i.as_str() == Some(&chain_id.to_string()))
        {
            return Err(self.err(format!(
                "serves chains {} but not {chain_id}; point ${} at a node of this chain",
                serde_json::Value::Array(ids.clone()),
                crate::network::ENV_NODE_URL
            )));
        }
        root["providerAddress"]
            .as_str()
            .and_then(|a| a.parse().ok())
            .ok_or_else(|| self.err("no providerAddress in the node's root answer"))
    }

    /// The node's address (`providerAddress`), the decryptor address for `setMetaData`.
    pub async fn provider_address(&self) -> Result<Address> {
        let root = self.root().await?;
        root["providerAddress"]
            .as_str()
            .and_then(|a| a.parse().ok())
            .ok_or_else(|| self.err("no providerAddress in the node's root answer"))
    }

    /// The last nonce the node saw from `address`.
    pub async fn nonce(&self, address: Address) -> Result<u64> {
        let v = self
            .json(
                self.http
                    .get(format!("{}/api/services/nonce", self.base))
                    .query(&[("userAddress", address.to_string())]),
            )
            .await?;
        wire::number(&v["nonce"]).ok_or_else(|| self.err(format!("nonce answered without a nonce: {v}")))
    }

    async fn signed(&self, signer: &dyn Signer, command: &str) -> Result<(String, u64, String)> {
        let addr = signer.address().await?;
        let nonce = self.nonce(addr).await? + 1;
        let sig = crate::signer::sign_node_request(signer, &self.base, nonce, command).await?;
        Ok((addr.to_checksum(None), nonce, sig))
    }

    /// Encrypt `plain` to the node (signed, command `encrypt`); returns the ciphertext bytes.
    pub async fn encrypt(&self, signer: &dyn Signer, chain_id: u64, plain: &[u8]) -> Result<Vec<u8>> {
        let (addr, nonce, sig) = self.signed(signer, "encrypt").await?;
        let req = self
            .http
            .post(format!("{}/api/services/encrypt", self.base))
            .query(&[
                ("chainId", chain_id.to_string()),
                ("nonce", nonce.to_string()),
                ("consumerAddress", addr),
                ("signature", sig),
            ])
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(plain.to_vec());
        let text = self.send(req).await?.text().await.map_err(|e| self.err(e.to_string()))?;
        alloy::hex::decode(text.trim()).map_err(|_| self.err("encrypt answered with something other than hex"))
    }

    /// The indexed DDO of `did`, or `None` if the node does not know it (yet).
    pub async fn ddo(&self, did: &str) -> Result<Option<Value>> {
        match self.json(self.http.get(format!("{}/api/aquarius/assets/ddo/{did}", self.base))).await {
            Ok(v) => Ok(Some(v)),
            Err(OceanError::Node { reason, .. }) if reason.starts_with("HTTP 404") => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Wait until the node has indexed `did`.
    pub async fn wait_ddo(&self, did: &str, timeout: Duration) -> Result<Value> {
        let start = Instant::now();
        loop {
            if let Some(d) = self.ddo(did).await? {
                return Ok(d);
            }
            if start.elapsed() > timeout {
                return Err(self.err(format!("{did} not indexed after {}s", timeout.as_secs())));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// `POST /api/aquarius/assets/metadata/query` → the DDOs found. `body` is in the node's
    /// syntax ([`wire::bool_query`]); the answer may come in any of [`wire::query_hits`]' shapes.
    pub async fn query(&self, body: &Value) -> Result<Vec<Value>> {
        let v =
            self.json(self.http.post(format!("{}/api/aquarius/assets/metadata/query", self.base)).json(body)).await?;
        wire::query_hits(&v).ok_or_else(|| self.err("the metadata query answered in a shape kelp does not know"))
    }

    /// `initialize`: the datatoken and a provider fee signed by the node.
    pub async fn initialize(&self, did: &str, service_id: &str, consumer: Address) -> Result<Initialized> {
        let v = self
            .json(self.http.get(format!("{}/api/services/initialize", self.base)).query(&[
                ("documentId", did.to_string()),
                ("serviceId", service_id.to_string()),
                ("consumerAddress", consumer.to_string()),
            ]))
            .await?;
        wire::initialized(&v).map_err(|e| self.err(format!("unexpected initialize answer: {e}")))
    }

    /// `POST /api/services/fileInfo {did, serviceId, checksum: true}`: per file of the
    /// service, its length, type and checksum (hex sha256 of the bytes,
    /// [`crate::ddo::file_checksum`]). The node answers without a content type.
    pub async fn file_info(&self, did: &str, service_id: &str) -> Result<Vec<FileInfo>> {
        let body = serde_json::json!({"did": did, "serviceId": service_id, "checksum": true});
        let r = self.send(self.http.post(format!("{}/api/services/fileInfo", self.base)).json(&body)).await?;
        let text = r.text().await.map_err(|e| self.err(format!("fileInfo answer broke off: {e}")))?;
        let v: Value =
            serde_json::from_str(&text).map_err(|e| self.err(format!("fileInfo answer is not JSON: {e}")))?;
        wire::file_infos(&v).map_err(|e| self.err(e))
    }

    /// `POST /api/services/fileInfo` with a file object (`{type: "url", url, method}`, `{type:
    /// "ipfs", hash}`): what the node reads from it.
    pub async fn file_info_of(&self, file: &Value) -> Result<Vec<FileInfo>> {
        let r = self.send(self.http.post(format!("{}/api/services/fileInfo", self.base)).json(file)).await?;
        let text = r.text().await.map_err(|e| self.err(format!("fileInfo answer broke off: {e}")))?;
        let v: Value =
            serde_json::from_str(&text).map_err(|e| self.err(format!("fileInfo answer is not JSON: {e}")))?;
        wire::file_infos(&v).map_err(|e| self.err(e))
    }

    /// The checksum ([`crate::ddo::file_checksum`]) of each file of a service as the node reads
    /// it (`fileInfo`). A file the node read as 0 bytes — Ocean Node's answer for a source it
    /// cannot reach — is refused in one line, so nothing is pinned to the hash of no bytes.
    pub async fn file_checksums(&self, did: &str, service_id: &str) -> Result<Vec<String>> {
        let infos = self.file_info(did, service_id).await?;
        if infos.is_empty() {
            return Err(self.err(format!("fileInfo lists no files for {did} service {service_id}")));
        }
        let mut sums = Vec::new();
        for (i, info) in infos.iter().enumerate() {
            if info.is_empty() {
                return Err(self.err(format!(
                    "read file {i} of {did} service {service_id} as 0 bytes (its source is unreachable from the node); make it reachable, then try again"
                )));
            }
            sums.push(info.checksum.clone().ok_or_else(|| {
                self.err(format!("fileInfo gave no checksum for file {i} of {did} service {service_id}"))
            })?);
        }
        Ok(sums)
    }

    /// Download file `file_index` of a service, proving the order `order_tx` (signed, command
    /// `download`). Returns the bytes and, for an `ipfs` file, the CID the node reports.
    pub async fn download(
        &self,
        signer: &dyn Signer,
        did: &str,
        service_id: &str,
        order_tx: TxHash,
        file_index: usize,
    ) -> Result<(Vec<u8>, Option<String>)> {
        let (addr, nonce, sig) = self.signed(signer, "download").await?;
        let req = self.http.get(format!("{}/api/services/download", self.base)).query(&[
            ("documentId", did.to_string()),
            ("serviceId", service_id.to_string()),
            ("consumerAddress", addr),
            ("transferTxId", order_tx.to_string()),
            ("fileIndex", file_index.to_string()),
            ("nonce", nonce.to_string()),
            ("signature", sig),
        ]);
        let r = self.send(req).await?;
        let cid = r.headers().get(kelp_ocean_wire::CID_HEADER).and_then(|v| v.to_str().ok()).map(str::to_string);
        let bytes = r.bytes().await.map(|b| b.to_vec()).map_err(|e| self.err(e.to_string()))?;
        Ok((bytes, cid))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn unreachable_hint_depends_on_the_network() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let dead = format!("http://{}", l.local_addr().unwrap());
        drop(l);
        let on = |name: &str| {
            let mut c = NodeClient::new(&dead);
            c.unreachable_hint = unreachable_hint(name);
            c
        };
        let devnet = on("devnet").root().await.unwrap_err().to_string();
        assert!(devnet.contains("not reachable") && devnet.contains("%devnet status"), "{devnet}");
        let sepolia = on("sepolia").root().await.unwrap_err().to_string();
        assert!(sepolia.contains("not reachable") && !sepolia.contains("%devnet"), "{sepolia}");
        assert!(sepolia.contains("KELP_OCEAN_NODE_URL") && sepolia.contains("sepolia"), "{sepolia}");
        let plain = NodeClient::new(&dead).root().await.unwrap_err().to_string();
        assert!(!plain.contains("%devnet"), "{plain}");
    }
}
