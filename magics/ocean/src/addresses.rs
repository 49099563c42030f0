//! Ocean's `address.json` on the client side: the format is [`kelp_ocean_wire::addresses`]'s
//! (re-exported here); writing an entry (what the devnet does after deploying) is the client's.

pub use kelp_ocean_wire::addresses::*;

use crate::error::{OceanError, Result};
use std::path::Path;

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
    use alloy::primitives::Address;

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
