//! `%ipfs add` results: into the store, with a pin request, or on a Kubo-style node.

use super::{cid_html, table};
use crate::api::AddedEntry;
use crate::kubo::AddLine;
use kelp_magic::{MagicResult, html_escape};
use schemars::JsonSchema;
use serde::Serialize;

/// `%ipfs add` into the embedded store.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(crate) struct Add {
    /// The root CID (Kubo's for the same options).
    pub cid: String,
    /// Name of the added file or directory.
    pub name: String,
    /// Whether the content was encrypted client-side (`--encrypt`).
    pub encrypted: bool,
    /// Content bytes (sum of file sizes for a directory).
    pub size: u64,
    /// Cumulative DAG size (Kubo's `Size`).
    pub tsize: u64,
    /// Blocks produced.
    pub blocks: u64,
    /// Whether the root is pinned.
    pub pinned: bool,
    /// `local` (the embedded store); `pin` in [`AddPin`].
    pub backend: String,
    /// Only the CID was computed (`-n`): nothing stored.
    pub only_hash: bool,
    pub cid_version: u8,
    pub raw_leaves: bool,
    /// `size-N`.
    pub chunker: String,
    pub max_links: usize,
    /// The root on the configured gateway.
    pub gateway_url: String,
    /// Every file and directory added, root last.
    pub entries: Vec<AddedEntry>,
    /// The key's share string, only with `--show-key`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(skip)]
    pub gateway: String,
}

impl MagicResult for Add {
    const SCHEMA: &'static str = "ipfs.add";
    fn text(&self) -> String {
        let n = self.entries.len();
        let mut text: String = self
            .entries
            .iter()
            .take(n.saturating_sub(1).min(50))
            .map(|e| format!("added {} {}\n", e.cid, e.path))
            .collect();
        if n > 51 {
            text.push_str(&format!("… {} more\n", n - 51));
        }
        text.push_str(&format!("added {} {}", self.cid, self.entries.last().map(|e| e.path.as_str()).unwrap_or("")));
        if self.encrypted {
            text.push_str("\nencrypted (ChaCha20-Poly1305); key kept in the local store");
            if let Some(k) = &self.key {
                text.push_str(&format!("\nshare key: {k}"));
            }
        }
        text
    }
    fn html(&self) -> Option<String> {
        Some(table(
            "%ipfs add",
            &[
                ("CID", cid_html(&self.cid, &self.gateway)),
                ("name", html_escape(&self.name)),
                ("size", format!("{} bytes", self.size)),
                ("DAG size", format!("{} bytes in {} blocks", self.tsize, self.blocks)),
                ("pinned", self.pinned.to_string()),
            ],
        ))
    }
}

/// `%ipfs add --to pin:NAME`: the local add, then a pin request to a Pinning Service API
/// endpoint (`backend` is `pin`).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(crate) struct AddPin {
    #[serde(flatten)]
    pub local: Add,
    /// The pinning service's name.
    pub service: String,
    /// The service's request id.
    pub requestid: String,
    /// queued | pinning | pinned | failed
    pub status: String,
}

impl MagicResult for AddPin {
    const SCHEMA: &'static str = "ipfs.add.to-pin";
    fn text(&self) -> String {
        format!("{}\npin requested at {}: {} ({})", self.local.text(), self.service, self.status, self.requestid)
    }
    fn html(&self) -> Option<String> {
        Some(table(
            "%ipfs add --to pin",
            &[
                ("CID", cid_html(&self.local.cid, &self.local.gateway)),
                ("service", html_escape(&self.service)),
                ("request", html_escape(&self.requestid)),
                ("status", html_escape(&self.status)),
            ],
        ))
    }
}

/// `%ipfs add --to kubo[=URL]` or `--to lighthouse`: what the node answered, checked against
/// the CID kelp computes for the same options.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(crate) struct AddKubo {
    /// The root CID the node gave.
    pub cid: String,
    pub name: String,
    /// The node's `Size` of the root (as the node sent it).
    pub size: serde_json::Value,
    /// `kubo` or `lighthouse`.
    pub backend: String,
    /// The node's URL.
    pub url: String,
    /// The CID kelp computes with Kubo's rules.
    pub local_cid: String,
    pub matches_local: bool,
    pub pinned: bool,
    pub gateway_url: String,
    /// The node's add lines, root last.
    pub entries: Vec<AddLine>,
    #[serde(skip)]
    pub gateway: String,
}

impl MagicResult for AddKubo {
    const SCHEMA: &'static str = "ipfs.add.to-kubo";
    fn text(&self) -> String {
        self.entries.iter().map(|l| format!("added {} {}", l.hash, l.name)).collect::<Vec<_>>().join("\n")
    }
    fn html(&self) -> Option<String> {
        Some(table(
            &format!("%ipfs add --to {}", self.backend),
            &[
                ("CID", cid_html(&self.cid, &self.gateway)),
                ("node", html_escape(&self.url)),
                ("same CID as kelp", self.matches_local.to_string()),
            ],
        ))
    }
}
