//! Data other nodes can reach (issue #10): on any network but the devnet, the node that serves
//! an asset is not on this machine, so it cannot read kelp's local IPFS store.
//!
//! - [`push_local_cid`]: an `ipfs` file whose root block is in the local store is pushed, before
//!   anything else, to a remote the network can fetch from ([`Remote`], chosen by
//!   `%publish --push-to` or from what `%ipfs` has configured, see [`choose`]): the Kubo node of
//!   `%ipfs config set backend kubo=URL` (the DAG as one CAR, `dag/import`, root pinned), a
//!   pinning service (IPFS Pinning Service API: it fetches the blocks from kelp's own IPFS node,
//!   which dials the service's delegates; kelp waits until it says `pinned`) or the Lighthouse
//!   Filecoin onramp (the file's bytes uploaded with the import settings that give its CID).
//!   With none configured the publish stops with one line saying how to configure one.
//! - [`check_reachable`]: the node's `fileInfo` of the file object, before any transaction; a
//!   file it reads as 0 bytes or the empty input's hash (Ocean Node's answer for a source it
//!   cannot reach) is refused in one line. It runs after the push, so a push the network cannot
//!   read from stops there.

mod remote;

use super::FileRef;
use crate::error::{OceanError, Result};
use crate::network::Network;
use crate::provider::NodeClient;
use kelp_ipfs::{IpfsConfig, Store};
use kelp_magic::EnvVars;
use std::path::Path;

/// Default Lighthouse node (its Kubo-style `/api/v0/add`); `KELP_LIGHTHOUSE_URL` overrides.
pub const LIGHTHOUSE_URL: &str = "https://node.lighthouse.storage";

/// Where a CID only this machine holds is pushed so that the network's node can fetch it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Remote {
    /// A Kubo RPC URL.
    Kubo(String),
    /// A pinning service configured for `%ipfs` by name.
    Pin(String),
    /// The Lighthouse onramp (`KELP_LIGHTHOUSE_TOKEN`, `KELP_LIGHTHOUSE_URL`).
    Lighthouse,
}

impl std::fmt::Display for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Remote::Kubo(url) => write!(f, "Kubo at {url}"),
            Remote::Pin(name) => write!(f, "pinning service {name}"),
            Remote::Lighthouse => write!(f, "Lighthouse"),
        }
    }
}

/// What `--push-to` accepts.
const PUSH_TO: &str = "kubo, kubo=URL, pin:NAME or lighthouse";

/// How to configure a remote, for the line that says none is.
const HOW: &str = "configure a remote to push it to: a Kubo node (%ipfs config set backend kubo=http://HOST:5001), a pinning service (%ipfs config set pin.NAME.endpoint URL and pin.NAME.token TOKEN) or Lighthouse (%env KELP_LIGHTHOUSE_TOKEN=KEY), or publish a URL the node can fetch";

/// Whether `net` is kelp's local devnet (its node reads this machine's store).
pub fn is_devnet(net: &Network) -> bool {
    net.name == "devnet"
}

/// The names of the pinning services `%ipfs` knows: saved in its config with an endpoint, or
/// given by `KELP_PIN_<NAME>_ENDPOINT` (named by `<NAME>` in lower case).
fn pin_services(cfg: &IpfsConfig, env: &EnvVars) -> Vec<String> {
    let mut names: Vec<String> =
        cfg.pin_services.iter().filter(|(_, s)| !s.endpoint.is_empty()).map(|(n, _)| n.clone()).collect();
    for (k, v) in env.all() {
        if let Some(key) = k.strip_prefix("KELP_PIN_").and_then(|k| k.strip_suffix("_ENDPOINT"))
            && !key.is_empty()
            && !v.is_empty()
            && !names.iter().any(|n| kelp_ipfs::pinsvc::env_key(n) == key)
        {
            names.push(key.to_ascii_lowercase());
        }
    }
    names
}

/// The remote a local-only CID goes to: `push_to` when given (`--push-to`), else the Kubo node
/// when `%ipfs`'s backend is Kubo, else the one configured pinning service, else Lighthouse when
/// its key is set; none (or several pinning services and no choice) is one line saying what to do.
pub fn choose(cfg: &IpfsConfig, env: &EnvVars, push_to: Option<&str>, stuck: &str) -> Result<Remote> {
    if let Some(spec) = push_to {
        return match spec {
            "kubo" => Ok(Remote::Kubo(cfg.kubo_url.clone())),
            s if s.starts_with("kubo=") && s.len() > 5 => Ok(Remote::Kubo(s[5..].to_string())),
            s if s.starts_with("pin:") && s.len() > 4 => Ok(Remote::Pin(s[4..].to_string())),
            "lighthouse" => Ok(Remote::Lighthouse),
            s => Err(OceanError::input(format!("--push-to {s:?} is not a remote: use {PUSH_TO}"))),
        };
    }
    match cfg.backend.as_str() {
        "kubo" => return Ok(Remote::Kubo(cfg.kubo_url.clone())),
        b if b.starts_with("kubo=") => return Ok(Remote::Kubo(b[5..].to_string())),
        _ => {}
    }
    let services = pin_services(cfg, env);
    match services.as_slice() {
        [one] => return Ok(Remote::Pin(one.clone())),
        [] => {}
        many => {
            return Err(OceanError::input(format!(
                "{stuck}: several pinning services are configured ({}); choose one with --push-to pin:NAME",
                many.join(", ")
            )));
        }
    }
    if env.get("KELP_LIGHTHOUSE_TOKEN").is_some_and(|t| !t.is_empty()) {
        return Ok(Remote::Lighthouse);
    }
    Err(OceanError::input(format!("{stuck}: {HOW}")))
}

/// Push `file`'s DAG from the local store under `home` to a remote ([`choose`]) when `net` is
/// not the devnet and only this machine holds it; returns the remote it went to (`None`:
/// nothing to push). `env` is the session's environment (pinning services, Lighthouse key,
/// kelp's IPFS node settings).
pub async fn push_local_cid(
    net: &Network,
    home: &Path,
    file: &FileRef,
    env: &EnvVars,
    push_to: Option<&str>,
) -> Result<Option<Remote>> {
    let FileRef::Ipfs { hash } = file else { return Ok(None) };
    if is_devnet(net) {
        return Ok(None);
    }
    let root = kelp_ipfs::parse_cid(hash).map_err(|e| OceanError::input(format!("{hash}: {e}")))?;
    let config = kelp_magic::Config::at(home);
    let store = Store::open_default(&config).map_err(|e| OceanError::input(format!("IPFS store: {e}")))?;
    if !store.has(&root) {
        // Not this machine's data: the node's fileInfo says whether it can fetch it.
        return Ok(None);
    }
    // A node that is down or on another chain is the first thing to say.
    NodeClient::of(net)?.check(net.chain_id).await?;
    let cfg = IpfsConfig::load(&config.dir("ipfs")).map_err(|e| OceanError::input(format!("%ipfs config: {e}")))?;
    let stuck = format!("{hash} is only in this machine's IPFS store, which the {} node cannot read", net.name);
    let to = choose(&cfg, env, push_to, &stuck)?;
    match &to {
        Remote::Kubo(url) => remote::to_kubo(url, &store, &root, home).await?,
        Remote::Pin(name) => {
            let svc = remote::pin_service(name, &cfg, env)?;
            remote::to_pin_service(&svc, &store, &root, &cfg, env).await?
        }
        Remote::Lighthouse => {
            let url = env.get("KELP_LIGHTHOUSE_URL").filter(|u| !u.is_empty()).unwrap_or(LIGHTHOUSE_URL.into());
            let token = env.get("KELP_LIGHTHOUSE_TOKEN").filter(|t| !t.is_empty()).ok_or_else(|| {
                OceanError::input("Lighthouse needs an API key: %env KELP_LIGHTHOUSE_TOKEN=KEY (it is never shown)")
            })?;
            let lh = kelp_ipfs::kubo::Kubo::new(&url)
                .map_err(|e| OceanError::input(format!("Lighthouse {url}: {e}")))?
                .with_bearer("Lighthouse", &token);
            remote::to_lighthouse(&lh, &store, &root, home).await?
        }
    }
    Ok(Some(to))
}

/// Ask the node whether it can fetch `file` (not on the devnet, whose node reads this machine);
/// refuse, before any transaction, a file it reads as nothing.
pub async fn check_reachable(net: &Network, node: &NodeClient, file: &FileRef) -> Result<()> {
    if is_devnet(net) {
        return Ok(());
    }
    let what = match file {
        FileRef::Ipfs { hash } => format!("IPFS file {hash}"),
        FileRef::Url { url } => format!("url file {url}"),
    };
    let cannot = |why: &str| {
        OceanError::input(format!(
            "the node at {} cannot fetch the {what} ({why}): make it reachable from the node, then publish again; nothing was sent",
            node.url()
        ))
    };
    let infos = match node.file_info_of(&file.to_json()).await {
        Ok(i) => i,
        // The node answers an error when it cannot read the source at all (an ipfs CID nobody
        // serves to it): that is the same verdict.
        Err(OceanError::Node { reason, .. }) if reason.starts_with("HTTP ") && !reason.starts_with("HTTP 429") => {
            return Err(cannot(&format!("its fileInfo failed: {}", first_line(&reason))));
        }
        Err(e) => return Err(e),
    };
    match infos.first() {
        Some(i) if !i.is_empty() => Ok(()),
        _ => Err(cannot("its fileInfo read 0 bytes")),
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> EnvVars {
        let e = EnvVars::default();
        for (k, v) in vars {
            e.set(k, Some(v.to_string()));
        }
        e
    }

    #[test]
    fn the_remote_is_the_choice_then_kubo_then_the_one_pin_service_then_lighthouse() {
        let mut cfg = IpfsConfig::default();
        let none = env(&[]);
        let e = choose(&cfg, &none, None, "X is only here").unwrap_err().to_string();
        assert!(e.starts_with("X is only here: configure a remote") && !e.contains('\n'), "{e}");
        let lh = env(&[("KELP_LIGHTHOUSE_TOKEN", "k")]);
        assert_eq!(choose(&cfg, &lh, None, "").unwrap(), Remote::Lighthouse);
        let pin = env(&[("KELP_LIGHTHOUSE_TOKEN", "k"), ("KELP_PIN_MY_SVC_ENDPOINT", "http://p")]);
        assert_eq!(choose(&cfg, &pin, None, "").unwrap(), Remote::Pin("my_svc".into()));
        cfg.set("pin.my_svc.endpoint", "http://q").unwrap();
        assert_eq!(choose(&cfg, &pin, None, "").unwrap(), Remote::Pin("my_svc".into()), "one service, two sources");
        cfg.set("pin.other.endpoint", "http://r").unwrap();
        let e = choose(&cfg, &pin, None, "X").unwrap_err().to_string();
        assert!(e.contains("several pinning services are configured (my_svc, other)"), "{e}");
        assert_eq!(choose(&cfg, &pin, Some("pin:other"), "").unwrap(), Remote::Pin("other".into()));
        cfg.set("backend", "kubo=http://127.0.0.1:5001").unwrap();
        assert_eq!(choose(&cfg, &pin, None, "").unwrap(), Remote::Kubo("http://127.0.0.1:5001".into()));
        assert_eq!(choose(&cfg, &pin, Some("lighthouse"), "").unwrap(), Remote::Lighthouse);
        assert_eq!(choose(&cfg, &pin, Some("kubo=http://h:1"), "").unwrap(), Remote::Kubo("http://h:1".into()));
        assert!(choose(&cfg, &pin, Some("pin:"), "").unwrap_err().to_string().contains("is not a remote"));
    }
}
