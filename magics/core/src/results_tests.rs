//! The built-ins' typed results: committed schemas equal the types, and every rendering is
//! snapshotted (src/snapshots/).

use crate::testing::{Cell, check_result_schemas};
use crate::{EnvMagic, FileMagic, Magic, ResultSchema};
use std::path::Path;
use std::sync::Arc;

/// Every result type of kelp-magic, by family.
fn schemas() -> Vec<(&'static str, Vec<ResultSchema>)> {
    use crate::builtins::{EnvList, EnvSet, EnvVar, FileWritten};
    vec![
        ("env", vec![ResultSchema::of::<EnvList>(), ResultSchema::of::<EnvVar>(), ResultSchema::of::<EnvSet>()]),
        ("file", vec![ResultSchema::of::<FileWritten>()]),
        ("lsmagic", vec![ResultSchema::of::<crate::registry::Lsmagic>()]),
    ]
}

#[test]
fn result_schemas_are_committed() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/schema/results");
    for (family, list) in schemas() {
        check_result_schemas(&dir, family, "kelp-magic", &list);
    }
}

fn cell() -> Cell {
    Cell::new([Arc::new(EnvMagic) as Arc<dyn Magic>, Arc::new(FileMagic)])
}

#[tokio::test]
async fn env_results() {
    let c = cell();
    let set = c.ok("env KELP_SNAP_REEF=coral").await;
    crate::assert_result_snapshot!("env_set", &set, c);
    c.ok("env KELP_SNAP_TOKEN=s3cr3t").await;
    let get = c.ok("env KELP_SNAP_REEF").await;
    crate::assert_result_snapshot!("env_get", &get, c);
    // The list holds the process environment too: keep the cell's own variables only.
    let all = c.ok("env").await;
    let vars = all.json().and_then(|j| j.as_object()).expect("a JSON object of variables");
    let mine: std::collections::BTreeMap<String, String> = vars
        .iter()
        .filter(|(k, _)| k.starts_with("KELP_SNAP_"))
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
        .collect();
    let listed = crate::builtins::EnvList { vars: mine };
    assert!(all.plain().unwrap().contains(&crate::MagicResult::text(&listed)), "{all:?}");
    crate::assert_result_snapshot!("env_list", &crate::MagicResult::output(&listed), c);
    assert!(!format!("{all:?}").contains("s3cr3t"));
}

#[tokio::test]
async fn file_and_lsmagic_results() {
    let c = cell();
    let w = c.run_cell("file notes/a.txt", "one\n").await.unwrap();
    crate::assert_result_snapshot!("file_write", &w, c);
    let a = c.run_cell("file -a notes/a.txt", "two\n").await.unwrap();
    crate::assert_result_snapshot!("file_append", &a, c);
    let ls = c.ok("lsmagic").await;
    crate::assert_result_snapshot!("lsmagic_list", &ls, c);
}
