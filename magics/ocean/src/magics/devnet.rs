//! `%devnet up|down|status|reset` (also `kelp devnet …`): the local chain with Ocean deployed.

use super::with_progress;
use crate::devnet::{self, DEFAULT_PORT, DevnetPaths, Status, UpOptions, UpReport};
use crate::error::OceanError;
use crate::tools::Tools;
use kelp_magic::EnvVars;

fn node_command(env: &EnvVars) -> std::result::Result<(std::path::PathBuf, Vec<String>), OceanError> {
    crate::devnet::node::node_command(&|v| env.get(v))
}
use async_trait::async_trait;
use clap::{Args, CommandFactory, Parser, Subcommand};
use kelp_magic::{Magic, MagicCall, MagicContext, Output, Result, RustValue, html_escape, parse_args};
use serde_json::json;

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
                let text = match (r.was_running, r.saved) {
                    (false, _) => "devnet was not running".to_string(),
                    (true, true) => "devnet stopped; state saved for the next `devnet up`".to_string(),
                    (true, false) if no_save => "devnet stopped; state not saved".to_string(),
                    (true, false) => "devnet stopped; state not saved (no snapshot fingerprint recorded)".to_string(),
                };
                let j = json!({"running": false, "was_running": r.was_running, "saved": r.saved});
                Ok(Output::text(text.clone()).with_html(format!("<span>{}</span>", html_escape(&text))).with_json(j))
            }
            Cmd::Status => {
                let s = devnet::status(&paths).await?;
                Ok(status_output(&paths, &s))
            }
        }
    }
}

fn up_output(paths: &DevnetPaths, r: &UpReport) -> Output {
    let s = &r.state;
    let how = match r.start {
        "cold" => "deployed the Ocean contracts",
        "warm" => "restored the snapshot",
        _ => "already running",
    };
    let text = format!(
        "devnet up at {} (chain {}, {how}, {:.2}s)\nERC721Factory {}\nOCEAN {}\naddresses: {}",
        s.rpc_url,
        s.chain_id,
        r.elapsed.as_secs_f64(),
        r.addresses.erc721_factory,
        r.addresses.ocean,
        paths.address_file().display()
    );
    let gas: serde_json::Map<String, serde_json::Value> = r.gas.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
    let j = json!({
        "network": crate::addresses::DEVNET_NAME,
        "running": true,
        "start": r.start,
        "elapsed_ms": r.elapsed.as_millis() as u64,
        "rpc_url": s.rpc_url,
        "chain_id": s.chain_id,
        "anvil_pid": s.anvil_pid,
        "node_pid": s.node_pid,
        "node_url": s.node_url,
        "address_file": paths.address_file(),
        "addresses": r.addresses,
        "deploy_gas": gas,
    });
    let html = format!(
        "<div><b>devnet</b> up at <code>{}</code> (chain {}, {how}, {:.2}s)<br>ERC721Factory <code>{}</code></div>",
        html_escape(&s.rpc_url),
        s.chain_id,
        r.elapsed.as_secs_f64(),
        r.addresses.erc721_factory
    );
    Output::text(text).with_html(html).with_json(j).with_value(RustValue::string(&s.rpc_url))
}

fn status_output(paths: &DevnetPaths, st: &Status) -> Output {
    let j = json!({
        "network": crate::addresses::DEVNET_NAME,
        "running": st.running,
        "rpc_url": st.state.as_ref().map(|s| s.rpc_url.clone()),
        "chain_id": st.state.as_ref().map(|s| s.chain_id),
        "block": st.block,
        "anvil_pid": st.state.as_ref().map(|s| s.anvil_pid),
        "node_url": st.state.as_ref().and_then(|s| s.node_url.clone()),
        "address_file": paths.address_file(),
        "addresses": st.addresses,
    });
    let text = match (&st.state, st.running) {
        (Some(s), true) => format!(
            "devnet running at {} (chain {}, block {})",
            s.rpc_url,
            s.chain_id,
            st.block.map(|b| b.to_string()).unwrap_or_else(|| "?".into())
        ),
        (Some(_), false) => "devnet not running (its anvil has exited); start it with `%devnet up`".into(),
        (None, _) => "devnet not running; start it with `%devnet up`".into(),
    };
    let value = st.state.as_ref().filter(|_| st.running).map(|s| RustValue::string(&s.rpc_url));
    let mut out = Output::text(text.clone()).with_html(format!("<span>{}</span>", html_escape(&text))).with_json(j);
    out.value = value;
    out
}
