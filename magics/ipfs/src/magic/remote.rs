//! `%ipfs` and the network of trustless gateways: fetching what the local store lacks before
//! cat/get/ls/stat/car export read it (progress, warnings, interrupt), and `%ipfs serve
//! --gateway ADDR` (`kelp ipfs serve …`), which serves the store until interrupted.

use super::{IpfsConfig, bundle, fail};
use crate::fetch::{FetchEvent, Gateways, Scope};
use crate::gateway::GatewayServer;
use crate::{IpfsError, Store};
use clap::Args;
use kelp_magic::{MagicContext, Output, Progress, Result, html_escape};
use serde_json::json;

/// The session's gateways (`KELP_IPFS_GATEWAYS`, `KELP_IPFS_OFFLINE`, the config).
pub(crate) fn gateways(ctx: &MagicContext, cfg: &IpfsConfig, offline: bool) -> Result<Gateways> {
    Ok(Gateways::from_env(|k| ctx.env.get(k), &cfg.gateways).map_err(fail)?.offline(offline))
}

/// Make sure `scope` of `cid` is in the store, fetching what is missing from the gateways.
pub(crate) async fn ensure(
    ctx: &MagicContext,
    cfg: &IpfsConfig,
    store: &Store,
    cid: &cid::Cid,
    scope: Scope,
    offline: bool,
) -> Result<()> {
    let gw = gateways(ctx, cfg, offline)?;
    let mut progress = Progress::bytes(ctx, format!("fetching {cid} from gateways (verified)"), None);
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
pub(crate) struct ServeArgs {
    /// Serve the store as a trustless gateway on ADDR (loopback, e.g. 127.0.0.1:8080).
    #[arg(long, value_name = "ADDR")]
    pub gateway: String,
    /// Also accept a non-loopback ADDR (anyone who reaches it can read every block).
    #[arg(long)]
    pub allow_remote: bool,
}

pub(crate) async fn serve(a: ServeArgs, ctx: &MagicContext) -> Result<Output> {
    let addr: std::net::SocketAddr = a.gateway.parse().map_err(|_| {
        fail(IpfsError::BadOption(format!(
            "--gateway {:?} is not an address: use IP:PORT, e.g. 127.0.0.1:8080",
            a.gateway
        )))
    })?;
    let store = super::open_store(ctx)?;
    let server = GatewayServer::start(store, addr, a.allow_remote).await.map_err(fail)?;
    let url = server.url();
    let scope = if server.addr().ip().is_loopback() { "loopback only" } else { "REMOTE clients allowed" };
    ctx.print(&format!("serving the IPFS store as a trustless gateway on {url} ({scope}); interrupt to stop\n"));
    ctx.cancel.cancelled().await;
    server.stop().await;
    let j = json!({"url": url, "stopped": true});
    Ok(bundle(format!("stopped the gateway on {url}"), "%ipfs serve", &[("url", html_escape(&url))], j))
}
