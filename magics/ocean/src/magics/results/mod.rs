//! The typed results of the Ocean magics — `%publish`, `%ocean`, `%wallet`, `%devnet`, a module
//! each: one struct per subcommand result, its `application/json` through serde (schemas in
//! `docs/schema/results/{publish,ocean,wallet,devnet}.*.schema.json`), its `text/plain` and
//! `text/html` rendered from it. Fields only the renderings need are `#[serde(skip)]`.
//!
//! This module owns what the four families share: the transaction of a result ([`Tx`]), the
//! `address.json` entry's schema ([`AddressBook`]), wei amounts as decimal text, and the schema
//! list the committed files are checked against.

pub mod devnet;
pub mod ocean;
pub mod publish;
pub mod wallet;

#[cfg(test)]
mod tests;

use crate::journal::TxRecord;
use alloy::primitives::{B256, U256};
#[cfg(test)]
use kelp_magic::ResultSchema;
use kelp_magic::html_escape;
use schemars::JsonSchema;
use serde::{Serialize, Serializer};
use std::collections::BTreeMap;

/// A transaction kelp sent for the result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Tx {
    /// What it did (the contract method, e.g. `createNftWithErc20WithDispenser`).
    pub label: String,
    /// Its hash (`0x` + 64 hex).
    #[schemars(with = "String")]
    pub hash: B256,
    /// Gas it used (null when not known, e.g. a transaction the browser wallet sent).
    pub gas: Option<u64>,
}

impl From<&TxRecord> for Tx {
    fn from(t: &TxRecord) -> Tx {
        Tx { label: t.label.clone(), hash: t.hash, gas: t.gas }
    }
}

/// The schema of one network's `address.json` entry
/// ([`kelp_ocean_wire::addresses::OceanAddresses`], whose JSON the results hold as is): the
/// format of `@oceanprotocol/contracts/addresses/address.json`. Only a schema; a unit test keeps
/// its fields those of the wire type.
#[derive(Debug, Clone, Serialize, serde::Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressBook {
    /// The chain the contracts are on.
    #[serde(rename = "chainId")]
    pub chain_id: u64,
    /// The OCEAN token.
    #[serde(rename = "Ocean")]
    pub ocean: String,
    #[serde(rename = "OPFCommunityFeeCollector")]
    pub opf_collector: String,
    #[serde(rename = "Router")]
    pub router: String,
    /// The fixed-rate exchange.
    #[serde(rename = "FixedPrice")]
    pub fixed_price: String,
    #[serde(rename = "Dispenser")]
    pub dispenser: String,
    /// The factory every data NFT is created by.
    #[serde(rename = "ERC721Factory")]
    pub erc721_factory: String,
    /// Data NFT templates by index (`"1"`).
    #[serde(rename = "ERC721Template")]
    pub erc721_templates: BTreeMap<String, String>,
    /// Datatoken templates by index (`"1"`, `"2"`).
    #[serde(rename = "ERC20Template")]
    pub erc20_templates: BTreeMap<String, String>,
    /// Ocean's `Escrow` (paid compute); absent on deployments made before kelp deployed it.
    #[serde(rename = "Escrow", default, skip_serializing_if = "Option::is_none")]
    pub escrow: Option<String>,
    #[serde(rename = "poolTemplate", default, skip_serializing_if = "Option::is_none")]
    pub pool_template: Option<String>,
    /// The block the deployment starts at.
    #[serde(rename = "startBlock")]
    pub start_block: u64,
}

/// A wei amount as decimal text (`"2500000000000000000"`).
pub(crate) fn decimal<S: Serializer>(v: &U256, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&v.to_string())
}

/// An optional wei amount as decimal text, or null.
pub(crate) fn decimal_opt<S: Serializer>(v: &Option<U256>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => s.serialize_str(&v.to_string()),
        None => s.serialize_none(),
    }
}

/// `<pre>text</pre>`: the HTML of a result that is its text.
pub(crate) fn pre(text: &str) -> String {
    format!("<pre>{}</pre>", html_escape(text))
}

/// `<span>text</span>`: the HTML of a one-line result.
pub(crate) fn span(text: &str) -> String {
    format!("<span>{}</span>", html_escape(text))
}

/// Every result type of the Ocean magics, by family (`publish`, `ocean`, `wallet`, `devnet`).
#[cfg(test)]
pub(crate) fn schemas() -> Vec<(&'static str, Vec<ResultSchema>)> {
    vec![
        ("publish", vec![ResultSchema::of::<publish::Publish>()]),
        (
            "ocean",
            vec![
                ResultSchema::of::<ocean::Get>(),
                ResultSchema::of::<ocean::Show>(),
                ResultSchema::of::<ocean::Assets>(),
                ResultSchema::of::<ocean::Collect>(),
                ResultSchema::of::<ocean::PriceOf>(),
            ],
        ),
        (
            "wallet",
            vec![
                ResultSchema::of::<wallet::Show>(),
                ResultSchema::of::<wallet::Sent>(),
                ResultSchema::of::<wallet::Switch>(),
                ResultSchema::of::<wallet::Keystore>(),
            ],
        ),
        (
            "devnet",
            vec![
                ResultSchema::of::<devnet::Up>(),
                ResultSchema::of::<devnet::Down>(),
                ResultSchema::of::<devnet::Status>(),
            ],
        ),
    ]
}
