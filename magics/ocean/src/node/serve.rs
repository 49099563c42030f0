//! Running the local node as its own process for the devnet: reading the devnet's files,
//! starting the server, and (from `devnet up`) launching that process.

use super::{NodeConfig, key_path, load_or_create_key};
use crate::addresses::{self, DEVNET_NAME};
use crate::devnet::{DevnetPaths, DevnetState, process};
use crate::error::{OceanError, Result};
use crate::fsutil;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Environment variable naming the node program (`kelp-ocean-node`).
pub const ENV_NODE: &str = "KELP_OCEAN_NODE";

/// The node's config for the devnet recorded under `ocean_dir`. Its fetch policy comes from this
/// process's environment ([`super::fetch::FetchPolicy::from_env`]): loopback is refused unless
/// `KELP_NODE_ALLOW_LOOPBACK=1`, which [`launch`] sets for the devnet.
pub fn devnet_config(ocean_dir: &Path, rpc_url: &str, port: u16) -> Result<NodeConfig> {
    let paths = DevnetPaths::new(ocean_dir);
    let addresses = addresses::read_entry(&paths.address_file(), DEVNET_NAME)?;
    let key = load_or_create_key(&key_path(ocean_dir))?;
    Ok(NodeConfig {
        rpc_url: rpc_url.to_string(),
        chain_id: addresses.chain_id,
        addresses,
        key,
        public_url: format!("http://127.0.0.1:{port}"),
        ipfs: Some(std::sync::Arc::new(crate::ipfs::StoreSource {
            home: ocean_dir.parent().unwrap_or(Path::new(".")).to_path_buf(),
        })),
        compute_dir: Some(paths.dir.join("node-c2d")),
        fetch: super::fetch::FetchPolicy::from_env(&|k| std::env::var(k).ok())
            .map_err(|e| OceanError::devnet(e.to_string()))?,
    })
}

/// Serve the devnet's node on `port` until `shutdown` resolves (the node process's main).
pub async fn serve_devnet(
    ocean_dir: &Path,
    rpc_url: &str,
    port: u16,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let config = devnet_config(ocean_dir, rpc_url, port)?;
    fund_gas(&config).await?;
    let (_node, handle) = super::start(config, port, shutdown).await?;
    handle.await.map_err(|e| OceanError::devnet(format!("node task failed: {e}")))
}

/// Give the devnet node's own account ETH for its transactions (Escrow locks and claims of paid
/// compute), as anvil's `anvil_setBalance` allows on the devnet only.
async fn fund_gas(config: &NodeConfig) -> Result<()> {
    use alloy::providers::Provider;
    let provider = crate::chain::connect(&config.rpc_url)?;
    let me = config.key.address();
    let balance = provider
        .get_balance(me)
        .await
        .map_err(|e| crate::chain::decode_rpc_error(&e, "eth_getBalance", &config.rpc_url))?;
    let enough = alloy::primitives::U256::from(10u64).pow(alloy::primitives::U256::from(18));
    if balance < enough {
        let hundred = enough * alloy::primitives::U256::from(100u64);
        let _: serde_json::Value = provider
            .raw_request("anvil_setBalance".into(), (me, hundred))
            .await
            .map_err(|e| crate::chain::decode_rpc_error(&e, "anvil_setBalance", &config.rpc_url))?;
    }
    Ok(())
}

/// How to start the node process: `$KELP_OCEAN_NODE`; else, from the `kelp` binary, its own
/// `devnet node` subcommand (always the same build as the caller, never a stale program left in
/// the target folder); else `kelp-ocean-node` beside the running executable (or one directory
/// up, for test binaries in `deps/`).
pub fn node_command(env: &dyn Fn(&str) -> Option<String>) -> Result<(PathBuf, Vec<String>)> {
    if let Some(p) = env(ENV_NODE).filter(|v| !v.is_empty()) {
        let p = PathBuf::from(p);
        return if p.is_file() {
            Ok((p, vec![]))
        } else {
            Err(OceanError::Missing {
                what: format!("the node program {}", p.display()),
                hint: format!("fix ${ENV_NODE}"),
            })
        };
    }
    let exe =
        std::env::current_exe().map_err(|e| OceanError::devnet(format!("cannot find the running program: {e}")))?;
    if exe.file_name().is_some_and(|n| n == "kelp") {
        return Ok((exe, vec!["devnet".into(), "node".into()]));
    }
    for dir in exe.ancestors().skip(1).take(2) {
        let cand = dir.join("kelp-ocean-node");
        if cand.is_file() {
            return Ok((cand, vec![]));
        }
    }
    Err(OceanError::Missing {
        what: "the local node program (kelp-ocean-node)".into(),
        hint: format!("build it with `cargo build -p kelp-ocean` or set ${ENV_NODE}"),
    })
}

/// Launch the node process for a devnet whose anvil runs, wait until it answers, and return
/// (pid, url).
pub async fn launch(
    paths: &DevnetPaths,
    state: &DevnetState,
    command: &(PathBuf, Vec<String>),
) -> Result<(u32, String)> {
    let (program, mut args) = command.clone();
    let port = process::free_port()?;
    args.extend(["--port".into(), port.to_string(), "--rpc".into(), state.rpc_url.clone()]);
    let mut cmd = std::process::Command::new(&program);
    cmd.args(&args).env("KELP_HOME", paths.ocean_dir.parent().unwrap_or(Path::new(".")));
    cmd.env("KELP_OCEAN_DIR", &paths.ocean_dir);
    // The devnet's assets are served from this machine, so its node fetches from loopback too
    // (still never from private, link-local or other non-public addresses). Set
    // KELP_NODE_ALLOW_LOOPBACK=0 before `devnet up` for a node that refuses loopback like any other.
    if std::env::var_os(super::fetch::ENV_ALLOW_LOOPBACK).is_none() {
        cmd.env(super::fetch::ENV_ALLOW_LOOPBACK, "1");
    }
    let pid = process::spawn_detached(cmd, &paths.dir.join("node.log"))?;
    let url = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let start = Instant::now();
    loop {
        if client.get(format!("{url}/")).send().await.is_ok_and(|r| r.status().is_success()) {
            return Ok((pid, url));
        }
        if !process::is_alive(pid) || start.elapsed() > Duration::from_secs(15) {
            let _ = process::terminate(pid, Duration::from_secs(1)).await;
            let log = std::fs::read_to_string(paths.dir.join("node.log")).unwrap_or_default();
            let last = log.lines().last().unwrap_or("no output").to_string();
            return Err(OceanError::devnet(format!("the local node did not start: {last}")));
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Read the devnet state file (for the node process).
pub fn read_state(paths: &DevnetPaths) -> Result<Option<DevnetState>> {
    fsutil::read_json(&paths.state_file())
}
