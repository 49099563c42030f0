//! The node's side of provider fees: signing the `providerFee` of `initialize` with its key over
//! the hash the wire crate defines ([`kelp_ocean_wire::fees`]).

use crate::error::{NodeError, Result};
use alloy::primitives::{Address, U256};
use alloy::signers::Signer as _;
use alloy::signers::local::PrivateKeySigner;
pub use kelp_ocean_wire::fees::ProviderFee;
use kelp_ocean_wire::fees::fee_hash;

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
        .map_err(|e| NodeError::setup(format!("node cannot sign a fee: {e}")))?;
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
    }
}
