//! `%ipfs pin add|ls|rm`: pins in the embedded store, or on a Kubo node with `--to kubo`.

use super::{IpfsConfig, Target, blocking, bundle, cid_html, fail, open_store};
use crate::kubo::Kubo;
use crate::parse_cid;
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
        /// local (default) or kubo[=URL].
        #[arg(long, value_name = "local|kubo[=URL]")]
        to: Option<String>,
    },
    /// List pins.
    Ls {
        /// local (default) or kubo[=URL].
        #[arg(long, value_name = "local|kubo[=URL]")]
        to: Option<String>,
    },
    /// Remove a pin (gc then frees its blocks).
    Rm {
        cid: String,
        /// local (default) or kubo[=URL].
        #[arg(long, value_name = "local|kubo[=URL]")]
        to: Option<String>,
    },
}

pub(crate) async fn run(cmd: PinCmd, ctx: &MagicContext, cfg: &IpfsConfig) -> Result<Output> {
    match cmd {
        PinCmd::Add { cid, name, to } => {
            let cid = parse_cid(&cid).map_err(fail)?;
            match Target::parse(to.as_deref(), cfg).map_err(fail)? {
                Target::Local => {
                    let store = open_store(ctx)?;
                    let n = name.clone();
                    blocking(move || store.pin(&cid, n.as_deref())).await?;
                }
                Target::Kubo(url) => Kubo::new(&url).map_err(fail)?.pin_add(&cid.to_string()).await.map_err(fail)?,
            }
            let c = cid.to_string();
            let j = json!({"cid": c, "pinned": true, "name": name});
            Ok(bundle(format!("pinned {c}"), "%ipfs pin add", &[("CID", cid_html(&c, &cfg.gateway))], j))
        }
        PinCmd::Rm { cid, to } => {
            let cid = parse_cid(&cid).map_err(fail)?;
            let removed = match Target::parse(to.as_deref(), cfg).map_err(fail)? {
                Target::Local => {
                    let store = open_store(ctx)?;
                    blocking(move || store.unpin(&cid)).await?
                }
                Target::Kubo(url) => {
                    Kubo::new(&url).map_err(fail)?.pin_rm(&cid.to_string()).await.map_err(fail)?;
                    true
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
                Target::Local => {
                    let store = open_store(ctx)?;
                    blocking(move || store.pins()).await?.into_iter().map(|p| json!(p)).collect()
                }
                Target::Kubo(url) => Kubo::new(&url)
                    .map_err(fail)?
                    .pin_ls(None)
                    .await
                    .map_err(fail)?
                    .into_iter()
                    .map(|(cid, ty)| json!({"cid": cid, "type": ty}))
                    .collect(),
            };
            let cids: Vec<String> = pins.iter().map(|p| p["cid"].as_str().unwrap_or("").to_string()).collect();
            let text = if cids.is_empty() { "no pins".to_string() } else { cids.join("\n") };
            let rows: Vec<(&str, String)> = cids.iter().map(|c| ("pin", html_escape(c))).collect();
            Ok(bundle(text, "%ipfs pin ls", &rows, json!({"pins": pins})))
        }
    }
}
