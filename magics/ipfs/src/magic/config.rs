//! `%ipfs config show|set`: settings persisted in `$KELP_HOME/ipfs/config.json`.

use super::fail;
use super::results::{Config as ConfigShown, NodeShown, PinServiceShown};
use crate::IpfsError;
use clap::Subcommand;
use kelp_magic::{MagicContext, MagicResult, Output, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// Persisted `%ipfs` settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct IpfsConfig {
    /// Default target of add/cat/get/pin: `local` or `kubo`.
    pub backend: String,
    /// Kubo RPC URL used by `--to kubo`.
    pub kubo_url: String,
    /// Gateway used for links in HTML output.
    pub gateway: String,
    /// Trustless gateways blocks missing from the store are fetched from, in order (empty: the
    /// public defaults of [`crate::fetch::DEFAULT_GATEWAYS`]). `KELP_IPFS_GATEWAYS` overrides.
    pub gateways: Vec<String>,
    /// Run the libp2p node (Bitswap peer; see [`crate::net`]). `KELP_IPFS_NETWORK` overrides.
    pub network: bool,
    /// Peers the node dials (multiaddrs). `KELP_IPFS_PEERS` overrides.
    pub peers: Vec<String>,
    /// Where the node listens (empty: [`crate::net::DEFAULT_LISTEN`]). `KELP_IPFS_LISTEN`
    /// overrides.
    pub listen: Vec<String>,
    /// Run a Kademlia DHT client/provider in the node (see [`crate::net`]). `KELP_IPFS_DHT`
    /// overrides.
    pub dht: bool,
    /// Remote pinning services by name (`--to pin:NAME`). Environment variables
    /// `KELP_PIN_<NAME>_ENDPOINT` / `KELP_PIN_<NAME>_TOKEN` take precedence.
    pub pin_services: BTreeMap<String, PinServiceConfig>,
    /// `--offline` of the current command (never saved).
    #[serde(skip)]
    pub offline: bool,
}

/// A pinning service entry of the config. The token is never shown.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PinServiceConfig {
    pub endpoint: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

impl Default for IpfsConfig {
    fn default() -> Self {
        IpfsConfig {
            backend: "local".into(),
            kubo_url: crate::kubo::DEFAULT_URL.into(),
            gateway: "https://ipfs.io".into(),
            gateways: Vec::new(),
            network: false,
            peers: Vec::new(),
            listen: Vec::new(),
            dht: false,
            pin_services: BTreeMap::new(),
            offline: false,
        }
    }
}

pub const KEYS: &[&str] = &["backend", "kubo_url", "gateway", "gateways", "network", "peers", "listen", "dht"];

impl IpfsConfig {
    pub fn load(dir: &Path) -> std::result::Result<IpfsConfig, IpfsError> {
        match std::fs::read(dir.join("config.json")) {
            Ok(b) => serde_json::from_slice(&b).map_err(|e| {
                IpfsError::Corrupt(format!("{}: {e}; fix or delete it", dir.join("config.json").display()))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(IpfsConfig::default()),
            Err(e) => Err(IpfsError::io("reading the %ipfs config")(e)),
        }
    }

    pub fn save(&self, dir: &Path) -> std::result::Result<(), IpfsError> {
        std::fs::create_dir_all(dir).map_err(IpfsError::io("creating the IPFS directory"))?;
        let tmp = dir.join(format!(".config.json.{}", std::process::id()));
        let bytes = serde_json::to_vec_pretty(self).expect("config serialises");
        let write = || -> std::io::Result<()> {
            let mut o = std::fs::OpenOptions::new();
            o.write(true).create(true).truncate(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
            std::io::Write::write_all(&mut o.open(&tmp)?, &bytes)?;
            std::fs::rename(&tmp, dir.join("config.json"))
        };
        write().map_err(IpfsError::io("writing the %ipfs config"))
    }

    pub fn set(&mut self, key: &str, value: &str) -> std::result::Result<(), IpfsError> {
        match key {
            "backend" => {
                let v = match value {
                    "local" | "kubo" => value.to_string(),
                    v if v.starts_with("kubo=") => {
                        self.kubo_url = v["kubo=".len()..].to_string();
                        "kubo".into()
                    }
                    v => {
                        return Err(IpfsError::BadOption(format!(
                            "backend {v:?} is not valid: use local, kubo or kubo=URL"
                        )));
                    }
                };
                if v == "kubo" {
                    crate::kubo::Kubo::new(&self.kubo_url)?;
                }
                self.backend = v;
            }
            "kubo_url" => {
                crate::kubo::Kubo::new(value)?;
                self.kubo_url = value.to_string();
            }
            "gateway" => {
                if !(value.starts_with("http://") || value.starts_with("https://")) {
                    return Err(IpfsError::BadOption(format!("gateway {value:?} must be an http(s) URL")));
                }
                self.gateway = value.trim_end_matches('/').to_string();
            }
            "gateways" => {
                self.gateways = match value.trim() {
                    "default" => Vec::new(),
                    v => crate::fetch::Gateways::parse_list(v)?,
                };
            }
            "network" => {
                self.network = crate::net::parse_switch(value)
                    .ok_or_else(|| IpfsError::BadOption(format!("network {value:?} is not valid: use on or off")))?;
            }
            "dht" => {
                self.dht = crate::net::parse_switch(value)
                    .ok_or_else(|| IpfsError::BadOption(format!("dht {value:?} is not valid: use on or off")))?;
            }
            "peers" | "listen" => {
                let what = if key == "peers" { "peer" } else { "listen address" };
                let list = match value.trim() {
                    "none" | "default" => Vec::new(),
                    v => crate::net::parse_multiaddrs(v, what)?.iter().map(|a| a.to_string()).collect(),
                };
                if key == "peers" { self.peers = list } else { self.listen = list }
            }
            k if k.starts_with("pin.") => {
                let (name, field) = k["pin.".len()..].rsplit_once('.').unwrap_or(("", ""));
                if name.is_empty() {
                    return Err(IpfsError::BadOption(format!(
                        "config key {k:?}: use pin.NAME.endpoint or pin.NAME.token"
                    )));
                }
                let entry = self.pin_services.entry(name.to_string()).or_default();
                match field {
                    "endpoint" => {
                        crate::pinsvc::PinService::new(name, value, "x")?;
                        entry.endpoint = value.trim_end_matches('/').to_string();
                    }
                    "token" => entry.token = Some(value.to_string()),
                    _ => {
                        return Err(IpfsError::BadOption(format!(
                            "config key {k:?}: use pin.NAME.endpoint or pin.NAME.token"
                        )));
                    }
                }
            }
            k => {
                return Err(IpfsError::BadOption(format!(
                    "unknown config key {k:?}: use one of {}, pin.NAME.endpoint, pin.NAME.token",
                    KEYS.join(", ")
                )));
            }
        }
        Ok(())
    }
}

#[derive(Subcommand, Debug)]
pub(crate) enum ConfigCmd {
    /// Show the settings and the store location.
    Show,
    /// Set a key: backend (local|kubo|kubo=URL), kubo_url, gateway.
    Set { key: String, value: String },
    /// Set the trustless gateways to fetch missing blocks from (URL[,URL…], or `default`).
    Gateways { list: String },
    /// Turn the IPFS network node (a Bitswap peer inside the kernel) on or off.
    Network { state: String },
    /// Turn the node's Kademlia DHT client/provider on or off (needs the network on).
    Dht { state: String },
    /// Set the peers the node dials (MULTIADDR[,MULTIADDR…], or `none`).
    Peers { list: String },
    /// Set where the node listens (MULTIADDR[,…], or `default` = loopback TCP and QUIC).
    Listen { list: String },
}

pub(crate) async fn run(cmd: ConfigCmd, ctx: &MagicContext, mut cfg: IpfsConfig) -> Result<Output> {
    let dir = ctx.config.dir("ipfs");
    let set = match &cmd {
        ConfigCmd::Show => None,
        ConfigCmd::Set { key, value } => Some((key.as_str(), value.as_str())),
        ConfigCmd::Gateways { list } => Some(("gateways", list.as_str())),
        ConfigCmd::Network { state } => Some(("network", state.as_str())),
        ConfigCmd::Dht { state } => Some(("dht", state.as_str())),
        ConfigCmd::Peers { list } => Some(("peers", list.as_str())),
        ConfigCmd::Listen { list } => Some(("listen", list.as_str())),
    };
    if let Some((key, value)) = set {
        cfg.set(key, value).map_err(fail)?;
        cfg.save(&dir).map_err(fail)?;
    }
    let node = network_now(ctx, &cfg).await?;
    let gateways: Vec<String> = if cfg.gateways.is_empty() {
        crate::fetch::DEFAULT_GATEWAYS.iter().map(|s| s.to_string()).collect()
    } else {
        cfg.gateways.clone()
    };
    let pin_services = cfg
        .pin_services
        .iter()
        .map(|(k, v)| {
            let token = if v.token.is_some() { "set" } else { "unset" };
            (k.clone(), PinServiceShown { endpoint: v.endpoint.clone(), token: token.into() })
        })
        .collect();
    let node = node.map(|info| NodeShown {
        peer_id: info.peer_id.to_string(),
        listen: info.listen.iter().map(|a| a.to_string()).collect(),
        connected: info.connected.len(),
    });
    let r = ConfigShown {
        backend: cfg.backend,
        kubo_url: cfg.kubo_url,
        gateway: cfg.gateway,
        gateways,
        store: dir.display().to_string(),
        pin_services,
        network: cfg.network,
        peers: cfg.peers,
        dht: cfg.dht,
        node,
    };
    Ok(r.output())
}

/// The node as the settings now say: started when on (its peer id and addresses are shown),
/// stopped when off.
async fn network_now(ctx: &MagicContext, cfg: &IpfsConfig) -> Result<Option<crate::net::NodeInfo>> {
    let net = super::remote::net_settings(ctx, cfg)?;
    if !net.enabled {
        tokio::task::spawn_blocking(crate::net::shutdown).await.ok();
        return Ok(None);
    }
    let store = super::open_store(ctx)?;
    match super::remote::node(ctx, &store, &net).await? {
        Some(node) => Ok(Some(node.info().await.map_err(fail)?)),
        None => Ok(None),
    }
}
