//! Networks by name: `devnet` (the default; started on first use), Ocean's public networks
//! (addresses from `@oceanprotocol/contracts`' `address.json`), or any RPC URL.

use crate::addresses::{self, DEVNET_NAME, OceanAddresses};
use crate::chain;
use crate::devnet::{self, DevnetPaths, UpOptions};
use crate::error::{OceanError, Result};
use crate::tools::Tools;
use alloy::providers::{DynProvider, Provider};
use std::path::Path;

/// Environment variable: the Ocean node URL to use (on any network; on the devnet it replaces
/// the local node, e.g. a real Ocean Node indexing the devnet's chain).
pub const ENV_NODE_URL: &str = "KELP_OCEAN_NODE_URL";
/// Environment variable: the RPC URL to use for a named public network.
pub const ENV_RPC_URL: &str = "KELP_RPC_URL";

/// A network ready to use.
#[derive(Debug, Clone)]
pub struct Network {
    /// `devnet`, an `address.json` name, or the RPC URL.
    pub name: String,
    pub chain_id: u64,
    pub rpc_url: String,
    pub addresses: OceanAddresses,
    /// The Ocean node serving this network (`$KELP_OCEAN_NODE_URL`, else the local node on the
    /// devnet).
    pub node_url: Option<String>,
    /// Whether `node_url` came from `$KELP_OCEAN_NODE_URL`.
    pub node_from_env: bool,
    pub provider: DynProvider,
}

/// Default public RPC endpoints of the networks Ocean publishes addresses for.
fn default_rpc(name: &str) -> Option<&'static str> {
    Some(match name {
        "mainnet" => "https://ethereum-rpc.publicnode.com",
        "sepolia" => "https://ethereum-sepolia-rpc.publicnode.com",
        "polygon" => "https://polygon-rpc.com",
        "optimism" => "https://mainnet.optimism.io",
        "optimism_sepolia" => "https://sepolia.optimism.io",
        "base" => "https://mainnet.base.org",
        "oasis_sapphire" => "https://sapphire.oasis.io",
        "oasis_sapphire_testnet" => "https://testnet.sapphire.oasis.io",
        _ => return None,
    })
}

/// What `resolve` needs from the session.
pub struct Resolver<'a> {
    pub ocean_dir: &'a Path,
    pub env: &'a (dyn Fn(&str) -> Option<String> + Send + Sync),
}

impl Resolver<'_> {
    /// Resolve `name` (`None` = devnet). The devnet is started if it is not running.
    pub async fn resolve(&self, name: Option<&str>) -> Result<Network> {
        match name.unwrap_or("devnet") {
            "devnet" | "development" => self.devnet().await,
            url if url.starts_with("http://") || url.starts_with("https://") => self.by_url(url).await,
            named => self.named(named).await,
        }
    }

    async fn devnet(&self) -> Result<Network> {
        let paths = DevnetPaths::new(self.ocean_dir);
        let tools = Tools::locate(self.env)?;
        let mut opts = UpOptions { node: Some(crate::devnet::node::node_command(self.env)?), ..UpOptions::default() };
        if let Some(p) = (self.env)(devnet::ENV_PORT) {
            opts.port = p.parse().map_err(|_| OceanError::input(format!("$KELP_DEVNET_PORT=`{p}` is not a port")))?;
        }
        let r = devnet::up(&paths, &tools, &opts).await?;
        let from_env = self.node_url_env()?;
        Ok(Network {
            node_from_env: from_env.is_some(),
            node_url: from_env.or(r.state.node_url),
            name: "devnet".into(),
            chain_id: r.state.chain_id,
            provider: chain::connect(&r.state.rpc_url)?,
            rpc_url: r.state.rpc_url,
            addresses: r.addresses,
        })
    }

    async fn named(&self, name: &str) -> Result<Network> {
        let tools = Tools::locate(self.env)?;
        let all = tools.published_addresses()?;
        if all.get(name).is_none() {
            let mut names: Vec<String> = all.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default();
            names.sort();
            return Err(OceanError::input(format!(
                "unknown network `{name}`; use devnet, an RPC URL, or one of: {}",
                names.join(", ")
            )));
        }
        let addresses = addresses::parse_entry(&all, name).map_err(OceanError::Devnet)?;
        let rpc = (self.env)(ENV_RPC_URL).or_else(|| default_rpc(name).map(str::to_string)).ok_or_else(|| {
            OceanError::input(format!("no RPC URL known for `{name}`; set ${ENV_RPC_URL} or pass --network <URL>"))
        })?;
        self.finish(name, &rpc, addresses).await
    }

    async fn by_url(&self, url: &str) -> Result<Network> {
        let provider = chain::connect(url)?;
        let id = provider.get_chain_id().await.map_err(|e| chain::decode_rpc_error(&e, "eth_chainId", url))?;
        // The devnet's own address file first, then Ocean's published networks, by chain id.
        let local = addresses::read_entry(&DevnetPaths::new(self.ocean_dir).address_file(), DEVNET_NAME).ok();
        let addresses = match local.filter(|a| a.chain_id == id) {
            Some(a) => a,
            None => {
                let all = Tools::locate(self.env)?.published_addresses()?;
                let name = all
                    .as_object()
                    .and_then(|o| o.iter().find(|(_, v)| v["chainId"].as_u64() == Some(id)).map(|(k, _)| k.clone()))
                    .ok_or_else(|| OceanError::input(format!("chain {id} at {url} has no known Ocean deployment")))?;
                addresses::parse_entry(&all, &name).map_err(OceanError::Devnet)?
            }
        };
        self.finish(url, url, addresses).await
    }

    async fn finish(&self, name: &str, rpc: &str, addresses: OceanAddresses) -> Result<Network> {
        let provider = chain::connect(rpc)?;
        let id = provider.get_chain_id().await.map_err(|e| chain::decode_rpc_error(&e, "eth_chainId", rpc))?;
        if id != addresses.chain_id {
            return Err(OceanError::WrongChain { expected: addresses.chain_id, got: id });
        }
        let node_url = self.node_url_env()?;
        Ok(Network {
            name: name.to_string(),
            chain_id: id,
            rpc_url: rpc.to_string(),
            addresses,
            node_from_env: node_url.is_some(),
            node_url,
            provider,
        })
    }

    /// `$KELP_OCEAN_NODE_URL`, checked: unset or empty is `None`; anything but an http(s) URL is
    /// refused.
    fn node_url_env(&self) -> Result<Option<String>> {
        let Some(url) = (self.env)(ENV_NODE_URL).map(|u| u.trim().to_string()).filter(|u| !u.is_empty()) else {
            return Ok(None);
        };
        match reqwest::Url::parse(&url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => Ok(Some(url)),
            _ => Err(OceanError::input(format!(
                "${ENV_NODE_URL}=`{url}` is not an http(s) URL; set it to an Ocean node such as http://127.0.0.1:8000, or unset it"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node_url(value: Option<&str>) -> Result<Option<String>> {
        let value = value.map(str::to_string);
        let env = move |k: &str| if k == ENV_NODE_URL { value.clone() } else { None };
        Resolver { ocean_dir: Path::new("/nonexistent"), env: &env }.node_url_env()
    }

    #[test]
    fn node_url_from_the_environment_is_used_or_refused() {
        assert_eq!(node_url(None).unwrap(), None);
        assert_eq!(node_url(Some("  ")).unwrap(), None);
        assert_eq!(node_url(Some("http://127.0.0.1:8000")).unwrap().as_deref(), Some("http://127.0.0.1:8000"));
        let e = node_url(Some("127.0.0.1:8000")).unwrap_err().to_string();
        assert!(e.contains("KELP_OCEAN_NODE_URL") && e.contains("not an http(s) URL") && !e.contains('\n'), "{e}");
    }
}
