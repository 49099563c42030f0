//! Shared by the integration tests: kill a test devnet's processes even when a test panics; the
//! environment and the notebook cell that point a test at its own devnet; a loopback file server standing in for
//! publishers' storage; the factory's NFT count; the url dataset the tests publish.

use alloy::primitives::U256;
use kelp_magic::MagicContext;
use kelp_magic::testing::Cell;
use kelp_ocean::contracts::IERC721Factory;
use kelp_ocean::devnet::{DevnetPaths, DevnetState};
use kelp_ocean::network::Network;
use kelp_ocean::publish::{AssetType, FileRef, Price, PublishSpec};

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

/// The node program (`kelp-ocean-node`, its own crate: `cargo build -p kelp-ocean-node` before
/// these tests, as install/test.d/40-ocean.sh does), found as `%devnet up` finds it.
pub fn node_bin() -> String {
    match kelp_ocean::devnet::node::node_command(&|v| std::env::var(v).ok()) {
        Ok((program, _)) => program.display().to_string(),
        Err(e) => panic!("{e}"),
    }
}

/// The process environment, with the devnet on `port` and the node binary of this build (for a
/// [`kelp_ocean::network::Resolver`]).
pub fn env_for(port: u16) -> impl Fn(&str) -> Option<String> + Send + Sync {
    move |v: &str| match v {
        "KELP_DEVNET_PORT" => Some(port.to_string()),
        "KELP_OCEAN_NODE" => Some(node_bin()),
        other => std::env::var(other).ok(),
    }
}

/// A notebook cell running the Ocean magics (kelp_ocean::magics()) on the devnet at `port`, with
/// `home` as both its working directory and `$KELP_HOME`.
pub fn devnet_cell(home: &std::path::Path, port: u16) -> Cell {
    let cell = Cell::at(home, kelp_ocean::magics()).with_home(home);
    set_devnet_env(&cell, port);
    cell
}

/// Point a magic context at the devnet on `port` and the node binary of this build.
pub fn set_devnet_env(ctx: &MagicContext, port: u16) {
    ctx.env.set("KELP_DEVNET_PORT", Some(port.to_string()));
    ctx.env.set("KELP_OCEAN_NODE", Some(node_bin()));
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

/// A devnet of the test's own (free port, temporary KELP_HOME), killed when dropped.
pub struct OwnDevnet {
    // Dropped first: it reads the devnet's state file in `home`.
    _cleanup: Cleanup,
    pub home: tempfile::TempDir,
    pub ocean_dir: std::path::PathBuf,
    pub net: Network,
}

/// Start a devnet of the test's own.
pub async fn own_devnet() -> OwnDevnet {
    let home = tempfile::tempdir().unwrap();
    let ocean_dir = home.path().join("ocean");
    let cleanup = Cleanup(DevnetPaths::new(&ocean_dir));
    let port = kelp_ocean::devnet::process::free_port().unwrap();
    let env = env_for(port);
    let net =
        kelp_ocean::network::Resolver { ocean_dir: &ocean_dir, env: &env }.resolve(None).await.expect("devnet starts");
    OwnDevnet { _cleanup: cleanup, home, ocean_dir, net }
}

/// A free asset of one url file; an algorithm runs as `sh $ALGO` (the compute tests' shell
/// algorithms).
pub fn shell_spec(name: &str, kind: AssetType, url: String) -> PublishSpec {
    free_asset(name, kind, url, ("debian", "bookworm", "sh $ALGO"))
}

/// A free asset of one url file; an algorithm runs as `python3 $ALGO`.
pub fn python_spec(name: &str, kind: AssetType, url: String) -> PublishSpec {
    free_asset(name, kind, url, ("python", "3", "python3 $ALGO"))
}

/// A free asset of one url file; an algorithm's container is (image, tag, entrypoint).
fn free_asset(name: &str, kind: AssetType, url: String, (image, tag, entrypoint): (&str, &str, &str)) -> PublishSpec {
    let container = (kind == AssetType::Algorithm).then(|| kelp_ocean::publish::Container {
        image: image.into(),
        tag: tag.into(),
        entrypoint: entrypoint.into(),
        checksum: format!("sha256:{}", "0".repeat(64)),
    });
    PublishSpec { kind, container, ..PublishSpec::dataset(name, FileRef::Url { url }, Price::Free) }
}

/// A dataset of one url file, as the devnet tests publish it.
pub fn url_dataset(name: &str, price: Price, url: &str) -> PublishSpec {
    PublishSpec {
        description: Some("test data".into()),
        tags: vec!["test".into()],
        ..PublishSpec::dataset(name, FileRef::Url { url: url.into() }, price)
    }
}

pub mod replay;

/// Every file below `dir` (recursively, folders left out).
pub fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![];
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() { stack.push(p) } else { out.push(p) }
        }
    }
    out
}
