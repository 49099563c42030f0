//! The `%c2d` magic (and `kelp c2d …`): the clap definition, argument parsing into plain
//! data, and dispatch to one module per subcommand group:
//! - [`start`]: `start` (submit, optionally wait with a live display);
//! - [`jobs`]: `status`, `list`, `logs`, `stop`, `envs`;
//! - [`result`]: `result` (outputs into a local folder for the next cell);
//! - [`remote`]: the same verbs for jobs on a remote node (`did:op:` sources);
//! - [`results`]: the typed result of each subcommand (JSON, text and HTML from one value).

mod jobs;
mod record;
mod remote;
mod render;
mod result;
mod results;
mod start;

use crate::{C2dError, Engine, IpfsResolver, RemoteCompute, Resolvers, SourceResolver};
use async_trait::async_trait;
use clap::{Args, CommandFactory, Parser, Subcommand};
use kelp_magic::{Magic, MagicCall, MagicContext, MagicError, Output};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// `%c2d`: compute-to-data jobs in the local bubblewrap sandbox.
#[derive(Parser, Debug)]
#[command(
    name = "c2d",
    about = "Compute-to-data: run an algorithm where the data is (a sandbox with no network); only results come back",
    after_help = "Jobs are journaled under $KELP_HOME/c2d and survive a kernel restart.\nExample: %c2d start --dataset data.csv --algorithm train.py --param epochs=10 --wait"
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub cmd: Cmd,
}

#[derive(Subcommand, Debug)]
pub(crate) enum Cmd {
    /// Start a job: the algorithm runs on the datasets in the sandbox.
    Start(StartArgs),
    /// Show a job's status (the latest job when none is named).
    Status(JobOpt),
    /// Show a job's algorithm log; -f follows it until the job ends.
    Logs(LogsArgs),
    /// Fetch a finished job's results into a local folder (bound as a PathBuf).
    Result(ResultArgs),
    /// Stop a queued or running job.
    Stop(JobArg),
    /// List all jobs.
    List,
    /// List the compute environments: the local sandbox's, and those of the network's Ocean
    /// node (the devnet's when it runs; --network asks that network's node).
    Envs(EnvsArgs),
}

#[derive(Args, Debug)]
pub(crate) struct StartArgs {
    /// Dataset: a file or folder, an IPFS CID, or an Ocean DID (repeat for several); mounted
    /// read-only at /data/inputs/<id>/. With DIDs the job runs on the asset's Ocean node.
    #[arg(long = "dataset", value_name = "PATH|CID|DID", required = true)]
    pub datasets: Vec<String>,
    /// Algorithm: a script or executable, an IPFS CID, or an Ocean DID; placed at
    /// /data/transformations/algorithm.
    #[arg(long, value_name = "PATH|CID|DID")]
    pub algorithm: String,
    /// A parameter for algoCustomData.json (value parsed as JSON when it is JSON).
    #[arg(long = "param", value_name = "K=V")]
    pub params: Vec<String>,
    /// Compute environment id (see %c2d envs).
    #[arg(long, value_name = "ID")]
    pub env: Option<String>,
    /// Resources, e.g. cpu=1,ram=2G,disk=1G (ram bounds memory, disk bounds outputs).
    #[arg(long, value_name = "SPEC")]
    pub resources: Option<String>,
    /// Wall-time limit, e.g. 90s, 5m, 1h.
    #[arg(long, default_value = "60s", value_name = "DURATION")]
    pub timeout: String,
    /// Container entrypoint ($ALGO = the algorithm path); default from the file extension.
    #[arg(long, value_name = "CMD")]
    pub entrypoint: Option<String>,
    /// Wait for the end, with a live status display.
    #[arg(long)]
    pub wait: bool,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

/// Who pays and signs for a job on an Ocean node (DID sources only).
#[derive(Args, Debug, Clone, Default)]
pub(crate) struct RemoteArgs {
    /// Network of the DIDs: devnet (default), an Ocean network name, or an RPC URL.
    #[arg(long, value_name = "NAME")]
    pub network: Option<String>,
    /// Devnet test account to act as (0..9).
    #[arg(long, value_name = "N")]
    pub account: Option<usize>,
    /// Who signs the orders and requests: local (keystore, $KELP_PRIVATE_KEY, --account) or
    /// browser (the wallet in JupyterLab).
    #[arg(long, value_name = "local|browser", value_parser = ["local", "browser"])]
    pub signer: Option<String>,
}

#[derive(Args, Debug)]
pub(crate) struct EnvsArgs {
    /// Also list this network's node: devnet (started if needed), an Ocean network name, or an RPC URL.
    #[arg(long, value_name = "NAME")]
    pub network: Option<String>,
}

#[derive(Args, Debug)]
pub(crate) struct JobArg {
    /// Job id (or a unique prefix of at least 4 characters).
    pub job: String,
}

#[derive(Args, Debug)]
pub(crate) struct JobOpt {
    /// Job id (or a unique prefix); the latest job when left out.
    pub job: Option<String>,
}

#[derive(Args, Debug)]
pub(crate) struct LogsArgs {
    /// Job id (or a unique prefix).
    pub job: String,
    /// Keep printing new lines until the job ends.
    #[arg(short, long)]
    pub follow: bool,
}

#[derive(Args, Debug)]
pub(crate) struct ResultArgs {
    /// Job id (or a unique prefix).
    pub job: String,
    /// Folder to put the outputs in (default ./c2d-results/<job id>).
    #[arg(short, long, value_name = "DIR")]
    pub output: Option<PathBuf>,
}

/// The `%c2d` magic. Keeps one engine per engine folder, so the jobs it starts keep running
/// between cells. IPFS CIDs resolve from `$KELP_HOME/ipfs`; DIDs need a remote backend
/// ([`C2dMagic::with_remote`]).
#[derive(Default)]
pub struct C2dMagic {
    engines: Mutex<HashMap<PathBuf, Engine>>,
    extra: Vec<Arc<dyn SourceResolver>>,
    remote: Option<Arc<dyn RemoteCompute>>,
    pollers: remote::Pollers,
}

impl C2dMagic {
    pub fn new() -> Self {
        Self::default()
    }

    /// Add a source resolver (e.g. IPFS CIDs, Ocean DIDs), asked before local paths.
    pub fn with_resolver(mut self, r: Arc<dyn SourceResolver>) -> Self {
        self.extra.push(r);
        self
    }

    /// Run jobs whose sources `remote` accepts (Ocean DIDs) on the remote node.
    pub fn with_remote(mut self, remote: Arc<dyn RemoteCompute>) -> Self {
        self.remote = Some(remote);
        self
    }

    /// Local paths relative to the cell's directory, behind IPFS CIDs and the added resolvers.
    pub(crate) fn resolvers(&self, ctx: &MagicContext) -> Resolvers {
        let ipfs = Arc::new(IpfsResolver { store: ctx.config.dir("ipfs"), base: ctx.cwd.clone() });
        let base = Resolvers::paths(&ctx.cwd).with(ipfs);
        self.extra.iter().fold(base, |rs, r| rs.with(r.clone()))
    }

    /// The engine for `$KELP_HOME/c2d`, opened (and its journal recovered) on first use.
    pub(crate) fn engine(&self, ctx: &MagicContext) -> Result<Engine, MagicError> {
        let dir = ctx.config.dir("c2d");
        let mut map = self.engines.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(e) = map.get(&dir) {
            return Ok(e.clone());
        }
        let e = Engine::open(&dir).map_err(fail)?;
        map.insert(dir, e.clone());
        drop(map);
        remote::resume(self, &e);
        Ok(e)
    }
}

/// A library error as the magic's one-line failure.
pub(crate) fn fail(e: C2dError) -> MagicError {
    MagicError::failed(format!("%c2d: {e}"))
}

#[async_trait]
impl Magic for C2dMagic {
    fn name(&self) -> &'static str {
        "c2d"
    }
    fn summary(&self) -> &'static str {
        "compute-to-data: run an algorithm on data in a sandbox, get only the results"
    }
    fn command(&self) -> clap::Command {
        Cli::command()
    }
    async fn run(&self, call: MagicCall, ctx: &MagicContext) -> kelp_magic::Result<Output> {
        let out = self.dispatch(&call, ctx).await?;
        Ok(kelp_magic::attach_record(record::record, &call, ctx, out))
    }
}

impl C2dMagic {
    async fn dispatch(&self, call: &MagicCall, ctx: &MagicContext) -> kelp_magic::Result<Output> {
        let cli: Cli = kelp_magic::parse_args(Cli::command(), call)?;
        match cli.cmd {
            Cmd::Start(a) => {
                let plan = start::plan(&a)?;
                if remote::wants_remote(self, &plan)? {
                    return remote::start(self, plan, ctx).await;
                }
                start::run(self, plan, ctx).await
            }
            Cmd::Status(a) => jobs::status(self, &self.engine(ctx)?, a.job.as_deref(), ctx).await,
            Cmd::List => jobs::list(self, &self.engine(ctx)?, ctx).await,
            Cmd::Envs(a) => jobs::envs(self, &self.engine(ctx)?, a.network.as_deref(), ctx).await,
            Cmd::Logs(a) => {
                let engine = self.engine(ctx)?;
                if engine.record(&a.job).map_err(fail)?.remote.is_some() {
                    return jobs::remote_logs(self, &engine, &a.job, a.follow, ctx).await;
                }
                jobs::logs(&engine, &a.job, a.follow, ctx).await
            }
            Cmd::Stop(a) => {
                let engine = self.engine(ctx)?;
                let rec = engine.record(&a.job).map_err(fail)?;
                if rec.remote.is_some() {
                    return remote::stop(self, &engine, rec, ctx).await;
                }
                jobs::stop(&engine, &a.job)
            }
            Cmd::Result(a) => {
                let engine = self.engine(ctx)?;
                if engine.record(&a.job).map_err(fail)?.remote.is_some() {
                    remote::fetch_results(self, &engine, &a.job, ctx).await?;
                }
                result::fetch(&engine, &a.job, a.output.as_deref(), ctx)
            }
        }
    }
}
