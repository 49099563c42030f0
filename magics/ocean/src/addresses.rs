//! Contract addresses of one Ocean deployment, in the shape of Ocean's `address.json`
//! (`{"<network>": {"chainId", "Ocean", "Router", "FixedPrice", "Dispenser", "ERC721Factory",
//! "ERC721Template": {"1"}, "ERC20Template": {"1", "2"}, …}}`), which ocean.py and ocean.js read.

use crate::error::{OceanError, Result};
use alloy::primitives::Address;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// The network name ocean.py gives chain 8996 (barge's and kelp's devnet).
pub const DEVNET_NAME: &str = "development";

/// One network's entry of `address.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OceanAddresses {
    #[serde(rename = "chainId")]
    pub chain_id: u64,
    #[serde(rename = "Ocean")]
    pub ocean: Address,
    #[serde(rename = "OPFCommunityFeeCollector")]
    pub opf_collector: Address,
    #[serde(rename = "Router")]
    pub router: Address,
    #[serde(rename = "FixedPrice")]
    pub fixed_price: Address,
    #[serde(rename = "Dispenser")]
    pub dispenser: Address,
    #[serde(rename = "ERC721Factory")]
    pub erc721_factory: Address,
    #[serde(rename = "ERC721Template")]
    pub erc721_templates: BTreeMap<String, Address>,
    #[serde(rename = "ERC20Template")]
    pub erc20_templates: BTreeMap<String, Address>,
    /// Ocean's `Escrow` (paid compute), as in Ocean's own `address.json`; absent on deployments
    /// made before kelp deployed it.
    #[serde(rename = "Escrow", default, skip_serializing_if = "Option::is_none")]
    pub escrow: Option<Address>,
    #[serde(rename = "poolTemplate", default, skip_serializing_if = "Option::is_none")]
    pub pool_template: Option<Address>,
    #[serde(rename = "startBlock", default)]
    pub start_block: u64,
}

/// Read one network's entry from an `address.json` file.
pub fn read_entry(path: &Path, network: &str) -> Result<OceanAddresses> {
    let text = std::fs::read_to_string(path).map_err(|e| OceanError::io(path, e))?;
    let all: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| OceanError::devnet(format!("{}: not JSON ({e})", path.display())))?;
    parse_entry(&all, network).map_err(|e| OceanError::devnet(format!("{}: {e}", path.display())))
}

/// Pick and parse one network from the whole `address.json` value.
pub fn parse_entry(all: &serde_json::Value, network: &str) -> std::result::Result<OceanAddresses, String> {
    let entry = all.get(network).ok_or_else(|| format!("no network `{network}`"))?;
    serde_json::from_value(entry.clone()).map_err(|e| format!("network `{network}`: {e}"))
}

/// Write `{network: entry}` to `path` atomically (temp file + rename), keeping other networks
/// already in the file.
pub fn write_entry(path: &Path, network: &str, entry: &OceanAddresses) -> Result<()> {
    let mut all = match std::fs::read_to_string(path) {
        Ok(t) => serde_json::from_str::<serde_json::Value>(&t).unwrap_or_else(|_| serde_json::json!({})),
        Err(_) => serde_json::json!({}),
    };
    if !all.is_object() {
        all = serde_json::json!({});
    }
    all[network] = serde_json::to_value(entry).map_err(|e| OceanError::devnet(e.to_string()))?;
    let text = serde_json::to_string_pretty(&all).map_err(|e| OceanError::devnet(e.to_string()))?;
    crate::fsutil::write_atomic(path, text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_in_oceans_key_names() {
        let a = Address::repeat_byte(1);
        let entry = OceanAddresses {
            chain_id: 8996,
            ocean: a,
            opf_collector: a,
            router: a,
            fixed_price: a,
            dispenser: a,
            erc721_factory: Address::repeat_byte(2),
            erc721_templates: [("1".to_string(), a)].into(),
            erc20_templates: [("1".to_string(), a), ("2".to_string(), a)].into(),
            escrow: Some(Address::repeat_byte(3)),
            pool_template: None,
            start_block: 0,
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("address.json");
        write_entry(&path, DEVNET_NAME, &entry).unwrap();
        let raw: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(raw[DEVNET_NAME]["chainId"], 8996);
        assert_eq!(raw[DEVNET_NAME]["ERC721Factory"], "0x0202020202020202020202020202020202020202");
        assert!(raw[DEVNET_NAME]["ERC20Template"]["2"].is_string());
        assert_eq!(raw[DEVNET_NAME]["Escrow"], "0x0303030303030303030303030303030303030303");
        assert_eq!(read_entry(&path, DEVNET_NAME).unwrap(), entry);
        assert!(read_entry(&path, "sepolia").unwrap_err().to_string().contains("no network `sepolia`"));
    }
}
