//! Starting the devnet's Ocean node, kelp's `kelp-ocean-node` (its own crate), as a process: which
//! program to run, launching it beside anvil and waiting until it answers.

use super::{DevnetPaths, DevnetState, process};
use crate::error::{OceanError, Result};
use crate::fsutil;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Environment variable naming the node program (`kelp-ocean-node`).
pub const ENV_NODE: &str = "KELP_OCEAN_NODE";

use kelp_ocean_wire::layout::{ENV_NODE_ALLOW_LOOPBACK as ENV_ALLOW_LOOPBACK, ENV_OCEAN_DIR};

/// How to start the node process: `$KELP_OCEAN_NODE`; else, from the `kelp` binary, its own
/// `devnet node` subcommand (always the same build as the caller); else `kelp-ocean-node` beside
/// the running executable (or one directory up, for test binaries in `deps/`), under
/// `$CARGO_TARGET_DIR/debug`, or on `PATH`.
pub fn node_command(env: &dyn Fn(&str) -> Option<String>) -> Result<(PathBuf, Vec<String>)> {
    const NAME: &str = "kelp-ocean-node";
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
    let mut dirs: Vec<PathBuf> = exe.ancestors().skip(1).take(2).map(Path::to_path_buf).collect();
    if let Some(t) = env("CARGO_TARGET_DIR").filter(|v| !v.is_empty()) {
        dirs.push(PathBuf::from(t).join("debug"));
    }
    if let Some(path) = env("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    if let Some(found) = dirs.into_iter().map(|d| d.join(NAME)).find(|c| c.is_file()) {
        return Ok((found, vec![]));
    }
    Err(OceanError::Missing {
        what: format!("the devnet's node program ({NAME})"),
        hint: format!(
            "build it with `cargo build -p kelp-ocean-node`, install it with `cargo install --path magics/ocean-node`, or set ${ENV_NODE}"
        ),
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
    cmd.env(ENV_OCEAN_DIR, &paths.ocean_dir);
    // The devnet's assets are served from this machine, so its node fetches from loopback too
    // (still never from private, link-local or other non-public addresses). Set
    // KELP_NODE_ALLOW_LOOPBACK=0 before `devnet up` for a node that refuses loopback like any other.
    if std::env::var_os(ENV_ALLOW_LOOPBACK).is_none() {
        cmd.env(ENV_ALLOW_LOOPBACK, "1");
    }
    let pid = process::spawn_detached(cmd, &paths.node_log())?;
    let url = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let start = Instant::now();
    loop {
        if client.get(format!("{url}/")).send().await.is_ok_and(|r| r.status().is_success()) {
            return Ok((pid, url));
        }
        if !process::is_alive(pid) || start.elapsed() > Duration::from_secs(15) {
            let _ = process::terminate(pid, Duration::from_secs(1)).await;
            let log = std::fs::read_to_string(paths.node_log()).unwrap_or_default();
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
