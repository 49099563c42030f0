//! `kelp-ocean-node --port P --rpc URL`: the devnet's local Ocean node as a process of its own
//! (started by `kelp devnet up`, stopped by `kelp devnet down`). State comes from
//! `$KELP_OCEAN_DIR` (else `$KELP_HOME/ocean`): the devnet's `address.json` and the node key.
//! A failure is one line on stderr and exit status 1.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match kelp_ocean_node::serve::cli(&args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kelp-ocean-node: error: {e}");
            ExitCode::FAILURE
        }
    }
}
