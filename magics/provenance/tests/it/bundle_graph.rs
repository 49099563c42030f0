//! The graph, the bundle and its unpacking on a real IPFS store, from a notebook whose records
//! are what the kernel writes (the executed example notebook is checked by
//! kernel/tests/python/test_provenance.py).

use kelp_ipfs::{AddOptions, Store};
use kelp_magic::{Item, Record, sha256_hex};
use kelp_provenance::bundle::{bundle, unpack};
use kelp_provenance::graph::Graph;
use kelp_provenance::notebook::Notebook;
use kelp_provenance::verify::mask;
use serde_json::json;
use std::path::Path;

fn output(r: &Record, text: &str) -> serde_json::Value {
    json!({"output_type": "display_data", "data": {"text/plain": text}, "metadata": {"kelp": r.to_json()}})
}

/// A notebook: cell 1 adds data.csv (binds `cid`), cell 2 reads the input CID `ext`, cell 3 is
/// Rust using `cid`, cell 4 is markdown, cell 5 has no record.
pub(crate) fn write_notebook(dir: &Path, ext: &str) -> (std::path::PathBuf, String) {
    std::fs::write(dir.join("data.csv"), "x,y\n1,2\n").unwrap();
    let store = Store::open(&dir.join("home/ipfs")).unwrap();
    let cid = store.add_path(&dir.join("data.csv"), &AddOptions::default()).unwrap().cid.to_string();
    let mut add = Record::magic()
        .read(Item::Path { path: "data.csv".into(), sha256: Some(sha256_hex(b"x,y\n1,2\n")) })
        .wrote(Item::cid(&cid))
        .with_call("%", "ipfs", "add data.csv", None);
    add.binds = Some("cid".into());
    let cat = Record::magic().read(Item::cid(ext)).with_call("%", "ipfs", &format!("cat {ext}"), None);
    let mut rust = Record::rust("println!(\"{}\", cid);");
    rust.uses = vec!["cid".into()];
    let nb = json!({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "code", "source": "let cid = %ipfs add data.csv", "metadata": {}, "execution_count": 1, "outputs": [output(&add, &cid)]},
        {"cell_type": "code", "source": format!("%ipfs cat {ext}"), "metadata": {}, "execution_count": 2, "outputs": [output(&cat, "hello")]},
        {"cell_type": "code", "source": ["println!(\"{}\", ", "cid);"], "metadata": {}, "execution_count": 3, "outputs": [output(&rust, "x")]},
        {"cell_type": "markdown", "source": "# notes", "metadata": {}},
        {"cell_type": "code", "source": "1 + 1", "metadata": {}, "execution_count": 4, "outputs": [{"output_type": "execute_result", "data": {"text/plain": "2"}, "metadata": {}, "execution_count": 4}]},
    ]});
    let p = dir.join("paper.ipynb");
    std::fs::write(&p, serde_json::to_vec_pretty(&nb).unwrap()).unwrap();
    (p, cid)
}

#[test]
fn graph_links_inputs_cells_and_variables() {
    let d = tempfile::tempdir().unwrap();
    let store = Store::open(&d.path().join("home/ipfs")).unwrap();
    let ext = store.add_bytes(b"hello", &AddOptions::default()).unwrap().cid.to_string();
    let (p, cid) = write_notebook(d.path(), &ext);
    let nb = Notebook::read(&p).unwrap();
    assert_eq!(nb.cells.iter().map(|c| c.index).collect::<Vec<_>>(), vec![1, 2, 3, 5]);
    assert_eq!(nb.cells[2].source, "println!(\"{}\", cid);");
    let g = Graph::build(nb.cells.iter().map(|c| (c.index, c.records.clone())));
    assert_eq!(g.inputs.len(), 2, "{g:?}");
    let csv = Item::Path { path: "data.csv".into(), sha256: Some(sha256_hex(b"x,y\n1,2\n")) };
    assert_eq!(g.dependents(&csv).into_iter().collect::<Vec<_>>(), vec![1, 3], "the Rust cell uses `cid`");
    assert_eq!(g.dependents(&Item::cid(&ext)).into_iter().collect::<Vec<_>>(), vec![2]);
    let text = g.to_text();
    assert!(text.contains("path data.csv") && text.contains(&format!("wrote cid {cid}")), "{text}");
    assert!(g.to_html().contains(&format!("https://ipfs.io/ipfs/{cid}")));
    assert_eq!(g.to_json()["cells"][2]["depends_on"], json!([1]));
    let svg = g.to_svg();
    assert!(svg.starts_with("<svg") && svg.ends_with("</svg>") && svg.contains("path data.csv"), "{svg}");
    assert_eq!(svg.matches("<line").count(), 3, "two reads of inputs, one write: {svg}");
    assert_eq!(svg.matches("<path").count(), 1, "cell 3 depends on cell 1: {svg}");
    assert!(g.to_html().contains("<svg"));
}

#[test]
fn bundle_then_unpack_into_a_fresh_store() {
    let d = tempfile::tempdir().unwrap();
    let store = Store::open(&d.path().join("home/ipfs")).unwrap();
    let ext = store.add_bytes(b"hello", &AddOptions::default()).unwrap().cid.to_string();
    let (p, _) = write_notebook(d.path(), &ext);
    let car = d.path().join("paper.car");
    let r = bundle(&p, &store, &car).unwrap();
    assert_eq!(r.files, vec!["data.csv"]);
    assert_eq!(r.cids, vec![ext.clone()]);
    assert!(r.root.starts_with("Qm"));
    // A second bundle of the same notebook has the same root (content addressing).
    let r2 = bundle(&p, &store, &d.path().join("again.car")).unwrap();
    assert_eq!(r2.root, r.root);
    assert!(bundle(&p, &store, &car).unwrap_err().to_string().contains("exists already"));

    let fresh = tempfile::tempdir().unwrap();
    let store2 = Store::open(&fresh.path().join("ipfs")).unwrap();
    let work = fresh.path().join("work");
    let nb = unpack(&car, &store2, &work).unwrap();
    assert_eq!(std::fs::read(&nb).unwrap(), std::fs::read(&p).unwrap());
    assert_eq!(std::fs::read_to_string(work.join("data.csv")).unwrap(), "x,y\n1,2\n");
    assert_eq!(store2.cat(&kelp_ipfs::parse_cid(&ext).unwrap()).unwrap(), b"hello");

    // One flipped byte in the CAR: the import refuses it, naming the bundle.
    let mut bytes = std::fs::read(&car).unwrap();
    let at = bytes.windows(5).position(|w| w == b"hello").expect("the input's bytes are in the CAR");
    bytes[at] ^= 1;
    let bad = d.path().join("bad.car");
    std::fs::write(&bad, bytes).unwrap();
    let store3 = Store::open(&fresh.path().join("ipfs3")).unwrap();
    let e = unpack(&bad, &store3, &fresh.path().join("w3")).unwrap_err().to_string();
    assert!(e.contains("bad.car is damaged") && !e.contains('\n'), "{e}");
}

#[test]
fn changed_input_file_stops_the_bundle_and_no_records_is_one_line() {
    let d = tempfile::tempdir().unwrap();
    let store = Store::open(&d.path().join("home/ipfs")).unwrap();
    let ext = store.add_bytes(b"hello", &AddOptions::default()).unwrap().cid.to_string();
    let (p, _) = write_notebook(d.path(), &ext);
    std::fs::write(d.path().join("data.csv"), "x,y\n1,3\n").unwrap();
    let e = bundle(&p, &store, &d.path().join("o.car")).unwrap_err().to_string();
    assert!(e.contains("input data.csv changed since the notebook ran"), "{e}");
    assert!(!d.path().join("o.car").exists());

    let plain = d.path().join("plain.ipynb");
    std::fs::write(&plain, r#"{"cells": [{"cell_type": "code", "source": "1", "outputs": []}], "nbformat": 4}"#)
        .unwrap();
    let e = bundle(&plain, &store, &d.path().join("p.car")).unwrap_err().to_string();
    assert!(e.contains("has no kelp records") && !e.contains('\n'), "{e}");
    let e = Notebook::read(&d.path().join("data.csv")).unwrap_err().to_string();
    assert!(e.contains("is not a notebook"), "{e}");
}

#[test]
fn masking_keeps_results_and_drops_run_noise() {
    let a = "job 1a2b3c4d  70 Job finished  0.3 s at 2026-12-05T07:00:01.5Z in /tmp/x/c2d-results/stats.json\nmean 6";
    let b = "job 9f8e7d6c  70 Job finished  1.25 s at 2026-12-06T08:00:00Z in /home/y/c2d-results/stats.json\nmean 6";
    assert_eq!(mask(a), mask(b));
    assert_ne!(mask("mean 6"), mask("mean 7"));
}
