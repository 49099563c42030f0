//! A notebook's lineage for Ocean metadata: what a saved notebook read from outside (CIDs, DIDs,
//! URLs, files) and what it made, in a small JSON object that `%publish` puts into the asset's
//! `metadata.additionalInformation.kelp`, so the chain holds the link between a published paper
//! notebook (or a result it made) and its inputs.
//!
//! Only what identifies content leaves the machine: a file keeps its name and sha256, never a
//! directory of the user's; URLs are already redacted in the records. Lists are bounded so a huge
//! notebook cannot make a huge on-chain document.

use crate::ProvenanceError;
use crate::graph::Graph;
use crate::notebook::Notebook;
use kelp_magic::Item;
use serde_json::{Value, json};
use std::path::Path;

/// Version of the lineage object (`metadata.additionalInformation.kelp.lineage`).
pub const LINEAGE_FORMAT: u32 = 1;

/// At most this many inputs and this many outputs are listed; the rest are counted.
pub const MAX_ITEMS: usize = 256;

/// The lineage of the notebook at `path`; `Ok(None)` when it holds no kelp records (it was not
/// run with the kelp kernel, or saved without outputs).
pub fn lineage(path: &Path) -> Result<Option<Value>, ProvenanceError> {
    let nb = Notebook::read(path)?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    Ok(lineage_of(&nb, &name))
}

/// The lineage of a parsed notebook named `name`.
pub fn lineage_of(nb: &Notebook, name: &str) -> Option<Value> {
    if !nb.has_records() {
        return None;
    }
    let graph = Graph::build(nb.cells.iter().map(|c| (c.index, c.records.clone())));
    let inputs: Vec<Value> = graph.inputs.iter().filter_map(|i| public(&i.item)).collect();
    let mut outputs: Vec<Value> = vec![];
    for (_, item) in graph.outputs() {
        if let Some(v) = public(&item).filter(|v| !outputs.contains(v)) {
            outputs.push(v);
        }
    }
    let mut v = json!({
        "lineage": LINEAGE_FORMAT,
        "notebook": name,
        "kelp": kelp_magic::KELP_VERSION,
        "inputs": inputs.iter().take(MAX_ITEMS).collect::<Vec<_>>(),
        "outputs": outputs.iter().take(MAX_ITEMS).collect::<Vec<_>>(),
    });
    if inputs.len() > MAX_ITEMS {
        v["inputs_not_listed"] = json!(inputs.len() - MAX_ITEMS);
    }
    if outputs.len() > MAX_ITEMS {
        v["outputs_not_listed"] = json!(outputs.len() - MAX_ITEMS);
    }
    Some(v)
}

/// An item as it may be published: files by name + sha256 (a directory, with no hash, is left
/// out: nobody else can check it), everything else as recorded.
fn public(item: &Item) -> Option<Value> {
    match item {
        Item::Path { path, sha256 } => {
            let sha256 = sha256.as_ref()?;
            let name = Path::new(path).file_name()?.to_string_lossy().into_owned();
            Some(json!({"type": "file", "name": name, "sha256": sha256}))
        }
        other => serde_json::to_value(other).ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kelp_magic::{Record, RecordKind};

    fn rec(reads: Vec<Item>, writes: Vec<Item>) -> Record {
        Record {
            format: 1,
            kelp: "0".into(),
            kind: RecordKind::Magic,
            magic: Some("%ipfs add x".into()),
            source_sha256: None,
            reads,
            writes,
            uses: vec![],
            binds: None,
            defines: vec![],
            uncheckable: None,
        }
    }

    fn nb(cells: Vec<Vec<Record>>) -> Notebook {
        let cells = cells
            .into_iter()
            .enumerate()
            .map(|(i, records)| crate::notebook::NbCell {
                index: i + 1,
                execution_count: Some(i as i64 + 1),
                source: String::new(),
                texts: vec![],
                error: None,
                records,
            })
            .collect();
        Notebook { cells }
    }

    #[test]
    fn inputs_are_what_no_cell_made_and_files_lose_their_folders() {
        let home_file = Item::Path { path: "/home/ada/secret-project/data.csv".into(), sha256: Some("ab".into()) };
        let dir = Item::Path { path: "/home/ada/out".into(), sha256: None };
        let n = nb(vec![
            vec![rec(vec![Item::cid("bafyin"), home_file, dir], vec![Item::cid("bafymid")])],
            vec![rec(
                vec![Item::cid("bafymid"), Item::did("did:op:1"), Item::url("https://u:p@x.org/a?token=s", None)],
                vec![Item::Tx { hash: "0x1".into(), chain_id: 8996 }],
            )],
        ]);
        let v = lineage_of(&n, "paper.ipynb").unwrap();
        assert_eq!(v["lineage"], 1);
        assert_eq!(v["notebook"], "paper.ipynb");
        let inputs = v["inputs"].as_array().unwrap();
        assert_eq!(inputs.len(), 4, "{inputs:?}");
        assert_eq!(inputs[0], json!({"type": "cid", "cid": "bafyin"}));
        assert_eq!(inputs[1], json!({"type": "file", "name": "data.csv", "sha256": "ab"}));
        assert_eq!(inputs[2], json!({"type": "did", "did": "did:op:1"}));
        let text = v.to_string();
        assert!(!text.contains("/home/ada") && !text.contains("token=s") && !text.contains("u:p"), "{text}");
        assert!(!inputs.contains(&json!({"type": "cid", "cid": "bafymid"})), "made by cell 1, not an input");
        let outputs = v["outputs"].as_array().unwrap();
        assert!(outputs.contains(&json!({"type": "cid", "cid": "bafymid"})), "{outputs:?}");
        assert!(outputs.contains(&json!({"type": "tx", "hash": "0x1", "chain_id": 8996})), "{outputs:?}");
    }

    #[test]
    fn no_records_no_lineage_and_lists_are_bounded() {
        assert_eq!(lineage_of(&nb(vec![vec![]]), "x.ipynb"), None);
        let many: Vec<Item> = (0..MAX_ITEMS + 5).map(|i| Item::cid(format!("bafy{i}"))).collect();
        let v = lineage_of(&nb(vec![vec![rec(many, vec![])]]), "x.ipynb").unwrap();
        assert_eq!(v["inputs"].as_array().unwrap().len(), MAX_ITEMS);
        assert_eq!(v["inputs_not_listed"], 5);
        assert!(v.get("outputs_not_listed").is_none());
    }
}
