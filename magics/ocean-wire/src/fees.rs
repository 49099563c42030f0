//! Provider fees on the wire: the `providerFee` object a node's `initialize` answers with, the
//! tuple `startOrder` takes, and the hash the node's signature covers (REFERENCE §2.4):
//! `keccak256(abi.encodePacked(bytes providerData, address providerFeeAddress, address
//! providerFeeToken, uint256 amount, uint256 validUntil))`, signed EIP-191 over the 32 bytes.

use crate::contracts::ProviderFeeData;
use crate::error::WireError;
use alloy::primitives::{Address, B256, Bytes, U256, keccak256};
use serde::{Deserialize, Serialize};

/// The `providerFee` object of `initialize`, in Ocean's JSON shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderFee {
    pub provider_fee_address: Address,
    pub provider_fee_token: Address,
    /// Amount in the token's smallest unit, decimal string.
    pub provider_fee_amount: String,
    /// `0x` hex of the provider data bytes (UTF-8 JSON).
    pub provider_data: String,
    pub v: u8,
    pub r: B256,
    pub s: B256,
    pub valid_until: u64,
}

/// The hash a provider fee signature covers.
pub fn fee_hash(data: &[u8], fee_address: Address, fee_token: Address, amount: U256, valid_until: U256) -> B256 {
    let mut packed = Vec::with_capacity(data.len() + 20 + 20 + 32 + 32);
    packed.extend_from_slice(data);
    packed.extend_from_slice(fee_address.as_slice());
    packed.extend_from_slice(fee_token.as_slice());
    packed.extend_from_slice(&amount.to_be_bytes::<32>());
    packed.extend_from_slice(&valid_until.to_be_bytes::<32>());
    keccak256(packed)
}

impl ProviderFee {
    /// The tuple `startOrder` takes.
    pub fn to_contract(&self) -> Result<ProviderFeeData, WireError> {
        let amount: U256 =
            self.provider_fee_amount.parse().map_err(|_| WireError::Malformed("bad providerFeeAmount".into()))?;
        let data =
            alloy::hex::decode(&self.provider_data).map_err(|_| WireError::Malformed("bad providerData".into()))?;
        Ok(ProviderFeeData {
            providerFeeAddress: self.provider_fee_address,
            providerFeeToken: self.provider_fee_token,
            providerFeeAmount: amount,
            v: self.v,
            r: self.r,
            s: self.s,
            validUntil: U256::from(self.valid_until),
            providerData: Bytes::from(data),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_layout_and_contract_tuple() {
        // data ‖ address ‖ address ‖ uint256 ‖ uint256.
        assert_eq!(fee_hash(b"", Address::ZERO, Address::ZERO, U256::ZERO, U256::ZERO), keccak256([0u8; 104]));
        let fee = ProviderFee {
            provider_fee_address: Address::repeat_byte(1),
            provider_fee_token: Address::repeat_byte(2),
            provider_fee_amount: "5".into(),
            provider_data: "0x7b7d".into(),
            v: 27,
            r: B256::repeat_byte(3),
            s: B256::repeat_byte(4),
            valid_until: 9,
        };
        let c = fee.to_contract().unwrap();
        assert_eq!(
            (c.providerFeeAmount, c.validUntil, c.providerData.to_vec()),
            (U256::from(5), U256::from(9), b"{}".to_vec())
        );
        let bad = ProviderFee { provider_fee_amount: "five".into(), ..fee.clone() };
        assert!(bad.to_contract().err().unwrap().to_string().contains("providerFeeAmount"));
        let bad = ProviderFee { provider_data: "zz".into(), ..fee };
        assert!(bad.to_contract().err().unwrap().to_string().contains("providerData"));
    }
}
