//! `%ipfs cat`, `get`, `ls`, `stat` and `gc` results.

use super::{cid_html, table};
use crate::exporter::{DirEntry, Kind, Stat};
use crate::store::GcReport;
use kelp_magic::{MagicResult, html_escape};
use schemars::JsonSchema;
use serde::Serialize;

/// `%ipfs cat`: the bytes shown (text when they are UTF-8).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(crate) struct Cat {
    pub cid: String,
    pub offset: u64,
    /// Length of the requested range.
    pub length: u64,
    /// Whether the bytes shown are UTF-8 (then `text` holds them, else it is null).
    pub utf8: bool,
    pub text: Option<String>,
    /// Whether the range is longer than what is shown (1 MiB at most).
    pub truncated: bool,
}

impl MagicResult for Cat {
    const SCHEMA: &'static str = "ipfs.cat";
    fn text(&self) -> String {
        match &self.text {
            Some(t) => t.clone(),
            None => format!("<{} bytes of binary data; use %ipfs get {} -o PATH>", self.length, self.cid),
        }
    }
    fn html(&self) -> Option<String> {
        self.text.as_ref().map(|t| format!("<pre>{}</pre>", html_escape(t)))
    }
}

/// `%ipfs get`: the file or directory written.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(crate) struct Get {
    pub cid: String,
    /// Where it was written.
    pub path: String,
    pub kind: Kind,
    /// File size in bytes (0 for a directory).
    pub size: u64,
    /// Whether it was decrypted (`--decrypt`).
    pub decrypted: bool,
    #[serde(skip)]
    pub gateway: String,
}

impl MagicResult for Get {
    const SCHEMA: &'static str = "ipfs.get";
    fn text(&self) -> String {
        format!("saved {} to {}", self.cid, self.path)
    }
    fn html(&self) -> Option<String> {
        Some(table("%ipfs get", &[("CID", cid_html(&self.cid, &self.gateway)), ("path", html_escape(&self.path))]))
    }
}

/// `%ipfs ls`: a directory's entries.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(crate) struct Ls {
    pub cid: String,
    pub entries: Vec<DirEntry>,
    #[serde(skip)]
    pub gateway: String,
}

impl MagicResult for Ls {
    const SCHEMA: &'static str = "ipfs.ls";
    fn text(&self) -> String {
        let line = |e: &DirEntry| {
            let slash = if e.kind == Kind::Directory { "/" } else { "" };
            format!("{} {:>10} {}{slash}", e.cid, e.tsize, e.name)
        };
        self.entries.iter().map(line).collect::<Vec<_>>().join("\n")
    }
    fn html(&self) -> Option<String> {
        let mut html = format!(
            "<div class=\"kelp-ipfs\"><b>{}</b><table><tr><th>name</th><th>CID</th><th>size</th></tr>",
            cid_html(&self.cid, &self.gateway)
        );
        for e in &self.entries {
            html.push_str(&format!(
                "<tr><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
                html_escape(&e.name),
                html_escape(&e.cid),
                e.size
            ));
        }
        html.push_str("</table></div>");
        Some(html)
    }
}

fn kind_name(k: Kind) -> &'static str {
    match k {
        Kind::File => "file",
        Kind::Directory => "directory",
        Kind::Symlink => "symlink",
        Kind::Raw => "raw",
    }
}

/// `%ipfs stat`: type and sizes of a CID.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(crate) struct StatResult {
    #[serde(flatten)]
    pub stat: Stat,
    #[serde(skip)]
    pub gateway: String,
}

impl MagicResult for StatResult {
    const SCHEMA: &'static str = "ipfs.stat";
    fn text(&self) -> String {
        let s = &self.stat;
        format!(
            "{}\ntype: {}\nsize: {}\nblock size: {}\ncumulative size: {}\nlinks: {}",
            s.cid,
            kind_name(s.kind),
            s.size,
            s.block_size,
            s.cumulative_size,
            s.links
        )
    }
    fn html(&self) -> Option<String> {
        let s = &self.stat;
        Some(table(
            "%ipfs stat",
            &[
                ("CID", cid_html(&s.cid, &self.gateway)),
                ("type", kind_name(s.kind).to_string()),
                ("size", s.size.to_string()),
                ("cumulative size", s.cumulative_size.to_string()),
            ],
        ))
    }
}

/// `%ipfs gc`: what was removed and kept.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(transparent)]
pub(crate) struct Gc(pub GcReport);

impl MagicResult for Gc {
    const SCHEMA: &'static str = "ipfs.gc";
    fn text(&self) -> String {
        let r = &self.0;
        format!("removed {} blocks ({} bytes), kept {}", r.removed_blocks, r.removed_bytes, r.kept_blocks)
    }
    fn html(&self) -> Option<String> {
        let r = &self.0;
        Some(table(
            "%ipfs gc",
            &[
                ("removed", format!("{} blocks, {} bytes", r.removed_blocks, r.removed_bytes)),
                ("kept", r.kept_blocks.to_string()),
            ],
        ))
    }
}
