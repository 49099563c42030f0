//! `%devnet up|down|status|reset` (also `kelp devnet …`): the local chain with Ocean deployed.

use super::results::devnet::{Down, Status, Up};
use super::with_progress;
use crate::devnet::{self, DEFAULT_PORT, DevnetPaths, UpOptions, UpReport};
use crate::error::OceanError;
use crate::tools::Tools;
use kelp_magic::EnvVars;

fn node_command(env: &EnvVars) -> std::result::Result<(std::path::PathBuf, Vec<String>), OceanError> {
    crate::devnet::node::node_command(&|v| env.get(v))
}
use async_trait::async_trait;
use clap::{Args, CommandFactory, Parser, Subcommand};
use kelp_magic::{Magic, MagicCall, MagicContext, MagicResult, Output, Result, RustValue, parse_args};

pub use crate::devnet::ENV_PORT;

#[derive(Parser, Debug)]
#[command(name = "devnet", about = "Local chain (anvil) with the Ocean v4 contracts, for %publish and %ocean")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Start anvil, deploy Ocean (or restore the last snapshot) and write address.json.
    Up(UpArgs),
    /// Stop the devnet, saving its state for the next `up`.
    Down {
        /// Do not save the chain state (the next `up` restores the previous snapshot).
        #[arg(long)]
        no_save: bool,
    },
    /// Show whether the devnet runs, its RPC URL, block number and contract addresses.
    Status,
    /// Stop, forget all chain state, and deploy afresh.
    Reset(UpArgs),
}

#[derive(Args, Debug)]
struct UpArgs {
    /// RPC port on 127.0.0.1 (default: $KELP_DEVNET_PORT, else 8545).
    #[arg(long)]
    port: Option<u16>,
    /// Deploy afresh instead of restoring the snapshot.
    #[arg(long)]
    fresh: bool,
}

/// The `%devnet` magic.
#[derive(Debug, Default)]
pub struct DevnetMagic;

#[async_trait]
impl Magic for DevnetMagic {
    fn name(&self) -> &'static str {
        "devnet"
    }
    fn summary(&self) -> &'static str {
        "local Ocean devnet: anvil + Ocean v4 contracts (up, down, status, reset)"
    }
    fn command(&self) -> clap::Command {
        Cli::command()
    }
    async fn run(&self, call: MagicCall, ctx: &MagicContext) -> Result<Output> {
        let cli: Cli = parse_args(self.command(), &call)?;
        let paths = DevnetPaths::new(ctx.config.dir("ocean"));
        let env = ctx.env.clone();
        let tools = || Tools::locate(|v| env.get(v));
        let port = |a: &UpArgs| -> std::result::Result<u16, OceanError> {
            match (a.port, ctx.env.get(ENV_PORT)) {
                (Some(p), _) => Ok(p),
                (None, Some(v)) => {
                    v.parse().map_err(|_| OceanError::input(format!("${ENV_PORT}=`{v}` is not a port number")))
                }
                (None, None) => Ok(DEFAULT_PORT),
            }
        };
        match cli.cmd {
            Cmd::Up(a) => {
                let opts = UpOptions { port: port(&a)?, fresh: a.fresh, node: Some(node_command(&env)?) };
                let tools = tools()?;
                let r = with_progress(ctx, "devnet: starting", devnet::up(&paths, &tools, &opts)).await?;
                Ok(up_output(&paths, &r))
            }
            Cmd::Reset(a) => {
                let opts = UpOptions { port: port(&a)?, fresh: true, node: Some(node_command(&env)?) };
                let tools = tools()?;
                let r = with_progress(ctx, "devnet: resetting", devnet::reset(&paths, &tools, &opts)).await?;
                Ok(up_output(&paths, &r))
            }
            Cmd::Down { no_save } => {
                // By recorded pid: works even when anvil or the artifacts can no longer be found.
                let r = with_progress(ctx, "devnet: stopping", devnet::down(&paths, !no_save)).await?;
                Ok(Down::of(&r, no_save).output())
            }
            Cmd::Status => {
                let r = Status::of(&paths, &devnet::status(&paths).await?);
                let mut out = r.output();
                out.value = r.running_url().map(RustValue::string);
                Ok(out)
            }
        }
    }
}

/// The `up` / `reset` result, bound to the RPC URL.
fn up_output(paths: &DevnetPaths, r: &UpReport) -> Output {
    Up::of(paths, r).output().with_value(RustValue::string(&r.state.rpc_url))
}
