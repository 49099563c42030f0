//! Provider fees: what the node signs in `initialize` and `startOrder` checks on chain
//! (REFERENCE §2.4): `keccak256(abi.encodePacked(bytes providerData, address providerFeeAddress,
//! address providerFeeToken, uint256 amount, uint256 validUntil))`, signed EIP-191 over the 32 bytes.

use crate::contracts::ProviderFeeData;
use crate::error::{OceanError, Result};
use alloy::primitives::{Address, B256, Bytes, U256, keccak256};
use alloy::signers::Signer as _;
use alloy::signers::local::PrivateKeySigner;
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

/// Sign a provider fee with the node's key.
pub async fn sign_fee(
    key: &PrivateKeySigner,
    fee_token: Address,
    amount: U256,
    data: &[u8],
    valid_until: u64,
) -> Result<ProviderFee> {
    let hash = fee_hash(data, key.address(), fee_token, amount, U256::from(valid_until));
    let sig = key
        .sign_message(hash.as_slice())
        .await
        .map_err(|e| OceanError::devnet(format!("node cannot sign a fee: {e}")))?;
    Ok(ProviderFee {
        provider_fee_address: key.address(),
        provider_fee_token: fee_token,
        provider_fee_amount: amount.to_string(),
        provider_data: format!("0x{}", alloy::hex::encode(data)),
        v: 27 + sig.v() as u8,
        r: sig.r().into(),
        s: sig.s().into(),
        valid_until,
    })
}

impl ProviderFee {
    /// The tuple `startOrder` takes.
    pub fn to_contract(&self) -> Result<ProviderFeeData> {
        let amount: U256 = self
            .provider_fee_amount
            .parse()
            .map_err(|_| OceanError::Node { url: String::new(), reason: "bad providerFeeAmount".into() })?;
        let data = alloy::hex::decode(&self.provider_data)
            .map_err(|_| OceanError::Node { url: String::new(), reason: "bad providerData".into() })?;
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
    use alloy::primitives::Signature;

    #[tokio::test]
    async fn fee_signature_recovers_to_the_node_over_the_packed_hash() {
        let key = PrivateKeySigner::random();
        let token = Address::repeat_byte(9);
        let fee = sign_fee(&key, token, U256::ZERO, br#"{"dt":"x"}"#, 1_900_000_000).await.unwrap();
        assert!(fee.v == 27 || fee.v == 28);
        let c = fee.to_contract().unwrap();
        let hash =
            fee_hash(&c.providerData, c.providerFeeAddress, c.providerFeeToken, c.providerFeeAmount, c.validUntil);
        let sig = Signature::new(U256::from_be_bytes(fee.r.0), U256::from_be_bytes(fee.s.0), fee.v == 28);
        assert_eq!(sig.recover_address_from_msg(hash.as_slice()).unwrap(), key.address());
        // The packed layout: data ‖ address ‖ address ‖ uint256 ‖ uint256.
        let h2 = fee_hash(b"", Address::ZERO, Address::ZERO, U256::ZERO, U256::ZERO);
        assert_eq!(h2, keccak256([0u8; 104]));
    }
}
