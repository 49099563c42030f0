//! `kelp bundle`: a notebook and every input it recorded as one UnixFS directory, written as a
//! CAR v1 with that directory as its one root (a CID a paper can cite):
//!
//! ```text
//! <root>/NOTEBOOK.ipynb     the notebook as saved
//! <root>/files/<path>       each recorded input file (relative to the notebook), checked
//!                           against its recorded sha256 first
//! <root>/ipfs/<cid>         each recorded input CID, linked (its whole DAG is in the CAR)
//! ```
//! URLs and DIDs are not bundled (they are named in the report); outputs the notebook made
//! itself are not inputs and are not bundled.

use crate::ProvenanceError;
use crate::graph::Graph;
use crate::notebook::Notebook;
use kelp_ipfs::importer::{DirChild, Node, build_directory};
use kelp_ipfs::{AddOptions, Cid, Store, parse_cid};
use kelp_magic::{Item, sha256_file};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// Folder of recorded input files in a bundle.
pub const FILES_DIR: &str = "files";
/// Folder of recorded input CIDs in a bundle.
pub const IPFS_DIR: &str = "ipfs";

/// What `bundle` wrote (`%bundle`'s result).
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct BundleReport {
    /// The root CID of the bundle (a directory).
    pub root: String,
    /// The CAR written.
    pub car: String,
    /// The notebook's file name in the bundle.
    pub notebook: String,
    /// Recorded input files, relative to the notebook (under `files/` in the bundle).
    pub files: Vec<String>,
    /// Recorded input CIDs (under `ipfs/` in the bundle).
    pub cids: Vec<String>,
    /// Inputs that are not in the bundle: [what, why].
    pub not_bundled: Vec<(String, String)>,
    /// Blocks in the CAR.
    pub blocks: u64,
    /// Bytes of the CAR.
    pub bytes: u64,
}

/// Bundle the notebook at `nb_path` and its recorded inputs (files next to it, CIDs from
/// `store`) into `car` (which must not exist). Blocks go into `store`; the root is pinned.
pub fn bundle(nb_path: &Path, store: &Store, car: &Path) -> Result<BundleReport, ProvenanceError> {
    let nb = Notebook::read(nb_path)?;
    if !nb.has_records() {
        return Err(ProvenanceError::NoRecords(nb_path.display().to_string()));
    }
    if car.exists() {
        return Err(ProvenanceError::Notebook(format!("{} exists already: give another -o path", car.display())));
    }
    let dir = nb_path.parent().unwrap_or(Path::new("."));
    let graph = Graph::build(nb.cells.iter().map(|c| (c.index, c.records.clone())));
    let opts = AddOptions { pin: false, ..AddOptions::default() };
    let mut files: BTreeMap<String, Node> = BTreeMap::new();
    let mut cids: Vec<DirChild> = vec![];
    let mut not_bundled = vec![];
    for input in &graph.inputs {
        match &input.item {
            Item::Path { path, sha256 } => {
                let p = Path::new(path);
                if p.is_absolute() || path.split('/').any(|s| s == "..") {
                    not_bundled.push((path.clone(), "outside the notebook's folder".into()));
                    continue;
                }
                let full = dir.join(p);
                let Some(want) = sha256 else {
                    not_bundled.push((path.clone(), "a directory (only files are bundled)".into()));
                    continue;
                };
                let got = sha256_file(&full).map_err(ProvenanceError::io(format!("input {path} cannot be read")))?;
                if &got != want {
                    return Err(ProvenanceError::Notebook(format!(
                        "input {path} changed since the notebook ran (sha256 {got}, recorded {want}): restore it or re-run the notebook, then bundle"
                    )));
                }
                let a = store.add_path(&full, &opts)?;
                files.insert(path.clone(), Node { cid: a.cid, tsize: a.tsize, size: a.size });
            }
            Item::Cid { cid } => {
                let c = parse_cid(cid)?;
                store.walk(&c, |_, _| Ok(())).map_err(|e| {
                    ProvenanceError::Ipfs(format!(
                        "input {cid} is not whole in the local IPFS store ({e}): fetch it with %ipfs get or %ipfs car import, then bundle"
                    ))
                })?;
                let st = kelp_ipfs::exporter::stat(store, &c)?;
                cids.push(DirChild {
                    name: cid.clone(),
                    node: Node { cid: c, tsize: st.cumulative_size, size: st.size },
                });
            }
            other => not_bundled
                .push((other.label(), "not content-addressed: fetched from the network when verifying".into())),
        }
    }
    let nb_name =
        nb_path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "notebook.ipynb".into());
    let nb_added = store.add_path(nb_path, &opts)?;
    let (root, _) = store.with_writer(|sink| {
        let mut top = vec![DirChild {
            name: nb_name.clone(),
            node: Node { cid: nb_added.cid, tsize: nb_added.tsize, size: nb_added.size },
        }];
        if !files.is_empty() {
            top.push(DirChild { name: FILES_DIR.into(), node: tree(&files, "", &opts, sink)? });
        }
        if !cids.is_empty() {
            top.push(DirChild { name: IPFS_DIR.into(), node: build_directory(cids.clone(), &opts, sink)? });
        }
        build_directory(top, &opts, sink)
    })?;
    store.pin(&root.cid, Some("kelp bundle"))?;
    let tmp = car.with_extension("car.partial");
    let mut f = std::fs::File::create(&tmp).map_err(ProvenanceError::io(format!("cannot write {}", tmp.display())))?;
    let written = kelp_ipfs::car::export(store, &root.cid, &mut f);
    drop(f);
    let (blocks, bytes) = match written {
        Ok(v) => v,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            return Err(e.into());
        }
    };
    std::fs::rename(&tmp, car).map_err(ProvenanceError::io(format!("cannot write {}", car.display())))?;
    Ok(BundleReport {
        root: root.cid.to_string(),
        car: car.display().to_string(),
        notebook: nb_name,
        files: files.keys().cloned().collect(),
        cids: cids.iter().map(|c| c.name.clone()).collect(),
        not_bundled,
        blocks,
        bytes,
    })
}

/// The directory node of the files below `prefix` (paths split at `/`).
fn tree(
    files: &BTreeMap<String, Node>,
    prefix: &str,
    opts: &AddOptions,
    sink: &mut dyn kelp_ipfs::importer::BlockSink,
) -> Result<Node, kelp_ipfs::IpfsError> {
    let mut children = vec![];
    let mut subdirs: Vec<String> = vec![];
    for (path, node) in files.range(prefix.to_string()..) {
        let Some(rest) = path.strip_prefix(prefix) else { break };
        match rest.split_once('/') {
            None => children.push(DirChild { name: rest.to_string(), node: node.clone() }),
            Some((d, _)) if !subdirs.iter().any(|s| s == d) => subdirs.push(d.to_string()),
            Some(_) => {}
        }
    }
    for d in subdirs {
        let node = tree(files, &format!("{prefix}{d}/"), opts, sink)?;
        children.push(DirChild { name: d, node });
    }
    build_directory(children, opts, sink)
}

/// Unpack a bundle CAR into `store` and `work`: the notebook and its input files are written
/// below `work`, input CIDs stay in the store. Returns the notebook's path in `work`.
pub fn unpack(car: &Path, store: &Store, work: &Path) -> Result<std::path::PathBuf, ProvenanceError> {
    let f =
        std::fs::File::open(car).map_err(ProvenanceError::io(format!("cannot read the bundle {}", car.display())))?;
    let mut r = std::io::BufReader::new(f);
    let imported = kelp_ipfs::car::import(store, &mut r, true, &mut |_| Ok(()))
        .map_err(|e| ProvenanceError::Ipfs(format!("the bundle {} is damaged: {e}", car.display())))?;
    let root: Cid = match imported.roots.as_slice() {
        [one] if imported.complete_roots.contains(one) => *one,
        [one] => {
            return Err(ProvenanceError::Ipfs(format!("the bundle {} lacks blocks of its root {one}", car.display())));
        }
        _ => {
            return Err(ProvenanceError::Ipfs(format!(
                "{} is not a kelp bundle (it must have one root)",
                car.display()
            )));
        }
    };
    let entries = kelp_ipfs::exporter::ls(store, &root)?;
    let nb = entries.iter().find(|e| e.name.ends_with(".ipynb")).ok_or_else(|| {
        ProvenanceError::Notebook(format!("{} is not a kelp bundle: no notebook at its root {root}", car.display()))
    })?;
    std::fs::create_dir_all(work).map_err(ProvenanceError::io(format!("cannot create {}", work.display())))?;
    let nb_path = work.join(&nb.name);
    store.get(&parse_cid(&nb.cid)?, &nb_path)?;
    if let Some(files) = entries.iter().find(|e| e.name == FILES_DIR) {
        for e in kelp_ipfs::exporter::ls(store, &parse_cid(&files.cid)?)? {
            store.get(&parse_cid(&e.cid)?, &work.join(&e.name))?;
        }
    }
    Ok(nb_path)
}
