//! Shared by the integration tests: kill a test devnet's processes even when a test panics; the
//! environment that points a test at its own devnet; a loopback file server standing in for
//! publishers' storage; the factory's NFT count.
// Each test binary compiles this module and uses only some of it.
#![allow(dead_code)]

use alloy::primitives::U256;
use kelp_magic::MagicContext;
use kelp_ocean::contracts::IERC721Factory;
use kelp_ocean::devnet::{DevnetPaths, DevnetState};
use kelp_ocean::network::Network;

/// Kills whatever `devnet.json` records (anvil, the node) when dropped.
pub struct Cleanup(pub DevnetPaths);

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Ok(t) = std::fs::read_to_string(self.0.state_file())
            && let Ok(s) = serde_json::from_str::<DevnetState>(&t)
        {
            for pid in std::iter::once(s.anvil_pid).chain(s.node_pid) {
                let _ = std::process::Command::new("kill").arg("-9").arg(pid.to_string()).status();
            }
        }
    }
}

/// The node binary built with these tests.
pub const NODE_BIN: &str = env!("CARGO_BIN_EXE_kelp-ocean-node");

/// The process environment, with the devnet on `port` and the node binary of this build (for a
/// [`kelp_ocean::network::Resolver`]).
pub fn env_for(port: u16) -> impl Fn(&str) -> Option<String> + Send + Sync {
    move |v: &str| match v {
        "KELP_DEVNET_PORT" => Some(port.to_string()),
        "KELP_OCEAN_NODE" => Some(NODE_BIN.to_string()),
        other => std::env::var(other).ok(),
    }
}

/// Point a magic context at the devnet on `port` and the node binary of this build.
pub fn set_devnet_env(ctx: &MagicContext, port: u16) {
    ctx.env.set("KELP_DEVNET_PORT", Some(port.to_string()));
    ctx.env.set("KELP_OCEAN_NODE", Some(NODE_BIN.to_string()));
}

/// Serve `files` (name, bytes) over HTTP on loopback until the test ends; returns the base URL
/// (`http://127.0.0.1:PORT`, files at `/<name>`).
pub async fn serve(files: Vec<(&'static str, &'static [u8])>) -> String {
    let mut app = axum::Router::new();
    for (name, bytes) in files {
        app = app.route(&format!("/{name}"), axum::routing::get(move || async move { bytes }));
    }
    let l = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    url
}

/// How many data NFTs the factory has created.
pub async fn nft_count(net: &Network) -> U256 {
    IERC721Factory::new(net.addresses.erc721_factory, &net.provider).getCurrentNFTCount().call().await.unwrap()
}

pub mod replay;
