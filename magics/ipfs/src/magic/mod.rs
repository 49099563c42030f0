//! The `%ipfs` magic: clap definition (parsed into plain data first), dispatch to one module
//! per subcommand group (each returns a typed result of [`results`]) and the persisted
//! `%ipfs config`.

mod add;
mod car;
mod config;
mod pin;
mod read;
mod record;
mod remote;
mod results;

use crate::IpfsError;
use async_trait::async_trait;
use clap::{CommandFactory, Parser, Subcommand};
use kelp_magic::{Magic, MagicCall, MagicContext, MagicError, Output, Result, parse_args};

pub use config::IpfsConfig;

/// `%ipfs`: content addressing with an embedded store, Kubo-identical CIDs.
#[derive(Debug, Default)]
pub struct IpfsMagic;

#[derive(Parser, Debug)]
#[command(
    name = "ipfs",
    about = "Kubo-identical IPFS: add, read, pin and move content by CID (embedded store, no daemon needed)."
)]
pub(crate) struct Cli {
    /// Never fetch from peers or gateways: read the local store only (also KELP_IPFS_OFFLINE=1).
    #[arg(long, global = true)]
    pub offline: bool,
    #[command(subcommand)]
    pub cmd: Cmd,
}

#[derive(Subcommand, Debug)]
pub(crate) enum Cmd {
    /// Add a file or directory; prints its CID (Kubo `ipfs add` defaults).
    Add(add::AddArgs),
    /// Print a file's bytes (optionally a range).
    Cat(read::CatArgs),
    /// Write a file or directory to a path (every block's hash is verified).
    Get(read::GetArgs),
    /// List a directory.
    Ls(read::CidArg),
    /// Show type, size and block counts of a CID.
    Stat(read::CidArg),
    /// Manage pins in the local store (gc keeps pinned DAGs).
    #[command(subcommand)]
    Pin(pin::PinCmd),
    /// Export or import CAR v1 files.
    #[command(subcommand)]
    Car(car::CarCmd),
    /// Remove every unpinned block from the local store.
    Gc,
    /// Show or change %ipfs settings (backend, Kubo URL, gateway).
    #[command(subcommand)]
    Config(config::ConfigCmd),
    /// Serve the local store as a trustless HTTP gateway (IPIP-402) and/or to IPFS peers over
    /// Bitswap until interrupted.
    Serve(remote::ServeArgs),
}

/// Where an operation goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    Local,
    Kubo(String),
    /// A remote pinning service by name.
    Pin(String),
    /// Lighthouse (Filecoin onramp with a Kubo-style add).
    Lighthouse,
}

impl Target {
    /// Parse `local`, `kubo`, `kubo=URL`; `None` = the configured default.
    pub fn parse(spec: Option<&str>, cfg: &IpfsConfig) -> std::result::Result<Target, IpfsError> {
        let spec = spec.unwrap_or(&cfg.backend);
        match spec {
            "local" => Ok(Target::Local),
            "kubo" => Ok(Target::Kubo(cfg.kubo_url.clone())),
            s if s.starts_with("kubo=") => Ok(Target::Kubo(s["kubo=".len()..].to_string())),
            s if s.starts_with("pin:") && s.len() > 4 => Ok(Target::Pin(s[4..].to_string())),
            "lighthouse" => Ok(Target::Lighthouse),
            s => Err(IpfsError::BadOption(format!(
                "unknown backend {s:?}: use --to local, kubo[=URL], pin:NAME or lighthouse"
            ))),
        }
    }
}

pub(crate) fn lighthouse_add_only() -> IpfsError {
    IpfsError::BadOption("--to lighthouse works with add only (Lighthouse is an upload onramp)".into())
}

pub(crate) fn not_a_source(service: &str) -> IpfsError {
    IpfsError::BadOption(format!(
        "pinning service {service:?} keeps pins but does not serve content to kelp: read with --to local or --to kubo[=URL]"
    ))
}

pub(crate) fn fail(e: IpfsError) -> MagicError {
    match e {
        IpfsError::Cancelled(w) => MagicError::Cancelled(w),
        e => MagicError::failed(format!("%ipfs: {e}")),
    }
}

/// Run blocking store work off the async runtime.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> std::result::Result<T, IpfsError> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| MagicError::failed(format!("%ipfs: worker failed: {e}")))?
        .map_err(fail)
}

#[async_trait]
impl Magic for IpfsMagic {
    fn name(&self) -> &'static str {
        "ipfs"
    }
    fn summary(&self) -> &'static str {
        "IPFS with Kubo-identical CIDs: add, cat, get, ls, stat, pin, car, gc, config (embedded store or --to kubo)."
    }
    fn command(&self) -> clap::Command {
        Cli::command()
    }
    async fn run(&self, call: MagicCall, ctx: &MagicContext) -> Result<Output> {
        let cli: Cli = parse_args(self.command(), &call)?;
        let mut cfg = IpfsConfig::load(&ctx.config.dir("ipfs")).map_err(fail)?;
        cfg.offline = cli.offline;
        let out = match cli.cmd {
            Cmd::Add(a) => add::run(a, ctx, &cfg).await,
            Cmd::Cat(a) => read::cat(a, ctx, &cfg).await,
            Cmd::Get(a) => read::get(a, ctx, &cfg).await,
            Cmd::Ls(a) => read::ls(a, ctx, &cfg).await,
            Cmd::Stat(a) => read::stat(a, ctx, &cfg).await,
            Cmd::Pin(p) => pin::run(p, ctx, &cfg).await,
            Cmd::Car(c) => car::run(c, ctx, &cfg).await,
            Cmd::Serve(a) => remote::serve(a, ctx, &cfg).await,
            Cmd::Gc => read::gc(ctx).await,
            Cmd::Config(c) => config::run(c, ctx, cfg).await,
        }?;
        Ok(kelp_magic::attach_record(record::record, &call, ctx, out))
    }
}

/// The pinning service `name`, from the session environment first, then the config.
pub(crate) fn pin_service(name: &str, cfg: &IpfsConfig, ctx: &MagicContext) -> Result<crate::pinsvc::PinService> {
    let key = crate::pinsvc::env_key(name);
    let saved = cfg.pin_services.get(name);
    let endpoint = ctx
        .env
        .get(&format!("KELP_PIN_{key}_ENDPOINT"))
        .or_else(|| saved.map(|s| s.endpoint.clone()).filter(|e| !e.is_empty()))
        .ok_or_else(|| {
            fail(IpfsError::BadOption(format!(
                "pinning service {name:?} is not configured: set KELP_PIN_{key}_ENDPOINT (and KELP_PIN_{key}_TOKEN) or run %ipfs config set pin.{name}.endpoint URL"
            )))
        })?;
    let token = ctx
        .env
        .get(&format!("KELP_PIN_{key}_TOKEN"))
        .or_else(|| saved.and_then(|s| s.token.clone()))
        .unwrap_or_default();
    crate::pinsvc::PinService::new(name, &endpoint, &token).map_err(fail)
}

/// Default Lighthouse node (its Kubo-style `/api/v0/add`).
pub const LIGHTHOUSE_URL: &str = "https://node.lighthouse.storage";

/// The Lighthouse client: URL from `KELP_LIGHTHOUSE_URL` (default the public node), API key
/// from `KELP_LIGHTHOUSE_TOKEN` (session environment; never shown).
pub(crate) fn lighthouse(ctx: &MagicContext) -> Result<crate::kubo::Kubo> {
    let url = ctx.env.get("KELP_LIGHTHOUSE_URL").unwrap_or_else(|| LIGHTHOUSE_URL.to_string());
    let token = ctx.env.get("KELP_LIGHTHOUSE_TOKEN").filter(|t| !t.is_empty()).ok_or_else(|| {
        fail(IpfsError::BadOption(
            "Lighthouse needs an API key: %env KELP_LIGHTHOUSE_TOKEN=<key> (it is never shown)".into(),
        ))
    })?;
    Ok(crate::kubo::Kubo::new(&url).map_err(fail)?.with_bearer("Lighthouse", &token))
}

/// The session's store, with the read bounds of its environment (`KELP_IPFS_MAX_DEPTH`).
pub(crate) fn open_store(ctx: &MagicContext) -> Result<crate::Store> {
    let limits = crate::exporter::ReadLimits::from_env_value(ctx.env.get(crate::exporter::MAX_DEPTH_ENV).as_deref())
        .map_err(fail)?;
    Ok(crate::Store::open_default(&ctx.config).map_err(fail)?.with_limits(limits))
}
