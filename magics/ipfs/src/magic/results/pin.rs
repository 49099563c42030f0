//! `%ipfs pin add|rm|ls` results (local store, Kubo node or pinning service).

use super::{cid_html, table};
use crate::exporter::Kind;
use kelp_magic::{MagicResult, html_escape};
use schemars::JsonSchema;
use serde::Serialize;

/// `%ipfs pin add` (local store or Kubo node).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(crate) struct PinAdd {
    pub cid: String,
    /// Always true.
    pub pinned: bool,
    pub name: Option<String>,
    #[serde(skip)]
    pub gateway: String,
}

impl MagicResult for PinAdd {
    const SCHEMA: &'static str = "ipfs.pin.add";
    fn text(&self) -> String {
        format!("pinned {}", self.cid)
    }
    fn html(&self) -> Option<String> {
        Some(table("%ipfs pin add", &[("CID", cid_html(&self.cid, &self.gateway))]))
    }
}

/// `%ipfs pin add --to pin:NAME`: a pin request to a Pinning Service API endpoint.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(crate) struct PinAddService {
    pub cid: String,
    /// Whether the service already reports it pinned.
    pub pinned: bool,
    pub name: Option<String>,
    pub service: String,
    pub requestid: String,
    /// queued | pinning | pinned | failed
    pub status: String,
    #[serde(skip)]
    pub gateway: String,
}

impl MagicResult for PinAddService {
    const SCHEMA: &'static str = "ipfs.pin.add.to-pin";
    fn text(&self) -> String {
        format!("pin of {} requested at {}: {} ({})", self.cid, self.service, self.status, self.requestid)
    }
    fn html(&self) -> Option<String> {
        Some(table(
            "%ipfs pin add --to pin",
            &[("CID", cid_html(&self.cid, &self.gateway)), ("status", html_escape(&self.status))],
        ))
    }
}

/// `%ipfs pin rm`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(crate) struct PinRm {
    pub cid: String,
    /// False when it was not pinned.
    pub removed: bool,
    #[serde(skip)]
    pub gateway: String,
}

impl MagicResult for PinRm {
    const SCHEMA: &'static str = "ipfs.pin.rm";
    fn text(&self) -> String {
        if self.removed { format!("unpinned {}", self.cid) } else { format!("{} was not pinned", self.cid) }
    }
    fn html(&self) -> Option<String> {
        Some(table("%ipfs pin rm", &[("CID", cid_html(&self.cid, &self.gateway))]))
    }
}

/// One pin of `%ipfs pin ls`, by where the pins are.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(untagged)]
pub(crate) enum Pinned {
    /// A pin of the local store, with what its root says it holds (read from the store alone;
    /// `size`, `cumulative_size` and `kind` are null when the root cannot be read).
    Local {
        cid: String,
        name: Option<String>,
        /// Seconds since the Unix epoch.
        created: u64,
        /// A file's bytes (0 for a directory).
        size: Option<u64>,
        /// The DAG's bytes (Kubo's `CumulativeSize`).
        cumulative_size: Option<u64>,
        kind: Option<Kind>,
    },
    /// A pin of a Kubo node.
    Kubo {
        cid: String,
        /// recursive | direct | indirect
        #[serde(rename = "type")]
        ty: String,
    },
    /// A pin of a Pinning Service API endpoint.
    Service {
        cid: String,
        name: Option<String>,
        /// queued | pinning | pinned | failed
        status: String,
        requestid: String,
        /// RFC 3339 time of the request.
        created: String,
    },
}

impl Pinned {
    fn cid(&self) -> &str {
        match self {
            Pinned::Local { cid, .. } | Pinned::Kubo { cid, .. } | Pinned::Service { cid, .. } => cid,
        }
    }
    /// `CID` with its size when known (`CID  1234 bytes`).
    fn line(&self) -> String {
        match self {
            Pinned::Local { size: Some(n), .. } => format!("{}  {n} bytes", self.cid()),
            _ => self.cid().to_string(),
        }
    }
}

/// `%ipfs pin ls`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(crate) struct PinLs {
    pub pins: Vec<Pinned>,
}

impl MagicResult for PinLs {
    const SCHEMA: &'static str = "ipfs.pin.ls";
    fn text(&self) -> String {
        if self.pins.is_empty() {
            return "no pins".into();
        }
        self.pins.iter().map(Pinned::line).collect::<Vec<_>>().join("\n")
    }
    fn html(&self) -> Option<String> {
        let rows: Vec<(&str, String)> = self.pins.iter().map(|p| ("pin", html_escape(&p.line()))).collect();
        Some(table("%ipfs pin ls", &rows))
    }
}
