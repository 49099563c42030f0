//! `%ipfs` and the network: fetching what the local store lacks before cat/get/ls/stat/car
//! export read it, from Bitswap peers when the network is on and from trustless gateways
//! (progress, warnings, interrupt), and `%ipfs serve --gateway ADDR` / `--listen MULTIADDR`
//! (`kelp ipfs serve …`), which serves the store until interrupted.

use super::results::{Serve, Serving};
use super::{IpfsConfig, fail};
use crate::fetch::{FetchEvent, Gateways, Scope};
use crate::gateway::GatewayServer;
use crate::net::{NetSettings, Node};
use crate::{IpfsError, Store};
use clap::Args;
use kelp_magic::{MagicContext, MagicResult, Output, Progress, Result};
use std::sync::Arc;

/// The session's gateways (`KELP_IPFS_GATEWAYS`, `KELP_IPFS_OFFLINE`, the config).
pub(crate) fn gateways(ctx: &MagicContext, cfg: &IpfsConfig, offline: bool) -> Result<Gateways> {
    Ok(Gateways::from_env(|k| ctx.env.get(k), &cfg.gateways).map_err(fail)?.offline(offline))
}

/// The session's network settings (`KELP_IPFS_NETWORK`, `KELP_IPFS_PEERS`, `KELP_IPFS_LISTEN`,
/// `KELP_IPFS_NETWORK_TIMEOUT`, the config).
pub(crate) fn net_settings(ctx: &MagicContext, cfg: &IpfsConfig) -> Result<NetSettings> {
    Ok(NetSettings::from_env(|k| ctx.env.get(k), cfg.network, &cfg.peers, &cfg.listen)
        .map_err(fail)?
        .with_dht(|k| ctx.env.get(k), cfg.dht))
}

/// The process's node when the network is on (started now if it was not running; the
/// start's warnings are shown).
pub(crate) async fn node(ctx: &MagicContext, store: &Store, net: &NetSettings) -> Result<Option<Arc<Node>>> {
    let Some((node, started)) = crate::net::session(store, net).await.map_err(fail)? else { return Ok(None) };
    if started {
        for w in &node.start_warnings {
            ctx.eprint(&format!("{w}\n"));
        }
    }
    Ok(Some(node))
}

/// Announce `roots` on the DHT when the network and the DHT are on (the node is started if it
/// was not running; the announcement runs on the node's thread). What was added stays added
/// whatever happens here: a problem is one warning line.
pub(crate) async fn provide(ctx: &MagicContext, cfg: &IpfsConfig, roots: &[cid::Cid]) {
    let r = async {
        let net = net_settings(ctx, cfg)?;
        if !(net.enabled && net.dht) || cfg.offline {
            return Ok(());
        }
        let store = super::open_store(ctx)?;
        if let Some(node) = node(ctx, &store, &net).await? {
            node.provide(roots.to_vec()).map_err(fail)?;
        }
        Ok::<(), kelp_magic::MagicError>(())
    };
    if let Err(e) = r.await {
        ctx.eprint(&format!("warning: not announced on the DHT: {e}\n"));
    }
}

/// Make sure `scope` of `cid` is in the store, fetching what is missing from Bitswap peers (when
/// the network is on) and the gateways.
pub(crate) async fn ensure(
    ctx: &MagicContext,
    cfg: &IpfsConfig,
    store: &Store,
    cid: &cid::Cid,
    scope: Scope,
    offline: bool,
) -> Result<()> {
    let mut gw = gateways(ctx, cfg, offline)?;
    let mut from = "gateways";
    if !gw.is_offline() {
        let net = net_settings(ctx, cfg)?;
        if let Some(node) = node(ctx, store, &net).await? {
            gw = gw.with_network(node, net.timeout);
            from = "peers and gateways";
        }
    }
    let mut progress = Progress::bytes(ctx, format!("fetching {cid} from {from} (verified)"), None);
    let warn_ctx = ctx.clone();
    let mut on = |e: FetchEvent| match e {
        FetchEvent::Block(n) => progress.inc(n),
        FetchEvent::Warning(w) => warn_ctx.eprint(&format!("{w}\n")),
    };
    let report = gw.fetch(store, cid, scope, &ctx.cancel, &mut on).await.map_err(fail)?;
    if report.fetched_blocks > 0 {
        progress.finish(&format!(
            "fetched {} blocks ({} bytes) of {cid}, every one verified",
            report.fetched_blocks, report.fetched_bytes
        ));
    }
    Ok(())
}

#[derive(Args, Debug)]
#[command(group = clap::ArgGroup::new("what").required(true).multiple(true).args(["gateway", "listen"]))]
pub(crate) struct ServeArgs {
    /// Serve the store as a trustless gateway on ADDR (loopback, e.g. 127.0.0.1:8080).
    #[arg(long, value_name = "ADDR")]
    pub gateway: Option<String>,
    /// Serve the store to IPFS peers over Bitswap, listening on MULTIADDR (repeatable or
    /// comma-separated, e.g. /ip4/127.0.0.1/tcp/4001); dials the configured peers too.
    #[arg(long, value_name = "MULTIADDR")]
    pub listen: Vec<String>,
    /// Print the peer id and listen addresses as one JSON line when serving starts (`kelp ipfs
    /// serve --listen … --json` sets it too).
    #[arg(long, hide = true)]
    pub json: bool,
    /// Also accept a non-loopback ADDR (anyone who reaches it can read every block).
    #[arg(long)]
    pub allow_remote: bool,
}

pub(crate) async fn serve(a: ServeArgs, ctx: &MagicContext, cfg: &IpfsConfig) -> Result<Output> {
    let store = super::open_store(ctx)?;
    let server = match &a.gateway {
        None => None,
        Some(g) => {
            let addr: std::net::SocketAddr = g.parse().map_err(|_| {
                fail(IpfsError::BadOption(format!(
                    "--gateway {g:?} is not an address: use IP:PORT, e.g. 127.0.0.1:8080"
                )))
            })?;
            Some(GatewayServer::start(store.clone(), addr, a.allow_remote).await.map_err(fail)?)
        }
    };
    let mut r = Serve { stopped: true, ..Serve::default() };
    if let Some(server) = &server {
        let url = server.url();
        let scope = if server.addr().ip().is_loopback() { "loopback only" } else { "REMOTE clients allowed" };
        ctx.print(&format!("serving the IPFS store as a trustless gateway on {url} ({scope}); interrupt to stop\n"));
        r.url = Some(url);
    }
    // Its own node, not the session's: it lives exactly as long as this command.
    let node = if a.listen.is_empty() {
        None
    } else {
        let listen = crate::net::parse_multiaddrs(&a.listen.join(","), "--listen address").map_err(fail)?;
        let net = net_settings(ctx, cfg)?;
        let node = Node::start_with(store, listen, net.peers, net.dht).await.map_err(fail)?;
        node.start_warnings.iter().for_each(|w| ctx.eprint(&format!("{w}\n")));
        let info = node.info().await.map_err(fail)?;
        let addrs: Vec<String> = info.listen.iter().map(|a| a.to_string()).collect();
        if a.json || std::env::args().any(|a| a == "--json") {
            let line = Serving { peer_id: info.peer_id.to_string(), listen: addrs.clone() };
            ctx.print(&format!("{}\n", serde_json::to_string(&line).unwrap_or_default()));
        } else {
            ctx.print(&format!(
                "serving the IPFS store over Bitswap as peer {} on {}; interrupt to stop\n",
                info.peer_id,
                addrs.join(", ")
            ));
        }
        r.peer_id = Some(info.peer_id.to_string());
        r.listen = Some(addrs);
        Some(node)
    };
    ctx.cancel.cancelled().await;
    if let Some(server) = server {
        server.stop().await;
    }
    if let Some(node) = node {
        tokio::task::spawn_blocking(move || node.stop()).await.ok();
    }
    Ok(r.output())
}
