//! `kelp verify`: check a notebook's recorded inputs, re-run it headless with the kelp kernel
//! (Jupyter's nbclient, `jupyter execute`) in a scratch folder, and compare every cell with what
//! it recorded.
//!
//! Compared exactly: the CIDs and file hashes each magic wrote, the magic lines and the sha256 of
//! Rust sources. Compared with a tolerance: the text a cell showed, after masking what differs
//! between two honest runs — ISO timestamps, durations (`0.3 s`, `12ms`), UUIDs and short job
//! ids, and the folders of absolute paths (only the last component is kept). Compute job ids are
//! not compared (a new run makes a new job), their result files are. Cells whose records need a
//! chain or a wallet (`uncheckable`), and the cells that depend on them, are skipped with the
//! reason unless `--network` is given.

use crate::ProvenanceError;
use crate::graph::{Graph, key};
use crate::notebook::{NbCell, Notebook};
use kelp_ipfs::{Store, parse_cid};
use kelp_magic::{Item, Record, sha256_file};
use regex::Regex;
use schemars::JsonSchema;
use serde::Serialize;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// How to verify.
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    /// A bundle to take the notebook (when none is given) and the inputs from.
    pub from: Option<PathBuf>,
    /// Also re-run cells that need a chain or a wallet, and look up the recorded transactions
    /// and DIDs ([`crate::onchain`]).
    pub network: bool,
    /// Where `network` looks them up.
    pub endpoints: crate::onchain::Endpoints,
    /// The kelp binary the re-run's kernel is (default `KELP_BIN`, else this executable).
    pub kelp_bin: Option<PathBuf>,
    /// The `jupyter` program (default `KELP_JUPYTER`, else `jupyter` on PATH).
    pub jupyter: Option<PathBuf>,
    /// Environment for the re-run (KELP_HOME and the session's `%env` changes).
    pub env: Vec<(String, Option<String>)>,
    /// Seconds a cell may run.
    pub timeout: u64,
}

pub use crate::status::InputStatus;

/// One recorded input of the notebook and its state now.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct InputRow {
    #[schemars(with = "crate::record_schema::ItemSchema")]
    pub input: Item,
    #[serde(flatten)]
    pub status: InputStatus,
    /// Cells that read it, directly or through other cells.
    pub dependents: BTreeSet<usize>,
}

/// The verdict on one cell.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum CellStatus {
    /// The re-run wrote and showed what the notebook recorded.
    Reproduced,
    /// What differs, one line each.
    Differs { what: Vec<String> },
    /// Not re-run, and why (a chain or a wallet without `--network`, or downstream of one).
    NotCheckable { why: String },
}

/// One code cell of the notebook and its verdict.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct CellRow {
    /// Cell number (position in the notebook).
    pub cell: usize,
    /// The cell's first line.
    pub source: String,
    #[serde(flatten)]
    pub status: CellStatus,
}

/// What `verify` found (`%verify`'s result; rendered in [`crate::results`]).
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct VerifyReport {
    /// The notebook verified (as named, or its path in the unpacked bundle).
    pub notebook: String,
    /// The notebook's recorded inputs, checked.
    pub inputs: Vec<InputRow>,
    /// Every code cell with records, compared.
    pub cells: Vec<CellRow>,
    /// The transactions and DIDs the notebook recorded, as the chain and the node see them now
    /// (looked up with `--network`, else not checked).
    pub chain: Vec<crate::onchain::FactRow>,
    /// Seconds the headless re-run took.
    pub rerun_seconds: f64,
    /// Nothing changed and every checkable cell reproduced.
    pub ok: bool,
}

/// Verify `notebook` (or the bundle's notebook). `store` is the IPFS store of `KELP_HOME`.
/// The notebook is re-run with `jupyter execute` and the kelp kernel.
pub fn verify(notebook: Option<&Path>, opts: &VerifyOptions, store: &Store) -> Result<VerifyReport, ProvenanceError> {
    verify_with(notebook, opts, store, |nb, work| rerun(nb, opts, work))
}

/// [`verify`] with another executor: `execute(notebook, scratch)` runs the copy at `notebook`
/// (cells not to re-run carry Jupyter's `skip-execution` tag) and returns the executed
/// notebook's path. Everything else (the inputs, the chain, the comparison) is as in `verify`.
pub fn verify_with(
    notebook: Option<&Path>,
    opts: &VerifyOptions,
    store: &Store,
    execute: impl FnOnce(&Path, &Path) -> Result<PathBuf, ProvenanceError>,
) -> Result<VerifyReport, ProvenanceError> {
    let work = tempfile::Builder::new()
        .prefix("kelp-verify-")
        .tempdir()
        .map_err(ProvenanceError::io("cannot create a scratch folder"))?;
    // A bundle's root CID instead of a notebook: its DAG, from the local store, is the bundle.
    let mut from = opts.from.clone();
    let mut notebook = notebook;
    if let Some(cid) = notebook.filter(|n| !n.exists()).and_then(|n| n.file_name()).and_then(|f| f.to_str())
        && from.is_none()
        && kelp_magic::looks_like_cid(cid)
    {
        let root = parse_cid(cid)?;
        let car = work.path().join("bundle.car");
        let mut f = std::fs::File::create(&car).map_err(ProvenanceError::io("cannot write a scratch CAR"))?;
        kelp_ipfs::car::export(store, &root, &mut f).map_err(|e| {
            ProvenanceError::Ipfs(format!(
                "bundle {cid} is not whole in the local IPFS store ({e}): import its CAR first (%ipfs car import paper.car) or use --from paper.car"
            ))
        })?;
        from = Some(car);
        notebook = None;
    }
    let (nb_path, src_dir) = match (&from, notebook) {
        (Some(car), given) => {
            let p = crate::bundle::unpack(car, store, work.path())?;
            match given {
                Some(n) => {
                    let to = work.path().join(n.file_name().unwrap_or_default());
                    std::fs::copy(n, &to).map_err(ProvenanceError::io(format!("cannot read {}", n.display())))?;
                    (to, None)
                }
                None => (p, None),
            }
        }
        (None, Some(n)) => {
            let to = work.path().join(n.file_name().unwrap_or_default());
            std::fs::copy(n, &to).map_err(ProvenanceError::io(format!("cannot read {}", n.display())))?;
            (to, Some(n.parent().unwrap_or(Path::new(".")).to_path_buf()))
        }
        (None, None) => {
            return Err(ProvenanceError::Notebook(
                "name a notebook to verify, or a bundle with --from paper.car".into(),
            ));
        }
    };
    let name = notebook.map(|n| n.display().to_string()).unwrap_or_else(|| nb_path.display().to_string());
    let original = Notebook::read(&nb_path)?;
    if !original.has_records() {
        return Err(ProvenanceError::NoRecords(name));
    }
    let graph = Graph::build(original.cells.iter().map(|c| (c.index, c.records.clone())));
    let inputs = check_inputs(&graph, work.path(), src_dir.as_deref(), store, opts.network)?;
    let facts = crate::onchain::facts(
        original
            .cells
            .iter()
            .flat_map(|c| c.records.iter().map(move |r| (c.index, r)))
            .flat_map(|(i, r)| [(i, r.reads.as_slice()), (i, r.writes.as_slice())]),
    );
    let chain = if opts.network {
        crate::onchain::check(facts, &opts.endpoints)
    } else {
        facts
            .into_values()
            .map(|(fact, cells)| crate::onchain::FactRow {
                fact,
                status: InputStatus::NotChecked { reason: "on a chain: --network looks it up".into() },
                cells,
            })
            .collect()
    };

    // Cells that need a chain or a wallet, and everything downstream of them, are not re-run.
    let mut skipped: Vec<(usize, String)> = vec![];
    if !opts.network {
        for c in &graph.cells {
            if let Some(why) = c.records.iter().find_map(|r| r.uncheckable.clone()) {
                skipped.push((c.cell, format!("{why} (--network re-runs it)")));
            } else if let Some((d, _)) = skipped.iter().find(|(s, _)| c.depends_on.contains(s)) {
                skipped.push((c.cell, format!("depends on cell {d}, which was not re-run")));
            }
        }
    }
    tag_skipped(&nb_path, &skipped.iter().map(|(c, _)| *c).collect::<Vec<_>>())?;
    let started = std::time::Instant::now();
    let rerun_path = execute(&nb_path, work.path())?;
    let rerun_seconds = started.elapsed().as_secs_f64();
    let rerun = Notebook::read(&rerun_path)?;

    let mut cells = vec![];
    for o in &original.cells {
        let status = match skipped.iter().find(|(c, _)| *c == o.index) {
            Some((_, why)) => CellStatus::NotCheckable { why: why.clone() },
            None => match rerun.cells.iter().find(|n| n.index == o.index) {
                None => CellStatus::Differs { what: vec!["the re-run has no such cell".into()] },
                Some(n) => compare(o, n),
            },
        };
        let source = o.source.lines().next().unwrap_or("").chars().take(60).collect();
        cells.push(CellRow { cell: o.index, source, status });
    }
    let ok = inputs.iter().all(|i| matches!(i.status, InputStatus::Ok | InputStatus::NotChecked { .. }))
        && cells.iter().all(|c| !matches!(c.status, CellStatus::Differs { .. }))
        && chain.iter().all(|f| matches!(f.status, InputStatus::Ok | InputStatus::NotChecked { .. }));
    Ok(VerifyReport { notebook: name, inputs, cells, chain, rerun_seconds, ok })
}

/// Check each input: files against their sha256 (copied from `src_dir` into `work` when not
/// from a bundle), CIDs by reading every block of their DAG from the store (with `network`, a
/// CID the store lacks is fetched from the gateways first, every block verified).
fn check_inputs(
    graph: &Graph,
    work: &Path,
    src_dir: Option<&Path>,
    store: &Store,
    network: bool,
) -> Result<Vec<InputRow>, ProvenanceError> {
    let mut rows = vec![];
    for i in &graph.inputs {
        let status = match &i.item {
            Item::Path { path, sha256 } => {
                let rel = Path::new(path);
                let target = work.join(rel);
                if let Some(src) = src_dir.filter(|_| rel.is_relative()) {
                    let from = src.join(rel);
                    if from.is_file() {
                        if let Some(d) = target.parent() {
                            std::fs::create_dir_all(d)
                                .map_err(ProvenanceError::io(format!("cannot create {}", d.display())))?;
                        }
                        std::fs::copy(&from, &target).map_err(ProvenanceError::io(format!("cannot copy {path}")))?;
                    }
                }
                let at = if rel.is_absolute() { rel.to_path_buf() } else { target };
                match (sha256, sha256_file(&at)) {
                    (None, _) => InputStatus::NotChecked { reason: "a directory: only files are checked".into() },
                    (Some(_), Err(e)) => InputStatus::Missing { detail: format!("cannot read {path}: {e}") },
                    (Some(want), Ok(got)) if &got == want => InputStatus::Ok,
                    (Some(want), Ok(got)) => {
                        InputStatus::Changed { detail: format!("sha256 is {got}, the notebook recorded {want}") }
                    }
                }
            }
            Item::Cid { cid } => match whole(store, cid, network) {
                Ok(()) => InputStatus::Ok,
                Err(e) => InputStatus::Missing { detail: format!("not whole in the local store or the bundle: {e}") },
            },
            _ => InputStatus::NotChecked { reason: "not content-addressed".into() },
        };
        rows.push(InputRow { input: i.item.clone(), status, dependents: graph.dependents(&i.item) });
    }
    Ok(rows)
}

/// Whether every block of `cid` is in the store (fetched from the gateways first with `network`).
fn whole(store: &Store, cid: &str, network: bool) -> Result<(), String> {
    let c = parse_cid(cid).map_err(|e| e.to_string())?;
    if store.walk(&c, |_, _| Ok(())).is_err() && network {
        let g = kelp_ipfs::fetch::Gateways::from_env(|k| std::env::var(k).ok(), &[]).map_err(|e| e.to_string())?;
        kelp_ipfs::fetch::fetch_blocking(&g, store, &c, kelp_ipfs::fetch::Scope::All).map_err(|e| e.to_string())?;
    }
    store.walk(&c, |_, _| Ok(())).map_err(|e| e.to_string())
}

/// Mark cells with Jupyter's `skip-execution` tag (nbclient does not run them).
fn tag_skipped(nb_path: &Path, cells: &[usize]) -> Result<(), ProvenanceError> {
    if cells.is_empty() {
        return Ok(());
    }
    let bytes = std::fs::read(nb_path).map_err(ProvenanceError::io("cannot read the notebook copy"))?;
    let mut v: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| ProvenanceError::Notebook(format!("not a notebook: {e}")))?;
    for &i in cells {
        let meta = &mut v["cells"][i - 1]["metadata"];
        if !meta.is_object() {
            *meta = serde_json::json!({});
        }
        let tags = meta["tags"].as_array().cloned().unwrap_or_default();
        let mut tags: Vec<serde_json::Value> = tags;
        tags.push("skip-execution".into());
        meta["tags"] = tags.into();
    }
    std::fs::write(nb_path, serde_json::to_vec_pretty(&v).unwrap_or_default())
        .map_err(ProvenanceError::io("cannot write the notebook copy"))
}

/// Run the notebook with `jupyter execute` and a kernelspec for this kelp binary; the executed
/// notebook's path.
fn rerun(nb_path: &Path, opts: &VerifyOptions, work: &Path) -> Result<PathBuf, ProvenanceError> {
    let exe = opts
        .kelp_bin
        .clone()
        .or_else(|| std::env::var_os("KELP_BIN").map(PathBuf::from))
        .or_else(|| std::env::current_exe().ok())
        .ok_or_else(|| ProvenanceError::Run("cannot find the kelp binary: set KELP_BIN".into()))?;
    let spec_root = work.join(".kelp-verify-jupyter");
    let spec_dir = spec_root.join("kernels").join("kelp-verify");
    std::fs::create_dir_all(&spec_dir).map_err(ProvenanceError::io("cannot write a kernelspec"))?;
    let spec = serde_json::json!({
        "argv": [exe.to_string_lossy(), "kernel", "--connection-file", "{connection_file}"],
        "display_name": "Rust (kelp, verify)", "language": "rust", "interrupt_mode": "message",
    });
    std::fs::write(spec_dir.join("kernel.json"), spec.to_string())
        .map_err(ProvenanceError::io("cannot write a kernelspec"))?;
    let jupyter = opts
        .jupyter
        .clone()
        .or_else(|| std::env::var_os("KELP_JUPYTER").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("jupyter"));
    let stem = nb_path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let out_base = format!("kelp-rerun-{stem}");
    let mut cmd = std::process::Command::new(&jupyter);
    cmd.arg("execute")
        .arg("--kernel_name=kelp-verify")
        .arg("--allow-errors")
        .arg(format!("--timeout={}", if opts.timeout == 0 { 600 } else { opts.timeout }))
        .arg(format!("--output={out_base}"))
        .arg(nb_path)
        .current_dir(work);
    let jp = match std::env::var_os("JUPYTER_PATH") {
        Some(old) => {
            let mut v = spec_root.clone().into_os_string();
            v.push(":");
            v.push(old);
            v
        }
        None => spec_root.clone().into_os_string(),
    };
    cmd.env("JUPYTER_PATH", jp);
    for (k, v) in &opts.env {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    let out = cmd.output().map_err(|e| {
        ProvenanceError::Run(format!(
            "kelp verify re-runs the notebook with Jupyter's nbclient, but `{} execute` could not start ({e}): install nbclient (pip install nbclient) or set KELP_JUPYTER to the jupyter program",
            jupyter.display()
        ))
    })?;
    let executed = work.join(format!("{out_base}.ipynb"));
    if !out.status.success() || !executed.is_file() {
        let err = String::from_utf8_lossy(&out.stderr);
        let last = err.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("no message");
        return Err(ProvenanceError::Run(format!("re-running the notebook failed: {last}")));
    }
    Ok(executed)
}

/// Compare a recorded cell with its re-run.
fn compare(o: &NbCell, n: &NbCell) -> CellStatus {
    let mut what = vec![];
    if let (Some(e), None) = (&n.error, &o.error) {
        what.push(format!("failed on re-run: {e}"));
    }
    if o.records.len() != n.records.len() {
        what.push(format!("made {} record(s), the notebook holds {}", n.records.len(), o.records.len()));
    }
    for (ro, rn) in o.records.iter().zip(&n.records) {
        if ro.magic != rn.magic {
            what.push(format!(
                "magic line changed: `{}` now `{}`",
                ro.magic.as_deref().unwrap_or("-"),
                rn.magic.as_deref().unwrap_or("-")
            ));
        } else if ro.source_sha256 != rn.source_sha256 {
            what.push("source changed since the notebook ran (sha256 differs)".into());
        }
        let (wo, wn) = (comparable(ro), comparable(rn));
        for item in wo.iter().filter(|i| !wn.contains(i)) {
            let now = wn.iter().find(|x| key(x) == key(item) || same_kind(x, item));
            match now {
                Some(x) => what.push(format!("wrote {}, the notebook recorded {}", x.label(), item.label())),
                None => what.push(format!("did not write {}", item.label())),
            }
        }
    }
    let (to, tn) = (mask(&o.texts.concat()), mask(&n.texts.concat()));
    if to != tn {
        let line = to.lines().zip(tn.lines()).find(|(a, b)| a != b);
        what.push(match line {
            Some((a, b)) => format!("output text differs: `{}` now `{}`", clip(a), clip(b)),
            None => "output text differs in length".into(),
        });
    }
    if what.is_empty() { CellStatus::Reproduced } else { CellStatus::Differs { what } }
}

/// What of a record's writes must be equal in a re-run: CIDs and files exactly, compute jobs by
/// their result CIDs only; DIDs and transactions are never re-made offline.
fn comparable(r: &Record) -> Vec<Item> {
    r.writes
        .iter()
        .filter_map(|w| match w {
            Item::Tx { .. } | Item::Did { .. } => None,
            Item::C2dJob { result_cids, .. } => {
                Some(Item::C2dJob { job_id: String::new(), result_cids: result_cids.clone() })
            }
            other => Some(other.clone()),
        })
        .collect()
}

fn same_kind(a: &Item, b: &Item) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
}

fn clip(s: &str) -> String {
    let c: String = s.chars().take(80).collect();
    if c.len() < s.len() { format!("{c}…") } else { c }
}

/// Text with the parts that differ between honest runs masked (see the module docs).
pub fn mask(text: &str) -> String {
    static RES: OnceLock<Vec<(Regex, &'static str)>> = OnceLock::new();
    let res = RES.get_or_init(|| {
        [
            (r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)?", "<time>"),
            (r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<uuid>"),
            (r"\bjob [0-9a-f]{8}\b", "job <id>"),
            (r"\b\d+(\.\d+)?\s?(ms|µs|us|ns|s|sec|seconds|min)\b", "<duration>"),
            (r"(/[^\s/'\x22<>]+)+/", "…/"),
        ]
        .into_iter()
        .map(|(r, to)| (Regex::new(r).expect("valid regex"), to))
        .collect()
    });
    res.iter().fold(text.to_string(), |t, (re, to)| re.replace_all(&t, *to).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(records: Vec<Record>, text: &str) -> NbCell {
        NbCell {
            index: 3,
            execution_count: Some(1),
            source: String::new(),
            texts: vec![text.into()],
            error: None,
            records,
        }
    }

    #[test]
    fn compare_names_what_differs() {
        let add = |cid: &str| Record::magic().with_call("%", "ipfs", "add d.csv", None).wrote(Item::cid(cid));
        assert_eq!(
            compare(&cell(vec![add("QmA")], "added QmA"), &cell(vec![add("QmA")], "added QmA")),
            CellStatus::Reproduced
        );
        let CellStatus::Differs { what } =
            compare(&cell(vec![add("QmA")], "added QmA"), &cell(vec![add("QmB")], "added QmB"))
        else {
            panic!("a new CID differs")
        };
        assert!(what[0].contains("wrote cid QmB, the notebook recorded cid QmA"), "{what:?}");
        assert!(what[1].contains("output text differs"), "{what:?}");
        let CellStatus::Differs { what } =
            compare(&cell(vec![Record::rust("a")], ""), &cell(vec![Record::rust("b")], ""))
        else {
            panic!("an edited source differs")
        };
        assert_eq!(what, vec!["source changed since the notebook ran (sha256 differs)"]);
        // A new job id with the same results, and a later timestamp, still reproduce.
        let job = |id: &str| Record::magic().wrote(Item::C2dJob { job_id: id.into(), result_cids: vec![] });
        assert_eq!(
            compare(
                &cell(vec![job("j1")], "job 0a1b2c3d done at 2026-01-01T00:00:00Z"),
                &cell(vec![job("j2")], "job 9f8e7d6c done at 2026-02-02T10:00:00Z")
            ),
            CellStatus::Reproduced
        );
        let mut failed = cell(vec![], "");
        failed.error = Some("Panic: boom".into());
        assert!(
            matches!(compare(&cell(vec![], ""), &failed), CellStatus::Differs { what } if what[0].contains("failed on re-run: Panic: boom"))
        );
    }
}
