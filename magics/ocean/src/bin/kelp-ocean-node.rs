//! `kelp-ocean-node --port P --rpc URL`: the devnet's local Ocean node as a process of its own
//! (started by `kelp devnet up`, stopped by `kelp devnet down`). State comes from
//! `$KELP_OCEAN_DIR` (else `$KELP_HOME/ocean`): the devnet's `address.json` and the node key.

use std::path::PathBuf;

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let port: u16 = arg(&args, "--port").ok_or_else(|| anyhow::anyhow!("--port is required"))?.parse()?;
    let rpc = arg(&args, "--rpc").ok_or_else(|| anyhow::anyhow!("--rpc is required"))?;
    let ocean_dir = match std::env::var_os("KELP_OCEAN_DIR") {
        Some(d) => PathBuf::from(d),
        None => kelp_magic::Config::from_env().dir("ocean"),
    };
    let shutdown = async {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    };
    kelp_ocean::node::serve::serve_devnet(&ocean_dir, &rpc, port, shutdown).await?;
    Ok(())
}
