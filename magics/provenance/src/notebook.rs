//! Reading a saved `.ipynb`: its code cells, what each showed, and the kelp records the kernel
//! saved in the outputs' `metadata.kelp`. Only the parts kelp needs; any other JSON is ignored.

use crate::ProvenanceError;
use kelp_magic::Record;
use serde_json::Value;
use std::path::Path;

/// One code cell of a notebook.
#[derive(Debug, Clone, PartialEq)]
pub struct NbCell {
    /// 1-based position among all the notebook's cells (what the tables print).
    pub index: usize,
    pub execution_count: Option<i64>,
    pub source: String,
    /// Text the cell showed, in order (stream text, text/plain of results and displays).
    pub texts: Vec<String>,
    /// `ename: evalue` of an error output, if the cell failed.
    pub error: Option<String>,
    /// Records of the cell's outputs, in order, duplicates removed.
    pub records: Vec<Record>,
}

/// A notebook's code cells.
#[derive(Debug, Clone, PartialEq)]
pub struct Notebook {
    pub cells: Vec<NbCell>,
}

impl Notebook {
    /// Read a notebook file.
    pub fn read(path: &Path) -> Result<Notebook, ProvenanceError> {
        let bytes = std::fs::read(path).map_err(ProvenanceError::io(format!("cannot read {}", path.display())))?;
        Notebook::parse(&bytes, &path.display().to_string())
    }

    /// Parse notebook JSON; `name` is used in messages.
    pub fn parse(bytes: &[u8], name: &str) -> Result<Notebook, ProvenanceError> {
        let v: Value = serde_json::from_slice(bytes)
            .map_err(|e| ProvenanceError::Notebook(format!("{name} is not a notebook (JSON error: {e})")))?;
        let cells = v["cells"]
            .as_array()
            .ok_or_else(|| ProvenanceError::Notebook(format!("{name} is not a notebook: it has no \"cells\" list")))?;
        let mut out = vec![];
        for (i, c) in cells.iter().enumerate() {
            if c["cell_type"] != "code" {
                continue;
            }
            let mut cell = NbCell {
                index: i + 1,
                execution_count: c["execution_count"].as_i64(),
                source: text_of(&c["source"]),
                texts: vec![],
                error: None,
                records: vec![],
            };
            for o in c["outputs"].as_array().into_iter().flatten() {
                match o["output_type"].as_str() {
                    Some("stream") => cell.texts.push(text_of(&o["text"])),
                    Some("error") => {
                        cell.error = Some(format!("{}: {}", o["ename"].as_str().unwrap_or("?"), text_of(&o["evalue"])))
                    }
                    _ => {
                        if let Some(t) = o["data"].get("text/plain") {
                            cell.texts.push(text_of(t));
                        }
                    }
                }
                if let Some(k) = o["metadata"].get("kelp") {
                    let r: Record = serde_json::from_value(k.clone()).map_err(|e| {
                        ProvenanceError::Notebook(format!(
                            "{name}: cell {} has a kelp record that does not match docs/schema/kelp-record.schema.json ({e})",
                            i + 1
                        ))
                    })?;
                    if !cell.records.contains(&r) {
                        cell.records.push(r);
                    }
                }
            }
            out.push(cell);
        }
        Ok(Notebook { cells: out })
    }

    /// Whether any cell carries a record.
    pub fn has_records(&self) -> bool {
        self.cells.iter().any(|c| !c.records.is_empty())
    }
}

/// Jupyter text: a string or a list of lines.
fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
        _ => String::new(),
    }
}
