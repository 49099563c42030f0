//! `%provenance [NOTEBOOK]`: the graph of this session or of a saved notebook.

use crate::graph::Graph;
use kelp_magic::{MagicResult, html_escape};
use schemars::JsonSchema;
use serde::Serialize;

/// `%provenance`: inputs → cells → outputs (text, HTML with its SVG picture, JSON).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct GraphResult {
    /// What the graph is of: `this session` or the notebook as named (renderings only).
    #[serde(skip)]
    pub of: String,
    #[serde(flatten)]
    pub graph: Graph,
}

impl GraphResult {
    /// The graph of `of` (`this session`, or a notebook's name).
    pub fn new(of: impl Into<String>, graph: Graph) -> GraphResult {
        GraphResult { of: of.into(), graph }
    }

    fn title(&self) -> String {
        format!("provenance of {}", self.of)
    }
}

impl MagicResult for GraphResult {
    const SCHEMA: &'static str = "provenance.graph";
    fn text(&self) -> String {
        if self.graph.cells.is_empty() {
            return format!(
                "nothing recorded yet in {}: magics and Rust cells record what they read and wrote as they run",
                self.of
            );
        }
        format!("{}\n{}", self.title(), self.graph.to_text())
    }
    fn html(&self) -> Option<String> {
        if self.graph.cells.is_empty() {
            return None;
        }
        Some(format!("<div><b>{}</b>{}</div>", html_escape(&self.title()), self.graph.to_html()))
    }
}
