//! Running the devnet's node as a process of its own: its command line (`kelp-ocean-node --port P
//! --rpc URL`, also `kelp devnet node`), its config from the devnet's files
//! ([`kelp_ocean_wire::layout`]), and serving until told to stop. kelp-ocean's devnet launches it.

use crate::error::{NodeError, Result};
use crate::{NodeConfig, load_or_create_key};
use kelp_ocean_wire::addresses::{self, DEVNET_NAME};
use kelp_ocean_wire::layout::DevnetPaths;
use std::path::{Path, PathBuf};

/// The value after `name` in `args`.
fn arg<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).map(String::as_str)
}

/// Run the node from its command line (`--port P --rpc URL`; arguments after the program name)
/// until SIGTERM or Ctrl-C. Its files are under `$KELP_OCEAN_DIR`, else `$KELP_HOME/ocean`.
pub async fn cli(args: &[String]) -> Result<()> {
    let usage = "usage: kelp-ocean-node --port PORT --rpc URL (kelp's devnet starts it: `%devnet up`)";
    let port: u16 = arg(args, "--port")
        .ok_or_else(|| NodeError::input(format!("--port is required; {usage}")))?
        .parse()
        .map_err(|_| NodeError::input(format!("--port is not a port number; {usage}")))?;
    let rpc = arg(args, "--rpc").ok_or_else(|| NodeError::input(format!("--rpc is required; {usage}")))?;
    let ocean_dir = match std::env::var_os(kelp_ocean_wire::layout::ENV_OCEAN_DIR) {
        Some(d) => PathBuf::from(d),
        None => kelp_magic::Config::from_env().dir("ocean"),
    };
    let shutdown = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            },
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    };
    serve_devnet(&ocean_dir, rpc, port, shutdown).await
}

/// The node's config for the devnet recorded under `ocean_dir`. Its fetch policy comes from this
/// process's environment ([`crate::fetch::FetchPolicy::from_env`]): loopback is refused unless
/// `KELP_NODE_ALLOW_LOOPBACK=1`, which the devnet's launcher sets.
pub fn devnet_config(ocean_dir: &Path, rpc_url: &str, port: u16) -> Result<NodeConfig> {
    let paths = DevnetPaths::new(ocean_dir);
    let addresses = addresses::read_entry(&paths.address_file(), DEVNET_NAME).map_err(|e| {
        NodeError::setup(format!(
            "{e} (the devnet's node starts from `%devnet up` / `kelp devnet up`, which deploys the contracts and writes address.json)"
        ))
    })?;
    let key = load_or_create_key(&paths.node_key())?;
    Ok(NodeConfig {
        rpc_url: rpc_url.to_string(),
        chain_id: addresses.chain_id,
        addresses,
        key,
        public_url: format!("http://127.0.0.1:{port}"),
        ipfs: Some(std::sync::Arc::new(crate::ipfs::StoreSource {
            home: ocean_dir.parent().unwrap_or(Path::new(".")).to_path_buf(),
        })),
        compute_dir: Some(paths.node_compute_dir()),
        fetch: crate::fetch::FetchPolicy::from_env(&|k| std::env::var(k).ok())
            .map_err(|e| NodeError::setup(e.to_string()))?,
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
    let (_node, handle) = crate::start(config, port, shutdown).await?;
    handle.await.map_err(|e| NodeError::setup(format!("node task failed: {e}")))
}

/// Give the devnet node's own account ETH for its transactions (Escrow locks and claims of paid
/// compute), as anvil's `anvil_setBalance` allows on the devnet only.
async fn fund_gas(config: &NodeConfig) -> Result<()> {
    use alloy::providers::Provider;
    let provider = crate::chain::connect(&config.rpc_url)?;
    let me = config.key.address();
    let balance =
        provider.get_balance(me).await.map_err(|e| crate::chain::rpc_error(e, "eth_getBalance", &config.rpc_url))?;
    let enough = alloy::primitives::U256::from(10u64).pow(alloy::primitives::U256::from(18));
    if balance < enough {
        let hundred = enough * alloy::primitives::U256::from(100u64);
        let _: serde_json::Value = provider
            .raw_request("anvil_setBalance".into(), (me, hundred))
            .await
            .map_err(|e| crate::chain::rpc_error(e, "anvil_setBalance", &config.rpc_url))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn bad_arguments_and_a_missing_devnet_are_one_line_each() {
        let e = cli(&[]).await.unwrap_err().to_string();
        assert!(e.contains("--port is required") && e.contains("usage:") && !e.contains('\n'), "{e}");
        let args: Vec<String> = ["--port", "x", "--rpc", "http://127.0.0.1:1"].map(String::from).into();
        let e = cli(&args).await.unwrap_err().to_string();
        assert!(e.contains("--port is not a port number") && !e.contains('\n'), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let e = devnet_config(dir.path(), "http://127.0.0.1:1", 0).unwrap_err().to_string();
        assert!(e.contains("address.json") && e.contains("kelp devnet up") && !e.contains('\n'), "{e}");
        assert!(!dir.path().join("node").exists(), "no key is made for a devnet that is not there");
    }
}
