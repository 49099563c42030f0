//! Snapshots of `%provenance`, `%bundle` and `%verify`'s results, all three renderings (text,
//! HTML with the graph's SVG, JSON) in one `.snap` per case under tests/it/snapshots/ (insta;
//! CIDs, hashes, times and temporary paths redacted). A changed rendering fails;
//! `cargo insta review` accepts it.
//!
//! `%provenance` and `%bundle` run as cells on a real IPFS store. `%verify`'s report is built by
//! `verify_with` on the same store and notebook with every step but the re-run (inputs checked,
//! chain facts listed, cells compared); the re-run is the notebook as the kernel saved it (all
//! reproduced) or with another CID written by its first cell (the failure path). The re-run by
//! `jupyter execute` and the kelp kernel is tested by tests/python/test_paper.py.

use crate::bundle_graph::write_notebook;
use kelp_ipfs::{AddOptions, Store};
use kelp_magic::testing::Cell;
use kelp_magic::{Item, MagicResult, Record, assert_result_snapshot};
use kelp_provenance::verify::{VerifyOptions, VerifyReport, verify_with};
use std::path::{Path, PathBuf};

/// The re-run's duration.
const RERUN: (&str, &str) = (r"re-run \d+\.\d s|\x22rerun_seconds\x22: [0-9.e-]+", "[RERUN]");

/// kelp's version in the records, and the CAR's size (it holds the records).
const VERSION: (&str, &str) = (r#""kelp": "[^"]+""#, r#""kelp": "[VERSION]""#);
const CAR_BYTES: (&str, &str) = (r#"\d+ bytes|"bytes": \d+"#, "[BYTES]");

fn cell(dir: &Path) -> Cell {
    Cell::at(dir, kelp_provenance::magics())
}

/// The notebook of bundle_graph.rs, with an input CID `ext` only the store holds.
fn setup() -> (tempfile::TempDir, PathBuf, String, String) {
    let d = tempfile::tempdir().unwrap();
    let store = Store::open(&d.path().join("home/ipfs")).unwrap();
    let ext = store.add_bytes(b"hello", &AddOptions::default()).unwrap().cid.to_string();
    drop(store);
    let (p, cid) = write_notebook(d.path(), &ext);
    (d, p, cid, ext)
}

#[tokio::test]
async fn provenance_of_the_session_and_of_a_notebook() {
    let (d, _p, cid, _) = setup();
    let c = cell(d.path());
    // The session log is this process's: only this test fills it.
    let empty = c.ok("provenance").await;
    assert_eq!(empty.json().unwrap()["cells"], serde_json::json!([]));
    assert_result_snapshot!("provenance_session_empty", &empty, c);
    let add = Record::magic().read(Item::cid("QmQRiXcmgocXXUZHXdndiE9LSKM45YJnCFsyjjPmg2p8MN")).wrote(Item::cid(&cid));
    kelp_provenance::session().push(2, add.with_call("%", "ipfs", "add data.csv", None));
    let session = c.ok("provenance").await;
    assert!(session.plain().unwrap().starts_with("provenance of this session\n"), "{session:?}");
    assert_result_snapshot!("provenance_session", &session, c, [VERSION]);

    let nb = c.ok("provenance paper.ipynb --svg graph.svg").await;
    let svg = std::fs::read_to_string(d.path().join("graph.svg")).unwrap();
    assert!(nb.data["text/html"].as_str().unwrap().contains(&svg), "the picture written is the one shown");
    assert_eq!(nb.json().unwrap()["cells"][2]["depends_on"], serde_json::json!([1]));
    assert_result_snapshot!("provenance_notebook", &nb, c, [VERSION]);
}

#[tokio::test]
async fn bundle_a_notebook() {
    let (d, _p, _, ext) = setup();
    let c = cell(d.path());
    let out = c.ok("bundle paper.ipynb -o paper.car").await;
    let j = out.json().unwrap();
    assert_eq!(j["cids"], serde_json::json!([ext]));
    assert_eq!(out.value.as_ref().unwrap().expr, format!("String::from({:?})", j["root"].as_str().unwrap()));
    assert_result_snapshot!("bundle", &out, c, [CAR_BYTES]);
}

/// `verify_with` on the notebook, its re-run being the saved notebook with `edit` applied.
fn verify_edited(nb: &Path, home: &Path, edit: impl Fn(String) -> String) -> VerifyReport {
    let store = Store::open(&home.join("ipfs")).unwrap();
    verify_with(Some(nb), &VerifyOptions::default(), &store, |copy, work| {
        let out = work.join("rerun.ipynb");
        std::fs::write(&out, edit(std::fs::read_to_string(copy).unwrap())).unwrap();
        Ok(out)
    })
    .unwrap()
}

#[tokio::test]
async fn verify_reproduced_and_not() {
    let (d, p, cid, _) = setup();
    let c = cell(d.path());
    let home = d.path().join("home");
    let ok = verify_edited(&p, &home, |s| s);
    assert!(ok.ok && ok.failure().is_none(), "{}", ok.to_text());
    assert_result_snapshot!("verify_reproduced", &ok.output(), c, [RERUN]);

    // The first cell now writes another CID, and the input file changed: the failure path.
    let other = "QmPnnvFkvSCmPvMdMtSNbXrFWQX5XYc4YkcVU4cujyyH8Z";
    std::fs::write(d.path().join("data.csv"), "x,y\n1,3\n").unwrap();
    let bad = verify_edited(&p, &home, |s| s.replace(&cid, other));
    assert!(!bad.ok, "{}", bad.to_text());
    let failure = bad.failure().unwrap();
    assert!(failure.contains("1 cell(s) differ") && !failure.contains('\n'), "{failure}");
    // What %verify shows then: the table printed, then the one-line error.
    let shown = kelp_magic::Output::text(format!("{}--- error\n{failure}", bad.to_text()));
    assert_result_snapshot!("verify_failed", &shown, c, [RERUN]);
    assert_result_snapshot!("verify_failed_report", &bad.output(), c, [RERUN]);
}
