//! Contract addresses of one Ocean deployment, in the shape of Ocean's `address.json`
//! (`{"<network>": {"chainId", "Ocean", "Router", "FixedPrice", "Dispenser", "ERC721Factory",
//! "ERC721Template": {"1"}, "ERC20Template": {"1", "2"}, …}}`), which ocean.py and ocean.js read.

use crate::error::WireError;
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
pub fn read_entry(path: &Path, network: &str) -> Result<OceanAddresses, WireError> {
    let text = std::fs::read_to_string(path).map_err(|e| WireError::io(path, e))?;
    let all: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| WireError::Malformed(format!("{}: not JSON ({e})", path.display())))?;
    parse_entry(&all, network).map_err(|e| WireError::Malformed(format!("{}: {e}", path.display())))
}

/// Pick and parse one network from the whole `address.json` value.
pub fn parse_entry(all: &serde_json::Value, network: &str) -> std::result::Result<OceanAddresses, String> {
    let entry = all.get(network).ok_or_else(|| format!("no network `{network}`"))?;
    serde_json::from_value(entry.clone()).map_err(|e| format!("network `{network}`: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_oceans_key_names_and_names_a_missing_network() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("address.json");
        let a = "0x0101010101010101010101010101010101010101";
        let text = serde_json::json!({DEVNET_NAME: {"chainId": 8996, "Ocean": a, "OPFCommunityFeeCollector": a,
            "Router": a, "FixedPrice": a, "Dispenser": a, "ERC721Factory": "0x0202020202020202020202020202020202020202",
            "ERC721Template": {"1": a}, "ERC20Template": {"1": a, "2": a}, "Escrow": a}});
        std::fs::write(&path, text.to_string()).unwrap();
        let e = read_entry(&path, DEVNET_NAME).unwrap();
        assert_eq!((e.chain_id, e.erc721_factory), (8996, Address::repeat_byte(2)));
        assert_eq!((e.escrow, e.pool_template, e.start_block), (Some(Address::repeat_byte(1)), None, 0));
        assert!(read_entry(&path, "sepolia").unwrap_err().to_string().contains("no network `sepolia`"));
        let missing = read_entry(&dir.path().join("none.json"), DEVNET_NAME).unwrap_err();
        assert!(matches!(missing, WireError::Io { .. }), "{missing}");
    }
}
