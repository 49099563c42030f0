//! kelp as a peer on the IPFS network: a libp2p node (TCP and QUIC, Noise, Yamux, Identify,
//! Ping) speaking Bitswap 1.2 that serves the local store to peers that ask and fetches the
//! blocks a read lacks from connected peers. This module owns its settings and the one node of
//! a process (the kernel's, or `kelp ipfs serve --listen`'s):
//!
//! - off by default; on with `%ipfs config network on` or [`NETWORK_ENV`]`=1`; peers to dial
//!   with `%ipfs config peers MULTIADDR,…` or [`PEERS_ENV`]; listen addresses with
//!   `%ipfs config listen MULTIADDR,…` or [`LISTEN_ENV`] (default [`DEFAULT_LISTEN`], loopback
//!   only); each block waits at most [`TIMEOUT_ENV`] seconds (default 10);
//! - the node is started lazily ([`session`]) the first time a command finds it enabled, runs on
//!   its own thread and runtime (submodule `node`), and is stopped by [`shutdown`] (the kernel
//!   calls it when it shuts down) or `%ipfs config network off`;
//! - Bitswap 1.2 is kelp's own (submodules `message`, `bitswap`; inbound streams through
//!   `inbound`, every one kept, outbound on `libp2p-stream`): a
//!   received block's CID is computed from its bytes, so only the block asked for can answer a
//!   want, and [`crate::fetch`] hashes it again before storing or following it; blocks over
//!   2 MiB are refused, messages over 4 MiB are not read, answers are cut into 1 MiB messages.
//!
//! - Kademlia (`/ipfs/kad/1.0.0`), off by default, on with `%ipfs config dht on` or
//!   [`DHT_ENV`]`=1` (with the network on): bootstrapped from the configured peers that speak
//!   it, it finds the providers of a block no connected peer sends (and dials them), and
//!   announces the roots kelp adds and pins ([`provide`]); submodule `node`'s child `dht`.

mod bitswap;
mod inbound;
mod message;
mod node;

pub use node::{Node, NodeInfo};

use crate::IpfsError;
use crate::store::Store;
use libp2p::Multiaddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// `1`/`on`: run the libp2p node (overrides `%ipfs config network`).
pub const NETWORK_ENV: &str = "KELP_IPFS_NETWORK";
/// Peers to dial, comma-separated multiaddrs (overrides `%ipfs config peers`).
pub const PEERS_ENV: &str = "KELP_IPFS_PEERS";
/// Addresses to listen on, comma-separated multiaddrs (overrides `%ipfs config listen`).
pub const LISTEN_ENV: &str = "KELP_IPFS_LISTEN";
/// `1`/`on`: run a Kademlia DHT client/provider in the node (overrides `%ipfs config dht`).
pub const DHT_ENV: &str = "KELP_IPFS_DHT";
/// Seconds to wait for one block from peers (default 10).
pub const TIMEOUT_ENV: &str = "KELP_IPFS_NETWORK_TIMEOUT";
/// Where the node listens when nothing is configured: loopback TCP and QUIC, ports chosen by
/// the system (serving the store beyond this machine is a choice to make explicitly).
pub const DEFAULT_LISTEN: &[&str] = &["/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/udp/0/quic-v1"];

/// The network settings of a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetSettings {
    pub enabled: bool,
    pub peers: Vec<Multiaddr>,
    pub listen: Vec<Multiaddr>,
    pub timeout: Duration,
    /// Kademlia on ([`DHT_ENV`], else `%ipfs config dht`: see [`NetSettings::with_dht`]).
    pub dht: bool,
}

impl NetSettings {
    /// From the environment first ([`NETWORK_ENV`], [`PEERS_ENV`], [`LISTEN_ENV`],
    /// [`TIMEOUT_ENV`]), then the saved `%ipfs config` values.
    pub fn from_env(
        get: impl Fn(&str) -> Option<String>,
        network: bool,
        peers: &[String],
        listen: &[String],
    ) -> Result<NetSettings, IpfsError> {
        let set = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let enabled = match set(NETWORK_ENV) {
            None => network,
            Some(v) => parse_switch(&v).ok_or_else(|| {
                IpfsError::BadOption(format!("{NETWORK_ENV}={v:?} is not valid: set it to 1 (on) or 0 (off)"))
            })?,
        };
        let peers = match set(PEERS_ENV) {
            Some(v) => parse_multiaddrs(&v, "peer")?,
            None => parse_multiaddrs(&peers.join(","), "peer")?,
        };
        let listen = match set(LISTEN_ENV) {
            Some(v) => parse_multiaddrs(&v, "listen address")?,
            None if !listen.is_empty() => parse_multiaddrs(&listen.join(","), "listen address")?,
            None => parse_multiaddrs(&DEFAULT_LISTEN.join(","), "listen address")?,
        };
        let timeout = match set(TIMEOUT_ENV) {
            None => Duration::from_secs(10),
            Some(v) => match v.trim().parse::<u64>() {
                Ok(s) if s > 0 => Duration::from_secs(s),
                _ => {
                    return Err(IpfsError::BadOption(format!(
                        "{TIMEOUT_ENV}={v:?} is not valid: set it to a whole number of seconds above 0, e.g. 10"
                    )));
                }
            },
        };
        let dht = match set(DHT_ENV) {
            None => false,
            Some(v) => parse_switch(&v).ok_or_else(|| {
                IpfsError::BadOption(format!("{DHT_ENV}={v:?} is not valid: set it to 1 (on) or 0 (off)"))
            })?,
        };
        Ok(NetSettings { enabled, peers, listen, timeout, dht })
    }

    /// The saved `%ipfs config dht` value, unless [`DHT_ENV`] is set.
    pub fn with_dht(mut self, get: impl Fn(&str) -> Option<String>, saved: bool) -> NetSettings {
        if get(DHT_ENV).filter(|v| !v.trim().is_empty()).is_none() {
            self.dht = saved;
        }
        self
    }
}

/// `on`/`off` (also `1`/`0`, `true`/`false`).
pub fn parse_switch(v: &str) -> Option<bool> {
    match v.trim() {
        "1" | "on" | "true" => Some(true),
        "0" | "off" | "false" => Some(false),
        _ => None,
    }
}

/// Comma-separated multiaddrs (empty text: none); `what` names them in the error.
pub fn parse_multiaddrs(list: &str, what: &str) -> Result<Vec<Multiaddr>, IpfsError> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<Multiaddr>().map_err(|e| {
                IpfsError::BadOption(format!(
                    "{what} {s:?} is not a multiaddr ({e}): use e.g. /ip4/127.0.0.1/tcp/4001/p2p/12D3KooW…"
                ))
            })
        })
        .collect()
}

/// One block from the node's Bitswap peers, verified here too (size and hash) whatever the
/// node checked.
pub(crate) async fn verified_block(node: &Node, cid: &cid::Cid, wait: Duration) -> Result<Vec<u8>, String> {
    let block = node.get(cid, wait).await?;
    if block.len() > crate::block::MAX_BLOCK {
        return Err(format!(
            "a peer sent {} bytes, over the {} MiB block limit: refused",
            block.len(),
            crate::block::MAX_BLOCK >> 20
        ));
    }
    if crate::block::sha256_multihash(&block) != *cid.hash() {
        return Err("a peer sent bytes that do not match the CID".into());
    }
    Ok(block)
}

/// The process's node: which store it serves and where it listens.
struct Session {
    node: Arc<Node>,
    store: PathBuf,
    listen: Vec<Multiaddr>,
    dht: bool,
}

static SESSION: Mutex<Option<Session>> = Mutex::new(None);

fn session_lock() -> std::sync::MutexGuard<'static, Option<Session>> {
    SESSION.lock().unwrap_or_else(|e| e.into_inner())
}

/// The process's running node for `settings`, started on first use (and restarted when the
/// store or listen addresses changed); `None` when the network is off. Newly configured peers
/// are dialled. Warnings of a start (unreachable peers) are in [`Node::start_warnings`].
pub async fn session(store: &Store, settings: &NetSettings) -> Result<Option<(Arc<Node>, bool)>, IpfsError> {
    if !settings.enabled {
        return Ok(None);
    }
    let running = {
        let s = session_lock();
        s.as_ref()
            .filter(|s| s.store == store.dir() && s.listen == settings.listen && s.dht == settings.dht)
            .map(|s| s.node.clone())
    };
    if let Some(node) = running {
        node.dial(settings.peers.clone())?;
        return Ok(Some((node, false)));
    }
    let node =
        Arc::new(Node::start_with(store.clone(), settings.listen.clone(), settings.peers.clone(), settings.dht).await?);
    let old = session_lock().replace(Session {
        node: node.clone(),
        store: store.dir().to_path_buf(),
        listen: settings.listen.clone(),
        dht: settings.dht,
    });
    if let Some(old) = old {
        tokio::task::spawn_blocking(move || old.node.stop());
    }
    Ok(Some((node, true)))
}

/// Announce `roots` on the DHT from the running node, if one runs with the DHT on (the node's
/// own thread does it; this never waits).
pub fn provide(roots: &[cid::Cid]) {
    let s = session_lock();
    if let Some(s) = s.as_ref().filter(|s| s.dht) {
        let _ = s.node.provide(roots.to_vec());
    }
}

/// The running node, if any (without starting one).
pub fn running() -> Option<Arc<Node>> {
    session_lock().as_ref().map(|s| s.node.clone())
}

/// Stop the process's node, if one runs: its connections are closed and its thread ends
/// (waits at most 5 s). The kernel calls this when it shuts down; `%ipfs config network off`
/// too. Safe to call from any thread, any number of times.
pub fn shutdown() {
    let old = session_lock().take();
    if let Some(s) = old {
        s.node.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings() {
        let none = |_: &str| None;
        let s = NetSettings::from_env(none, false, &[], &[]).unwrap();
        assert!(!s.enabled);
        assert_eq!(s.listen.len(), DEFAULT_LISTEN.len());
        assert_eq!(s.timeout, Duration::from_secs(10));
        let env = |k: &str| match k {
            NETWORK_ENV => Some("1".to_string()),
            PEERS_ENV => Some("/ip4/127.0.0.1/tcp/4001, /ip4/127.0.0.1/udp/4001/quic-v1".to_string()),
            _ => None,
        };
        let s = NetSettings::from_env(env, false, &["/ip4/10.0.0.1/tcp/1".into()], &[]).unwrap();
        assert!(s.enabled);
        assert_eq!(s.peers.len(), 2, "the environment replaces the saved peers");
        let bad = |k: &str| (k == NETWORK_ENV).then(|| "yes".to_string());
        let e = NetSettings::from_env(bad, false, &[], &[]).unwrap_err().to_string();
        assert!(e.contains(NETWORK_ENV) && e.contains("1 (on)"), "{e}");
        let e = parse_multiaddrs("127.0.0.1:4001", "peer").unwrap_err().to_string();
        assert!(e.contains("\"127.0.0.1:4001\" is not a multiaddr") && !e.contains('\n'), "{e}");
        let bad = |k: &str| (k == TIMEOUT_ENV).then(|| "0".to_string());
        assert!(NetSettings::from_env(bad, true, &[], &[]).unwrap_err().to_string().contains(TIMEOUT_ENV));
        assert!(!s.dht && s.clone().with_dht(none, true).dht, "the saved dht value applies");
        let off = |k: &str| (k == DHT_ENV).then(|| "0".to_string());
        let s = NetSettings::from_env(off, true, &[], &[]).unwrap();
        assert!(!s.with_dht(off, true).dht, "{DHT_ENV}=0 overrides the saved value");
        let bad = |k: &str| (k == DHT_ENV).then(|| "maybe".to_string());
        assert!(NetSettings::from_env(bad, true, &[], &[]).unwrap_err().to_string().contains(DHT_ENV));
    }
}
