//! MIME bundles a magic returns or displays.
//!
//! The JSON form (`application/json`) is the stable, documented result a program reads
//! (nbclient, papermill, `kelp … --json`); `text/plain` is for terminals and `text/html` for
//! notebooks. A typed result ([`MagicResult`](crate::MagicResult)) builds all three from one
//! struct, and its JSON Schema is committed under `docs/schema/results/`; families not yet typed
//! document their JSON in their crate docs.

use serde_json::Value;
use std::collections::BTreeMap;

/// A Rust value a magic hands to the next cells, e.g. `let cid = %ipfs add data.csv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RustValue {
    /// The Rust type, e.g. `String` or `std::path::PathBuf`.
    pub ty: String,
    /// A Rust expression of that type, e.g. `String::from("Qm…")`.
    pub expr: String,
}

impl RustValue {
    /// A `String` holding `s` (escaped as a Rust string literal).
    pub fn string(s: &str) -> Self {
        RustValue { ty: "String".into(), expr: format!("String::from({})", rust_str_literal(s)) }
    }

    /// A `std::path::PathBuf` holding `p`.
    pub fn path(p: &std::path::Path) -> Self {
        RustValue {
            ty: "std::path::PathBuf".into(),
            expr: format!("std::path::PathBuf::from({})", rust_str_literal(&p.to_string_lossy())),
        }
    }
}

fn rust_str_literal(s: &str) -> String {
    format!("{s:?}")
}

/// A MIME bundle, keyed by MIME type. Text types hold JSON strings; `application/json` holds
/// any JSON value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Output {
    pub data: BTreeMap<String, Value>,
    /// The main result as a Rust value, bound when the cell asked for it.
    pub value: Option<RustValue>,
    /// What the call read and wrote (issue #14); the kernel saves it as `metadata.kelp`.
    pub record: Option<crate::Record>,
}

impl Output {
    /// An empty bundle (a magic that only streamed text).
    pub fn empty() -> Self {
        Self::default()
    }

    /// A bundle with only `text/plain`.
    pub fn text(s: impl Into<String>) -> Self {
        Self::default().with_text(s)
    }

    pub fn with_text(mut self, s: impl Into<String>) -> Self {
        self.data.insert("text/plain".into(), Value::String(s.into()));
        self
    }

    pub fn with_html(mut self, s: impl Into<String>) -> Self {
        self.data.insert("text/html".into(), Value::String(s.into()));
        self
    }

    pub fn with_json(mut self, v: Value) -> Self {
        self.data.insert("application/json".into(), v);
        self
    }

    pub fn with_mime(mut self, mime: &str, v: Value) -> Self {
        self.data.insert(mime.into(), v);
        self
    }

    pub fn with_value(mut self, v: RustValue) -> Self {
        self.value = Some(v);
        self
    }

    /// Attach the provenance record of this result.
    pub fn with_record(mut self, r: crate::Record) -> Self {
        self.record = Some(r);
        self
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The `text/plain` part, if any.
    pub fn plain(&self) -> Option<&str> {
        self.data.get("text/plain").and_then(Value::as_str)
    }

    /// The `application/json` part, if any.
    pub fn json(&self) -> Option<&Value> {
        self.data.get("application/json")
    }

    /// The bundle as a JSON object `{mime: data}` (the shape Jupyter's `data` field has).
    pub fn to_mime_map(&self) -> serde_json::Map<String, Value> {
        self.data.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }
}

/// Escape text for inclusion in HTML.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundle_builders() {
        let o = Output::text("a").with_html("<b>a</b>").with_json(serde_json::json!({"x": 1}));
        assert_eq!(o.plain(), Some("a"));
        assert_eq!(o.json().unwrap()["x"], 1);
        assert_eq!(o.to_mime_map().len(), 3);
    }

    #[test]
    fn rust_value_escapes() {
        let v = RustValue::string("a\"b\\c\n");
        assert_eq!(v.expr, r#"String::from("a\"b\\c\n")"#);
    }

    #[test]
    fn escapes_html() {
        assert_eq!(html_escape("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    }
}
