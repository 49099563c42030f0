//! `%ipfs pin add|ls|rm`: pins in the embedded store, or on a Kubo node with `--to kubo`.

use super::{IpfsConfig, Target, blocking, bundle, cid_html, fail, open_store, pin_service};
use crate::kubo::Kubo;
use crate::parse_cid;
use crate::pinsvc::PinRequest;
use clap::Subcommand;
use kelp_magic::{MagicContext, Output, Result, html_escape};
use serde_json::json;

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
                    let c = cid.to_string();
                    let j = json!({"cid": c, "pinned": st.status == "pinned", "name": name, "service": svc_name,
                        "requestid": st.requestid, "status": st.status});
                    let text = format!("pin of {c} requested at {svc_name}: {} ({})", st.status, st.requestid);
                    let rows = [("CID", cid_html(&c, &cfg.gateway)), ("status", html_escape(&st.status))];
                    return Ok(bundle(text, "%ipfs pin add --to pin", &rows, j));
                }
            }
            let c = cid.to_string();
            let j = json!({"cid": c, "pinned": true, "name": name});
            Ok(bundle(format!("pinned {c}"), "%ipfs pin add", &[("CID", cid_html(&c, &cfg.gateway))], j))
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
            let c = cid.to_string();
            let text = if removed { format!("unpinned {c}") } else { format!("{c} was not pinned") };
            Ok(bundle(
                text,
                "%ipfs pin rm",
                &[("CID", cid_html(&c, &cfg.gateway))],
                json!({"cid": c, "removed": removed}),
            ))
        }
        PinCmd::Ls { to } => {
            let pins: Vec<serde_json::Value> = match Target::parse(to.as_deref(), cfg).map_err(fail)? {
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
                    .map(|(cid, ty)| json!({"cid": cid, "type": ty}))
                    .collect(),
                Target::Pin(svc_name) => {
                    let svc = pin_service(&svc_name, cfg, ctx)?;
                    svc.list(None)
                        .await
                        .map_err(fail)?
                        .results
                        .into_iter()
                        .map(|p| json!({"cid": p.pin.cid, "name": p.pin.name, "status": p.status, "requestid": p.requestid, "created": p.created}))
                        .collect()
                }
            };
            let cids: Vec<String> = pins.iter().map(|p| p["cid"].as_str().unwrap_or("").to_string()).collect();
            let sizes: Vec<Option<u64>> = pins.iter().map(|p| p["size"].as_u64()).collect();
            let text = if cids.is_empty() {
                "no pins".to_string()
            } else {
                cids.iter().zip(&sizes).map(|(c, s)| sized(c, *s)).collect::<Vec<_>>().join("\n")
            };
            let rows: Vec<(&str, String)> =
                cids.iter().zip(&sizes).map(|(c, s)| ("pin", html_escape(&sized(c, *s)))).collect();
            Ok(bundle(text, "%ipfs pin ls", &rows, json!({"pins": pins})))
        }
    }
}

/// A local pin's record with what its root says it holds, read from the store alone (never
/// fetched): `size` (a file's bytes; 0 for a directory), `cumulative_size` (the DAG's bytes,
/// Kubo's `CumulativeSize`) and `kind`; all three `null` when the root cannot be read.
fn with_size(store: &crate::Store, p: crate::store::Pin) -> serde_json::Value {
    let mut j = json!(p);
    let st = parse_cid(&p.cid).ok().and_then(|c| crate::exporter::stat(store, &c).ok());
    j["size"] = json!(st.as_ref().map(|s| s.size));
    j["cumulative_size"] = json!(st.as_ref().map(|s| s.cumulative_size));
    j["kind"] = json!(st.map(|s| s.kind));
    j
}

/// `CID` with its size when known (`CID  1234 bytes`).
fn sized(cid: &str, size: Option<u64>) -> String {
    match size {
        Some(n) => format!("{cid}  {n} bytes"),
        None => cid.to_string(),
    }
}
