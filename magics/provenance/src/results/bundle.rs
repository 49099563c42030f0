//! `%bundle NOTEBOOK -o OUT.car`: what the bundle holds and what it could not hold.

use crate::bundle::BundleReport;
use kelp_magic::{MagicResult, Output, RustValue, html_escape};

impl MagicResult for BundleReport {
    const SCHEMA: &'static str = "provenance.bundle";
    fn text(&self) -> String {
        let mut text = format!(
            "bundle {} → {}\n  notebook {}\n  {} file(s), {} CID(s), {} blocks, {} bytes\n",
            self.root,
            self.car,
            self.notebook,
            self.files.len(),
            self.cids.len(),
            self.blocks,
            self.bytes
        );
        for (what, why) in &self.not_bundled {
            text += &format!("  not bundled: {what} ({why})\n");
        }
        text
    }
    fn html(&self) -> Option<String> {
        Some(format!(
            "<div>bundle <code>{}</code> → <code>{}</code></div>",
            html_escape(&self.root),
            html_escape(&self.car)
        ))
    }
    /// The three renderings, and the root CID for `let root = %bundle …`.
    fn output(&self) -> Output {
        Output::text(self.text())
            .with_html(self.html().unwrap_or_default())
            .with_json(self.json())
            .with_value(RustValue::string(&self.root))
    }
}
