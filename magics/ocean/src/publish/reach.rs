//! Data other nodes can reach (issue #10): on any network but the devnet, the node that serves
//! an asset is not on this machine, so it cannot read kelp's local IPFS store.
//!
//! - [`push_local_cid`]: an `ipfs` file whose root block is in the local store is pushed, before
//!   anything else, to the Kubo node `%ipfs config set backend kubo=URL` names (the DAG as one CAR,
//!   `dag/import` with its root pinned); with no Kubo configured the publish stops with one line
//!   saying how to configure one (pinning services and Lighthouse take CIDs or uploads, not the
//!   blocks of this store, so they are named as no way around it).
//! - [`check_reachable`]: the node's `fileInfo` of the file object, before any transaction; a
//!   file it reads as 0 bytes or the empty input's hash (Ocean Node's answer for a source it
//!   cannot reach) is refused in one line.

use super::FileRef;
use crate::error::{OceanError, Result};
use crate::network::Network;
use crate::node::client::NodeClient;
use kelp_ipfs::{IpfsConfig, Store};
use std::path::Path;

/// Whether `net` is kelp's local devnet (its node reads this machine's store).
pub fn is_devnet(net: &Network) -> bool {
    net.name == "devnet"
}

/// The Kubo RPC URL of the IPFS config in `ipfs_dir`, if its backend is Kubo.
fn configured_kubo(ipfs_dir: &Path) -> Result<Option<String>> {
    let cfg = IpfsConfig::load(ipfs_dir).map_err(|e| OceanError::input(format!("%ipfs config: {e}")))?;
    Ok(match cfg.backend.as_str() {
        "kubo" => Some(cfg.kubo_url),
        b => b.strip_prefix("kubo=").map(str::to_string),
    })
}

/// Push `file`'s DAG from the local store under `home` to the configured Kubo node when `net` is
/// not the devnet; returns the Kubo URL it went to (`None`: nothing to push).
pub async fn push_local_cid(net: &Network, home: &Path, ipfs_dir: &Path, file: &FileRef) -> Result<Option<String>> {
    let FileRef::Ipfs { hash } = file else { return Ok(None) };
    if is_devnet(net) {
        return Ok(None);
    }
    let root = kelp_ipfs::parse_cid(hash).map_err(|e| OceanError::input(format!("{hash}: {e}")))?;
    let store = Store::open_default(&kelp_magic::Config::at(home))
        .map_err(|e| OceanError::input(format!("IPFS store: {e}")))?;
    if !store.has(&root) {
        // Not this machine's data: the node's fileInfo says whether it can fetch it.
        return Ok(None);
    }
    // A node that is down or on another chain is the first thing to say.
    NodeClient::of(net)?.check(net.chain_id).await?;
    let Some(url) = configured_kubo(ipfs_dir)? else {
        return Err(OceanError::input(format!(
            "{hash} is only in this machine's IPFS store, which the {} node cannot read: configure a Kubo node to push it to (%ipfs config set backend kubo=http://HOST:5001) or publish a URL the node can fetch",
            net.name
        )));
    };
    let kubo = kelp_ipfs::kubo::Kubo::new(&url).map_err(|e| OceanError::input(format!("Kubo {url}: {e}")))?;
    // The CAR waits beside the store while Kubo reads it, and is removed after.
    let path = home.join(format!(".kelp-push-{}-{hash}.car", std::process::id()));
    let out = path.clone();
    tokio::task::spawn_blocking(move || -> Result<()> {
        let mut w = std::io::BufWriter::new(std::fs::File::create(&out).map_err(|e| OceanError::io(&out, e))?);
        kelp_ipfs::car::export(&store, &root, &mut w)
            .map_err(|e| OceanError::input(format!("exporting {root}: {e}")))?;
        std::io::Write::flush(&mut w).map_err(|e| OceanError::io(&out, e))
    })
    .await
    .map_err(|e| OceanError::input(format!("exporting {hash}: {e}")))??;
    let imported = kubo.dag_import(&path).await;
    let _ = std::fs::remove_file(&path);
    let roots = imported.map_err(|e| {
        OceanError::input(format!("pushing {hash} to Kubo {url}: {e}; check that it runs, or publish a URL"))
    })?;
    if !roots.is_empty() && !roots.iter().any(|r| kelp_ipfs::parse_cid(r).is_ok_and(|c| c == root)) {
        return Err(OceanError::input(format!("Kubo {url} imported {roots:?}, not {hash}")));
    }
    Ok(Some(url))
}

/// Ask the node whether it can fetch `file` (not on the devnet, whose node reads this machine);
/// refuse, before any transaction, a file it reads as nothing.
pub async fn check_reachable(net: &Network, node: &NodeClient, file: &FileRef) -> Result<()> {
    if is_devnet(net) {
        return Ok(());
    }
    let infos = node.file_info_of(&file.to_json()).await?;
    let what = match file {
        FileRef::Ipfs { hash } => format!("IPFS file {hash}"),
        FileRef::Url { url } => format!("url file {url}"),
    };
    match infos.first() {
        Some(i) if !i.is_empty() => Ok(()),
        _ => Err(OceanError::input(format!(
            "the node at {} cannot fetch the {what} (its fileInfo read 0 bytes): make it reachable from the node, then publish again; nothing was sent",
            node.url()
        ))),
    }
}
