//! The provenance graph: inputs → cells → outputs. A cell depends on an earlier one when it
//! reads what that cell wrote (same CID, DID, path, URL or job) or uses the variable it bound;
//! a read no earlier cell wrote is an input of the notebook. Rendered as text, JSON and HTML
//! (CIDs link to a gateway, transactions to the chain's explorer where one is known).

use crate::record_schema::{ItemSchema, RecordSchema};
use kelp_magic::{Item, Record, html_escape};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// The gateway CIDs link to in HTML.
pub const GATEWAY: &str = "https://ipfs.io";

/// One cell with records.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct CellNode {
    /// Cell number (notebook position, or the execution count for a session).
    pub cell: usize,
    /// What the cell's magics and Rust pieces read and wrote, in run order.
    #[schemars(with = "Vec<RecordSchema>")]
    pub records: Vec<Record>,
    /// Earlier cells this one read from.
    pub depends_on: BTreeSet<usize>,
}

/// Something the notebook read that none of its cells made.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Input {
    #[schemars(with = "ItemSchema")]
    pub item: Item,
    /// Cells that read it directly.
    pub cells: BTreeSet<usize>,
}

/// Something a cell wrote.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Made {
    /// The cell that wrote it.
    pub cell: usize,
    #[schemars(with = "ItemSchema")]
    pub item: Item,
}

/// The graph (its JSON is `%provenance`'s `application/json`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, JsonSchema)]
pub struct Graph {
    /// What the notebook read that none of its cells made, in first-read order.
    pub inputs: Vec<Input>,
    /// The cells with records, in run order.
    pub cells: Vec<CellNode>,
    /// Everything the cells wrote, in order.
    pub outputs: Vec<Made>,
}

/// What makes two items "the same thing" for dependencies (a file is its path, whatever its hash).
pub fn key(item: &Item) -> Option<String> {
    Some(match item {
        Item::Cid { cid } => format!("cid:{cid}"),
        Item::Did { did } => format!("did:{did}"),
        Item::Path { path, .. } => format!("path:{path}"),
        Item::Url { url, .. } => format!("url:{url}"),
        Item::C2dJob { job_id, .. } => format!("job:{job_id}"),
        Item::Tx { .. } => return None,
    })
}

impl Graph {
    /// Build from cells in run order: (cell number, its records).
    pub fn build(cells: impl IntoIterator<Item = (usize, Vec<Record>)>) -> Graph {
        let mut writer: BTreeMap<String, usize> = BTreeMap::new();
        let mut binder: BTreeMap<String, usize> = BTreeMap::new();
        let mut inputs: Vec<Input> = vec![];
        let mut out = vec![];
        for (cell, records) in cells {
            let mut deps = BTreeSet::new();
            for r in &records {
                for item in &r.reads {
                    let Some(k) = key(item) else { continue };
                    match writer.get(&k) {
                        Some(&w) if w != cell => {
                            deps.insert(w);
                        }
                        Some(_) => {}
                        None => match inputs.iter_mut().find(|i| key(&i.item).as_ref() == Some(&k)) {
                            Some(i) => {
                                i.cells.insert(cell);
                            }
                            None => inputs.push(Input { item: item.clone(), cells: BTreeSet::from([cell]) }),
                        },
                    }
                }
                for v in &r.uses {
                    if let Some(&b) = binder.get(v).filter(|&&b| b != cell) {
                        deps.insert(b);
                    }
                }
            }
            for r in &records {
                for k in r.writes.iter().filter_map(key) {
                    writer.insert(k, cell);
                }
                for b in r.binds.iter().chain(&r.defines) {
                    binder.insert(b.clone(), cell);
                }
            }
            out.push(CellNode { cell, records, depends_on: deps });
        }
        let outputs = out
            .iter()
            .flat_map(|c| c.records.iter().flat_map(move |r| r.writes.iter().map(move |w| (c.cell, w.clone()))))
            .map(|(cell, item)| Made { cell, item })
            .collect();
        Graph { cells: out, inputs, outputs }
    }

    /// Cells that read `item` directly or through other cells, sorted.
    pub fn dependents(&self, item: &Item) -> BTreeSet<usize> {
        let mut set: BTreeSet<usize> =
            self.inputs.iter().filter(|i| key(&i.item) == key(item)).flat_map(|i| i.cells.iter().copied()).collect();
        loop {
            let more: Vec<usize> = self
                .cells
                .iter()
                .filter(|c| !set.contains(&c.cell) && c.depends_on.iter().any(|d| set.contains(d)))
                .map(|c| c.cell)
                .collect();
            if more.is_empty() {
                return set;
            }
            set.extend(more);
        }
    }

    /// Everything the cells wrote, in order: (cell, item).
    pub fn outputs(&self) -> Vec<(usize, Item)> {
        self.outputs.iter().map(|m| (m.cell, m.item.clone())).collect()
    }

    /// The graph as JSON (`inputs`, `cells`, `outputs`).
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or_default()
    }

    pub fn to_text(&self) -> String {
        let mut t = format!("inputs ({}):\n", self.inputs.len());
        for i in &self.inputs {
            t += &format!("  {} → {}\n", i.item.label(), cells_list(&i.cells));
        }
        t += &format!("cells ({}):\n", self.cells.len());
        for c in &self.cells {
            for r in &c.records {
                t += &format!("  cell {}: {}\n", c.cell, what(r));
                for w in &r.writes {
                    t += &format!("      wrote {}\n", w.label());
                }
                if let Some(u) = &r.uncheckable {
                    t += &format!("      not checkable offline: {u}\n");
                }
            }
            if !c.depends_on.is_empty() {
                t += &format!("      depends on {}\n", cells_list(&c.depends_on));
            }
        }
        t
    }

    pub fn to_html(&self) -> String {
        let mut h = format!(
            "<div class=\"kelp-provenance\">{}<br><b>inputs</b><table><tr><th>input</th><th>read by</th></tr>",
            self.to_svg()
        );
        for i in &self.inputs {
            h += &format!("<tr><td>{}</td><td>{}</td></tr>", item_html(&i.item), html_escape(&cells_list(&i.cells)));
        }
        h += "</table><b>cells</b><table><tr><th>cell</th><th>what</th><th>wrote</th><th>depends on</th></tr>";
        for c in &self.cells {
            for r in &c.records {
                let wrote: Vec<String> = r.writes.iter().map(item_html).collect();
                h += &format!(
                    "<tr><td>{}</td><td><code>{}</code>{}</td><td>{}</td><td>{}</td></tr>",
                    c.cell,
                    html_escape(&what(r)),
                    r.uncheckable
                        .as_ref()
                        .map(|u| format!("<br><i>not checkable offline: {}</i>", html_escape(u)))
                        .unwrap_or_default(),
                    wrote.join("<br>"),
                    html_escape(&cells_list(&c.depends_on))
                );
            }
        }
        h + "</table></div>"
    }
}

/// What a record ran: its magic line, or `rust (sha256 ab12…)`.
pub(crate) fn what(r: &Record) -> String {
    match (&r.magic, &r.source_sha256) {
        (Some(m), _) => m.clone(),
        (None, Some(h)) => format!("rust (source sha256 {})", &h[..h.len().min(12)]),
        (None, None) => "rust".into(),
    }
}

fn cells_list(cells: &BTreeSet<usize>) -> String {
    if cells.is_empty() {
        return "—".into();
    }
    let v: Vec<String> = cells.iter().map(usize::to_string).collect();
    format!("cell{} {}", if v.len() > 1 { "s" } else { "" }, v.join(", "))
}

/// A block explorer for transactions on a known chain.
pub fn explorer(chain_id: u64) -> Option<&'static str> {
    Some(match chain_id {
        1 => "https://etherscan.io",
        10 => "https://optimistic.etherscan.io",
        137 => "https://polygonscan.com",
        11155111 => "https://sepolia.etherscan.io",
        11155420 => "https://sepolia-optimism.etherscan.io",
        _ => return None,
    })
}

fn item_html(item: &Item) -> String {
    let label = html_escape(&item.label());
    match item {
        Item::Cid { cid } => format!("<a href=\"{GATEWAY}/ipfs/{0}\" target=\"_blank\">{label}</a>", html_escape(cid)),
        Item::Tx { hash, chain_id } => match explorer(*chain_id) {
            Some(e) => format!("<a href=\"{e}/tx/{}\" target=\"_blank\">{label}</a>", html_escape(hash)),
            None => label,
        },
        _ => label,
    }
}
