//! `%ipfs pin add|ls|rm`: pins in the embedded store, or on a Kubo node with `--to kubo`.

use super::results::{PinAdd, PinAddService, PinLs, PinRm, Pinned};
use super::{IpfsConfig, Target, blocking, fail, open_store, pin_service};
use crate::kubo::Kubo;
use crate::parse_cid;
use crate::pinsvc::PinRequest;
use clap::Subcommand;
use kelp_magic::{MagicContext, MagicResult, Output, Result};

#[derive(Subcommand, Debug)]
pub(crate) enum PinCmd {
    /// Pin a CID (all its blocks must be present).
    Add {
        cid: String,
        /// A name for the pin.
        #[arg(long)]
        name: Option<String>,
        /// local (default), kubo[=URL] or pin:NAME.
        #[arg(long, value_name = "local|kubo[=URL]|pin:NAME")]
        to: Option<String>,
    },
    /// List pins.
    Ls {
        /// local (default), kubo[=URL] or pin:NAME.
        #[arg(long, value_name = "local|kubo[=URL]|pin:NAME")]
        to: Option<String>,
    },
    /// Remove a pin (gc then frees its blocks).
    Rm {
        cid: String,
        /// local (default), kubo[=URL] or pin:NAME.
        #[arg(long, value_name = "local|kubo[=URL]|pin:NAME")]
        to: Option<String>,
    },
}

pub(crate) async fn run(cmd: PinCmd, ctx: &MagicContext, cfg: &IpfsConfig) -> Result<Output> {
    match cmd {
        PinCmd::Add { cid, name, to } => {
            let cid = parse_cid(&cid).map_err(fail)?;
            match Target::parse(to.as_deref(), cfg).map_err(fail)? {
                Target::Lighthouse => return Err(fail(super::lighthouse_add_only())),
                Target::Local => {
                    let store = open_store(ctx)?;
                    let n = name.clone();
                    blocking(move || store.pin(&cid, n.as_deref())).await?;
                    super::remote::provide(ctx, cfg, &[cid]).await;
                }
                Target::Kubo(url) => Kubo::new(&url).map_err(fail)?.pin_add(&cid.to_string()).await.map_err(fail)?,
                Target::Pin(svc_name) => {
                    let svc = pin_service(&svc_name, cfg, ctx)?;
                    let req = PinRequest {
                        cid: cid.to_string(),
                        name: name.clone(),
                        origins: vec![],
                        meta: Default::default(),
                    };
                    let st = svc.add(&req).await.map_err(fail)?;
                    let r = PinAddService {
                        cid: cid.to_string(),
                        pinned: st.status == "pinned",
                        name,
                        service: svc_name,
                        requestid: st.requestid,
                        status: st.status,
                        gateway: cfg.gateway.clone(),
                    };
                    return Ok(r.output());
                }
            }
            Ok(PinAdd { cid: cid.to_string(), pinned: true, name, gateway: cfg.gateway.clone() }.output())
        }
        PinCmd::Rm { cid, to } => {
            let cid = parse_cid(&cid).map_err(fail)?;
            let removed = match Target::parse(to.as_deref(), cfg).map_err(fail)? {
                Target::Lighthouse => return Err(fail(super::lighthouse_add_only())),
                Target::Local => {
                    let store = open_store(ctx)?;
                    blocking(move || store.unpin(&cid)).await?
                }
                Target::Kubo(url) => {
                    Kubo::new(&url).map_err(fail)?.pin_rm(&cid.to_string()).await.map_err(fail)?;
                    true
                }
                Target::Pin(svc_name) => {
                    let svc = pin_service(&svc_name, cfg, ctx)?;
                    let found = svc.list(Some(&cid.to_string())).await.map_err(fail)?;
                    for p in &found.results {
                        svc.remove(&p.requestid).await.map_err(fail)?;
                    }
                    !found.results.is_empty()
                }
            };
            Ok(PinRm { cid: cid.to_string(), removed, gateway: cfg.gateway.clone() }.output())
        }
        PinCmd::Ls { to } => {
            let pins: Vec<Pinned> = match Target::parse(to.as_deref(), cfg).map_err(fail)? {
                Target::Lighthouse => return Err(fail(super::lighthouse_add_only())),
                Target::Local => {
                    let store = open_store(ctx)?;
                    blocking(move || Ok(store.pins()?.into_iter().map(|p| with_size(&store, p)).collect::<Vec<_>>()))
                        .await?
                }
                Target::Kubo(url) => Kubo::new(&url)
                    .map_err(fail)?
                    .pin_ls(None)
                    .await
                    .map_err(fail)?
                    .into_iter()
                    .map(|(cid, ty)| Pinned::Kubo { cid, ty })
                    .collect(),
                Target::Pin(svc_name) => {
                    let svc = pin_service(&svc_name, cfg, ctx)?;
                    svc.list(None)
                        .await
                        .map_err(fail)?
                        .results
                        .into_iter()
                        .map(|p| Pinned::Service {
                            cid: p.pin.cid,
                            name: p.pin.name,
                            status: p.status,
                            requestid: p.requestid,
                            created: p.created,
                        })
                        .collect()
                }
            };
            Ok(PinLs { pins }.output())
        }
    }
}

/// A local pin's record with what its root says it holds, read from the store alone (never
/// fetched): `size` (a file's bytes; 0 for a directory), `cumulative_size` (the DAG's bytes,
/// Kubo's `CumulativeSize`) and `kind`; all three `null` when the root cannot be read.
fn with_size(store: &crate::Store, p: crate::store::Pin) -> Pinned {
    let st = parse_cid(&p.cid).ok().and_then(|c| crate::exporter::stat(store, &c).ok());
    Pinned::Local {
        cid: p.cid,
        name: p.name,
        created: p.created,
        size: st.as_ref().map(|s| s.size),
        cumulative_size: st.as_ref().map(|s| s.cumulative_size),
        kind: st.map(|s| s.kind),
    }
}
