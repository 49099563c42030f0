//! `%ipfs car export|import` results.

use super::{cid_html, table};
use kelp_magic::{MagicResult, html_escape};
use schemars::JsonSchema;
use serde::Serialize;

/// `%ipfs car export`: the CAR written (and its Filecoin piece with `--commp`).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(crate) struct CarExport {
    /// The root.
    pub cid: String,
    /// The .car file.
    pub path: String,
    pub blocks: u64,
    /// Bytes of the CAR.
    pub bytes: u64,
    /// The piece CID (CommP), only with `--commp`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub piece_cid: Option<String>,
    /// The padded piece size, only with `--commp`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub piece_size: Option<u64>,
    #[serde(skip)]
    pub gateway: String,
}

impl MagicResult for CarExport {
    const SCHEMA: &'static str = "ipfs.car.export";
    fn text(&self) -> String {
        let mut t = format!("exported {} to {} ({} blocks, {} bytes)", self.cid, self.path, self.blocks, self.bytes);
        if let (Some(c), Some(s)) = (&self.piece_cid, self.piece_size) {
            t.push_str(&format!("\npiece CID (CommP) {c} padded size {s}"));
        }
        t
    }
    fn html(&self) -> Option<String> {
        let mut rows = vec![
            ("root", cid_html(&self.cid, &self.gateway)),
            ("file", html_escape(&self.path)),
            ("blocks", self.blocks.to_string()),
        ];
        if let (Some(c), Some(s)) = (&self.piece_cid, self.piece_size) {
            rows.push(("piece CID", format!("<code>{}</code> ({s} bytes padded)", html_escape(c))));
        }
        Some(table("%ipfs car export", &rows))
    }
}

/// `%ipfs car import`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(crate) struct CarImport {
    /// The .car file.
    pub path: String,
    /// The CAR's roots.
    pub roots: Vec<String>,
    /// The roots whose every block is now present.
    pub complete_roots: Vec<String>,
    /// Blocks imported (0 for a Kubo node).
    pub blocks: u64,
    pub bytes: u64,
    /// Whether the complete roots were pinned.
    pub pinned: bool,
    #[serde(skip)]
    pub gateway: String,
}

impl MagicResult for CarImport {
    const SCHEMA: &'static str = "ipfs.car.import";
    fn text(&self) -> String {
        format!("imported {} ({} blocks), roots: {}", self.path, self.blocks, self.roots.join(" "))
    }
    fn html(&self) -> Option<String> {
        let rows: Vec<(&str, String)> = self.roots.iter().map(|r| ("root", cid_html(r, &self.gateway))).collect();
        Some(table("%ipfs car import", &rows))
    }
}
