//! `%provenance`, `%bundle` and `%verify` (also `kelp provenance|bundle|verify …` from a
//! shell, through the kernel's magic front end), and the session log `%provenance` reads.

use crate::ProvenanceError;
use crate::bundle::bundle;
use crate::graph::Graph;
use crate::notebook::Notebook;
use crate::results::GraphResult;
use crate::verify::{VerifyOptions, verify};
use async_trait::async_trait;
use clap::{Arg, ArgAction, Command};
use kelp_magic::{Magic, MagicCall, MagicContext, MagicError, MagicResult, Output, Record, Result, parse_matches};
use std::sync::{Mutex, OnceLock};

/// The records of this process's session, in run order, with the cell (execution count) each
/// came from. The kernel adds to it; `%provenance` reads it.
#[derive(Debug, Default)]
pub struct SessionLog(Mutex<Vec<(usize, Record)>>);

impl SessionLog {
    pub fn push(&self, cell: usize, r: Record) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push((cell, r));
    }
    /// The records grouped by cell, in run order (a cell run twice appears twice).
    pub fn cells(&self) -> Vec<(usize, Vec<Record>)> {
        let mut out: Vec<(usize, Vec<Record>)> = vec![];
        for (c, r) in self.0.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            match out.last_mut() {
                Some((last, rs)) if last == c => rs.push(r.clone()),
                _ => out.push((*c, vec![r.clone()])),
            }
        }
        out
    }
}

/// The session log of this process.
pub fn session() -> &'static SessionLog {
    static LOG: OnceLock<SessionLog> = OnceLock::new();
    LOG.get_or_init(SessionLog::default)
}

/// The graph's bundle; with `svg`, its picture is also written there.
fn graph_output(r: GraphResult, svg: Option<std::path::PathBuf>) -> Result<Output> {
    if let Some(p) = svg {
        std::fs::write(&p, r.graph.to_svg())
            .map_err(|e| MagicError::failed(format!("%provenance: cannot write {}: {e}", p.display())))?;
    }
    Ok(r.output())
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> std::result::Result<T, ProvenanceError> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| MagicError::failed(format!("worker failed: {e}")))?
        .map_err(MagicError::from)
}

/// `%provenance [NOTEBOOK]`.
#[derive(Debug, Default)]
pub struct ProvenanceMagic;

#[async_trait]
impl Magic for ProvenanceMagic {
    fn name(&self) -> &'static str {
        "provenance"
    }
    fn summary(&self) -> &'static str {
        "Show what the session's cells (or a saved notebook's) read and wrote: inputs → cells → outputs."
    }
    fn command(&self) -> Command {
        Command::new("provenance")
            .about("The provenance graph of this session, or of a saved notebook: inputs (CIDs, files + sha256, DIDs, URLs) → cells → outputs (CIDs, files, DIDs, transactions, jobs).")
            .arg(Arg::new("notebook").value_name("NOTEBOOK.ipynb").help("A saved notebook (default: this session)"))
            .arg(Arg::new("svg").long("svg").value_name("FILE.svg").help("Also write the graph as an SVG picture"))
    }
    async fn run(&self, call: MagicCall, ctx: &MagicContext) -> Result<Output> {
        let m = parse_matches(self.command(), &call)?;
        let svg = m.get_one::<String>("svg").map(|p| ctx.resolve(p));
        match m.get_one::<String>("notebook") {
            None => {
                let cells = session().cells();
                if cells.is_empty() {
                    // Nothing to draw: the note (and the empty graph's JSON), no picture written.
                    return Ok(GraphResult::new("this session", Graph::default()).output());
                }
                graph_output(GraphResult::new("this session", Graph::build(cells)), svg)
            }
            Some(p) => {
                let path = ctx.resolve(p);
                let name = p.clone();
                let g = blocking(move || {
                    let nb = Notebook::read(&path)?;
                    if !nb.has_records() {
                        return Err(ProvenanceError::NoRecords(name));
                    }
                    Ok(Graph::build(nb.cells.into_iter().map(|c| (c.index, c.records))))
                })
                .await?;
                graph_output(GraphResult::new(p.clone(), g), svg)
            }
        }
    }
}

/// `%bundle NOTEBOOK -o OUT.car`.
#[derive(Debug, Default)]
pub struct BundleMagic;

#[async_trait]
impl Magic for BundleMagic {
    fn name(&self) -> &'static str {
        "bundle"
    }
    fn summary(&self) -> &'static str {
        "Put a notebook and every input it recorded into one CAR with one root CID."
    }
    fn command(&self) -> Command {
        Command::new("bundle")
            .about("Write NOTEBOOK and the inputs its records name (files next to it, CIDs from the local IPFS store) as one UnixFS directory in a CAR v1; its root CID is what a paper cites.")
            .arg(Arg::new("notebook").required(true).value_name("NOTEBOOK.ipynb"))
            .arg(Arg::new("output").short('o').long("output").required(true).value_name("OUT.car").help("The CAR to write (must not exist)"))
    }
    async fn run(&self, call: MagicCall, ctx: &MagicContext) -> Result<Output> {
        let m = parse_matches(self.command(), &call)?;
        let nb = ctx.resolve(m.get_one::<String>("notebook").expect("required"));
        let car = ctx.resolve(m.get_one::<String>("output").expect("required"));
        let config = ctx.config.clone();
        let r = blocking(move || {
            let store = kelp_ipfs::Store::open_default(&config)?;
            bundle(&nb, &store, &car)
        })
        .await?;
        Ok(r.output())
    }
}

/// `%verify [NOTEBOOK] [--from CAR] [--network]`.
#[derive(Debug, Default)]
pub struct VerifyMagic;

#[async_trait]
impl Magic for VerifyMagic {
    fn name(&self) -> &'static str {
        "verify"
    }
    fn summary(&self) -> &'static str {
        "Re-run a notebook headless from its recorded inputs and compare every cell (fails on any difference)."
    }
    fn command(&self) -> Command {
        Command::new("verify")
            .about("Check NOTEBOOK's recorded inputs (files by sha256, CIDs block by block), re-run it headless with the kelp kernel in a scratch folder, and compare each cell with its records; prints a table and fails if anything differs.")
            .arg(Arg::new("notebook").value_name("NOTEBOOK.ipynb|CID").help("The notebook, or the root CID of a bundle in the local IPFS store (default: the bundle's notebook)"))
            .arg(Arg::new("from").long("from").value_name("BUNDLE.car").help("Take the inputs (and the notebook) from a bundle made by kelp bundle"))
            .arg(Arg::new("network").long("network").action(ArgAction::SetTrue).help("Also re-run cells that need a chain or a wallet, fetch input CIDs missing here from the IPFS gateways, and look up every recorded transaction (KELP_RPC_URL or the devnet) and DID (KELP_OCEAN_NODE_URL or the devnet's node)"))
            .arg(Arg::new("timeout").long("timeout").value_name("SECS").value_parser(clap::value_parser!(u64)).help("Seconds a cell may run (default 600)"))
    }
    async fn run(&self, call: MagicCall, ctx: &MagicContext) -> Result<Output> {
        let m = parse_matches(self.command(), &call)?;
        let nb = m.get_one::<String>("notebook").map(|p| ctx.resolve(p));
        if nb.is_none() && !m.contains_id("from") {
            return Err(MagicError::Usage(
                "%verify: name a notebook, or a bundle with --from paper.car (see %verify?)".into(),
            ));
        }
        let mut env: Vec<(String, Option<String>)> = ctx.env.changes().into_iter().collect();
        env.push(("KELP_HOME".into(), Some(ctx.config.home.to_string_lossy().into_owned())));
        let opts = VerifyOptions {
            from: m.get_one::<String>("from").map(|p| ctx.resolve(p)),
            network: m.get_flag("network"),
            endpoints: crate::onchain::Endpoints::discover(|k| ctx.env.get(k), &ctx.config.home),
            timeout: m.get_one::<u64>("timeout").copied().unwrap_or(600),
            env,
            ..VerifyOptions::default()
        };
        let config = ctx.config.clone();
        let report = blocking(move || {
            let store = kelp_ipfs::Store::open_default(&config)?;
            verify(nb.as_deref(), &opts, &store)
        })
        .await?;
        if let Some(failure) = report.failure() {
            ctx.print(&report.to_text());
            return Err(MagicError::failed(failure));
        }
        Ok(report.output())
    }
}
