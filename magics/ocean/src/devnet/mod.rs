//! The devnet: anvil from npm on loopback with the Ocean v4 contracts deployed from the npm
//! artifacts, an `address.json` in Ocean's format, and a state snapshot for warm starts.
//!
//! Files under `$KELP_HOME/ocean/`:
//! - `address.json` — `{"development": {chainId, Ocean, Router, …}}` (ocean.py reads it);
//! - `devnet/devnet.json` — the running devnet (RPC URL, port, chain id, pids);
//! - `devnet/snapshot.json` — `{fingerprint, state}`: anvil's `anvil_dumpState`, saved after the
//!   first deploy and at every `down`, restored with `anvil_loadState` by the next `up`
//!   (warm start). The fingerprint (contracts version, chain id, recipe) guards against loading
//!   a snapshot made from other artifacts;
//! - `devnet/anvil.log` — a line per start written by kelp (command line, port), then whatever
//!   anvil writes to stderr (start-up errors such as a taken port or a bad flag). anvil runs with
//!   `--quiet`: its start-up banner lists the development accounts' private keys and mnemonic,
//!   and private keys never go into a log, even the devnet's well-known ones (its request log,
//!   which `--quiet` also drops, is on stdout together with that banner).
//!
//! Processes outlive the call that started them; `down` stops them by recorded pid, and needs
//! neither the anvil binary nor the artifacts (the snapshot fingerprint is kept in
//! `devnet.json`), so a devnet can be stopped after its tools were moved or removed. The
//! devnet's Ocean node is kelp's `kelp-ocean-node`, started as a process ([`node`]).

pub mod deploy;
pub mod node;
pub mod process;
pub mod setup;

use crate::addresses::{self, DEVNET_NAME, OceanAddresses};
use crate::chain;
use crate::error::{OceanError, Result};
use crate::fsutil;
use crate::tools::Tools;
use alloy::providers::{DynProvider, Provider};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The devnet's chain id: 8996 is what ocean.py calls "development" (barge's chain).
pub const DEVNET_CHAIN_ID: u64 = 8996;
/// The default RPC port (Ocean's barge and most tools use 8545).
pub const DEFAULT_PORT: u16 = 8545;
/// Environment variable with the devnet's default port.
pub const ENV_PORT: &str = "KELP_DEVNET_PORT";
/// Bumped whenever the deploy recipe changes, so old snapshots are not reused.
const RECIPE: u32 = 2;

/// Paths of the devnet's files under `$KELP_HOME/ocean` (shared with the node: [`kelp_ocean_wire::layout`]).
pub use kelp_ocean_wire::layout::DevnetPaths;

/// A running devnet, as recorded in `devnet.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DevnetState {
    pub rpc_url: String,
    pub port: u16,
    pub chain_id: u64,
    pub anvil_pid: u32,
    /// The local Ocean node, once started (pid and URL).
    #[serde(default)]
    pub node_pid: Option<u32>,
    #[serde(default)]
    pub node_url: Option<String>,
    /// RFC 3339 start time.
    pub started: String,
    /// The snapshot fingerprint of the deployed contracts, so `down` can save the chain state
    /// without locating the artifacts again (absent in files written by older versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Snapshot {
    fingerprint: String,
    state: String,
}

/// How `up` went.
#[derive(Debug, Clone)]
pub struct UpReport {
    pub state: DevnetState,
    pub addresses: OceanAddresses,
    /// `cold` (deployed now), `warm` (snapshot restored) or `running` (was already up).
    pub start: &'static str,
    pub elapsed: Duration,
    /// Gas per deploy step (cold starts only).
    pub gas: Vec<(String, u64)>,
}

/// What `status` sees.
#[derive(Debug, Clone)]
pub struct Status {
    pub state: Option<DevnetState>,
    pub running: bool,
    pub block: Option<u64>,
    pub addresses: Option<OceanAddresses>,
}

/// Options of `up`.
#[derive(Debug, Clone)]
pub struct UpOptions {
    pub port: u16,
    /// Ignore the snapshot and deploy again.
    pub fresh: bool,
    /// How to start the local node (program, leading args); `None` = chain only.
    pub node: Option<(PathBuf, Vec<String>)>,
}

impl Default for UpOptions {
    fn default() -> Self {
        UpOptions { port: DEFAULT_PORT, fresh: false, node: None }
    }
}

fn fingerprint(tools: &Tools) -> Result<String> {
    Ok(format!("contracts={};chain={DEVNET_CHAIN_ID};recipe={RECIPE}", tools.contracts_version()?))
}

/// Read `devnet.json` and check that its anvil still runs.
fn running_state(paths: &DevnetPaths) -> Result<Option<DevnetState>> {
    let state: Option<DevnetState> = fsutil::read_json(&paths.state_file())?;
    Ok(state.filter(|s| process::runs(s.anvil_pid, "anvil")))
}

/// Start the devnet (or report the one already running).
pub async fn up(paths: &DevnetPaths, tools: &Tools, opts: &UpOptions) -> Result<UpReport> {
    let t0 = Instant::now();
    if let Some(mut state) = running_state(paths)? {
        let addresses = addresses::read_entry(&paths.address_file(), DEVNET_NAME)?;
        let node_alive = state.node_pid.is_some_and(process::is_alive);
        if let (false, Some(cmd)) = (node_alive, &opts.node) {
            let (pid, url) = node::launch(paths, &state, cmd).await?;
            (state.node_pid, state.node_url) = (Some(pid), Some(url));
            fsutil::write_json(&paths.state_file(), &state)?;
        }
        return Ok(UpReport { state, addresses, start: "running", elapsed: t0.elapsed(), gas: vec![] });
    }
    if !process::port_free(opts.port) {
        return Err(OceanError::devnet(format!(
            "port {} on 127.0.0.1 is taken by another program; start with `%devnet up --port N`",
            opts.port
        )));
    }
    let fp = fingerprint(tools)?;
    std::fs::create_dir_all(&paths.dir).map_err(|e| OceanError::io(&paths.dir, e))?;
    let mut cmd = std::process::Command::new(&tools.anvil);
    cmd.args(anvil_args(opts.port));
    log_start(&paths.anvil_log(), &tools.anvil, opts.port)?;
    let pid = process::spawn_detached(cmd, &paths.anvil_log())?;
    let rpc_url = format!("http://127.0.0.1:{}", opts.port);
    let provider = chain::connect(&rpc_url)?;
    if let Err(e) = wait_rpc(&provider, pid, Duration::from_secs(15)).await {
        let _ = process::terminate(pid, Duration::from_secs(2)).await;
        return Err(e);
    }
    let result = populate(paths, tools, &fp, opts, &provider, &rpc_url).await;
    let (addresses, start, gas) = match result {
        Ok(v) => v,
        Err(e) => {
            let _ = process::terminate(pid, Duration::from_secs(2)).await;
            return Err(e);
        }
    };
    let mut state = DevnetState {
        rpc_url,
        port: opts.port,
        chain_id: DEVNET_CHAIN_ID,
        anvil_pid: pid,
        node_pid: None,
        node_url: None,
        started: chrono::Utc::now().to_rfc3339(),
        fingerprint: Some(fp),
    };
    fsutil::write_json(&paths.state_file(), &state)?;
    if let Some(cmd) = &opts.node {
        match node::launch(paths, &state, cmd).await {
            Ok((pid, url)) => {
                (state.node_pid, state.node_url) = (Some(pid), Some(url));
                fsutil::write_json(&paths.state_file(), &state)?;
            }
            Err(e) => {
                let _ = process::terminate(pid, Duration::from_secs(2)).await;
                remove_if_exists(&paths.state_file())?;
                return Err(e);
            }
        }
    }
    Ok(UpReport { state, addresses, start, elapsed: t0.elapsed(), gas })
}

/// anvil's arguments. `--quiet` keeps the banner with the dev accounts' private keys and the
/// mnemonic out of `anvil.log` (errors still reach it: anvil prints them on stderr).
fn anvil_args(port: u16) -> Vec<String> {
    let chain = DEVNET_CHAIN_ID.to_string();
    ["--host", "127.0.0.1", "--port", &port.to_string(), "--chain-id", &chain, "--quiet"].map(String::from).to_vec()
}

/// Append kelp's own line for this start to `anvil.log` (anvil itself stays quiet); a log that
/// still holds an old banner with keys is emptied first.
fn log_start(log: &Path, anvil: &Path, port: u16) -> Result<()> {
    use std::io::Write as _;
    if let Some(dir) = log.parent() {
        std::fs::create_dir_all(dir).map_err(|e| OceanError::io(dir, e))?;
    }
    let line = format!(
        "{} kelp devnet: {} {} (banner and request log off: the banner lists private keys)\n",
        chrono::Utc::now().to_rfc3339(),
        anvil.display(),
        anvil_args(port).join(" ")
    );
    // A log written by an older kelp (anvil not quiet) holds the banner: start it afresh.
    let old_banner = std::fs::read(log).is_ok_and(|b| b.windows(12).any(|w| w == b"Private Keys"));
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .append(!old_banner)
        .truncate(old_banner)
        .open(log)
        .map_err(|e| OceanError::io(log, e))?;
    f.write_all(line.as_bytes()).map_err(|e| OceanError::io(log, e))
}

async fn wait_rpc(provider: &DynProvider, pid: u32, timeout: Duration) -> Result<()> {
    let start = Instant::now();
    loop {
        match provider.get_chain_id().await {
            Ok(id) if id == DEVNET_CHAIN_ID => return Ok(()),
            Ok(id) => {
                return Err(OceanError::devnet(format!(
                    "anvil answered with chain id {id}, expected {DEVNET_CHAIN_ID}"
                )));
            }
            Err(_) if !process::is_alive(pid) => {
                return Err(OceanError::devnet("anvil exited at start; see $KELP_HOME/ocean/devnet/anvil.log"));
            }
            Err(_) if start.elapsed() > timeout => {
                return Err(OceanError::devnet(format!("anvil did not answer within {}s", timeout.as_secs())));
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(25)).await,
        }
    }
}

/// Restore the snapshot (warm) or deploy (cold, then snapshot).
async fn populate(
    paths: &DevnetPaths,
    tools: &Tools,
    fp: &str,
    opts: &UpOptions,
    provider: &DynProvider,
    rpc_url: &str,
) -> Result<(OceanAddresses, &'static str, Vec<(String, u64)>)> {
    if !opts.fresh {
        let snap: Option<Snapshot> = fsutil::read_json(&paths.snapshot_file()).unwrap_or(None);
        let addrs = addresses::read_entry(&paths.address_file(), DEVNET_NAME).ok();
        if let (Some(snap), Some(addrs)) = (snap, addrs)
            && snap.fingerprint == *fp
        {
            let _: bool = provider
                .raw_request("anvil_loadState".into(), (snap.state,))
                .await
                .map_err(|e| chain::decode_rpc_error(&e, "anvil_loadState", rpc_url))?;
            let code = provider
                .get_code_at(addrs.erc721_factory)
                .await
                .map_err(|e| chain::decode_rpc_error(&e, "eth_getCode", rpc_url))?;
            if !code.is_empty() {
                return Ok((addrs, "warm", vec![]));
            }
        }
    }
    let deployed = deploy::deploy(tools, rpc_url, DEVNET_CHAIN_ID).await?;
    addresses::write_entry(&paths.address_file(), DEVNET_NAME, &deployed.addresses)?;
    save_snapshot(paths, fp, provider, rpc_url).await?;
    Ok((deployed.addresses, "cold", deployed.gas))
}

async fn save_snapshot(paths: &DevnetPaths, fingerprint: &str, provider: &DynProvider, rpc_url: &str) -> Result<()> {
    let state: String = provider
        .raw_request("anvil_dumpState".into(), ())
        .await
        .map_err(|e| chain::decode_rpc_error(&e, "anvil_dumpState", rpc_url))?;
    fsutil::write_json(&paths.snapshot_file(), &Snapshot { fingerprint: fingerprint.to_string(), state })
}

/// How `down` went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DownReport {
    /// A devnet was running and has been stopped.
    pub was_running: bool,
    /// Its chain state was saved for the next `up`.
    pub saved: bool,
}

/// Stop the devnet by its recorded pids (no tools needed). With `save`, the chain state is
/// snapshotted first so the next `up` resumes it (published assets included).
pub async fn down(paths: &DevnetPaths, save: bool) -> Result<DownReport> {
    let state: Option<DevnetState> = fsutil::read_json(&paths.state_file())?;
    let Some(state) = state else { return Ok(DownReport { was_running: false, saved: false }) };
    let alive = process::runs(state.anvil_pid, "anvil");
    let mut saved = false;
    if alive && save {
        // A devnet.json from before fingerprints were recorded: the running chain came from the
        // snapshot on disk (warm) or wrote it (cold), so that snapshot's fingerprint is its own.
        let fp = match &state.fingerprint {
            Some(fp) => Some(fp.clone()),
            None => fsutil::read_json::<Snapshot>(&paths.snapshot_file()).ok().flatten().map(|s| s.fingerprint),
        };
        if let Some(fp) = fp {
            let provider = chain::connect(&state.rpc_url)?;
            save_snapshot(paths, &fp, &provider, &state.rpc_url).await?;
            saved = true;
        }
    }
    if let Some(pid) = state.node_pid {
        process::terminate(pid, Duration::from_secs(3)).await?;
        let node_port = state.node_url.as_deref().and_then(|u| u.rsplit(':').next()).and_then(|p| p.parse().ok());
        if let Some(port) = node_port {
            process::wait_port_free(port, Duration::from_secs(5)).await?;
        }
    }
    if alive {
        process::terminate(state.anvil_pid, Duration::from_secs(5)).await?;
        process::wait_port_free(state.port, Duration::from_secs(5)).await?;
    }
    remove_if_exists(&paths.state_file())?;
    Ok(DownReport { was_running: alive, saved })
}

/// Stop the devnet, forget its state and snapshot, and deploy afresh.
pub async fn reset(paths: &DevnetPaths, tools: &Tools, opts: &UpOptions) -> Result<UpReport> {
    down(paths, false).await?;
    remove_if_exists(&paths.snapshot_file())?;
    up(paths, tools, &UpOptions { fresh: true, ..opts.clone() }).await
}

/// The devnet's state, asking the chain for its block number if it runs.
pub async fn status(paths: &DevnetPaths) -> Result<Status> {
    let recorded: Option<DevnetState> = fsutil::read_json(&paths.state_file())?;
    let running = recorded.as_ref().is_some_and(|s| process::runs(s.anvil_pid, "anvil"));
    let addresses = addresses::read_entry(&paths.address_file(), DEVNET_NAME).ok();
    let mut block = None;
    if running && let Some(s) = &recorded {
        use alloy::providers::Provider as _;
        block = chain::connect(&s.rpc_url)?.get_block_number().await.ok();
    }
    Ok(Status { state: recorded, running, block, addresses })
}

fn remove_if_exists(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(OceanError::io(path, e)),
    }
}
