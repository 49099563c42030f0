//! The `%ocean` results: `get` (the file downloaded and the order that paid for it), `show` (the
//! DDO), `assets` (the assets found, one row each), `collect` (the exchange's OCEAN moved to
//! the collector) and `price` (the price of one datatoken).

use super::{Tx, decimal, decimal_opt, pre, span};
use alloy::primitives::utils::format_ether;
use alloy::primitives::{Address, B256, U256};
use kelp_magic::MagicResult;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;
use std::path::PathBuf;

/// `%ocean get DID` (the value bound is the path written).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Get {
    pub did: String,
    /// Where the file was written.
    pub path: PathBuf,
    /// Bytes written.
    pub size: usize,
    /// The file's sha256 (hex).
    pub sha256: String,
    /// The CID of an `ipfs` file, which the bytes were checked against; else null.
    pub cid: Option<String>,
    /// The bytes were checked against `cid`.
    pub cid_verified: bool,
    /// The datatoken ordered.
    #[schemars(with = "String")]
    pub datatoken: Address,
    /// How the datatoken was had: `dispenser`, `fixed-rate` or `held` (the account had one).
    #[schemars(extend("enum" = ["dispenser", "fixed-rate", "held"]))]
    pub acquired: String,
    /// Wei of the base token paid (fixed-rate purchases, decimal text), else null.
    #[serde(serialize_with = "decimal_opt")]
    #[schemars(with = "Option<String>")]
    pub paid: Option<U256>,
    /// The `startOrder` transaction.
    #[schemars(with = "String")]
    pub order_tx: B256,
    /// Every transaction sent.
    pub txs: Vec<Tx>,
    pub chain_id: u64,
}

impl MagicResult for Get {
    const SCHEMA: &'static str = "ocean.get";
    fn text(&self) -> String {
        format!(
            "{} bytes of {} → {} ({}, order {})",
            self.size,
            self.did,
            self.path.display(),
            self.acquired,
            self.order_tx
        )
    }
    fn html(&self) -> Option<String> {
        Some(span(&self.text()))
    }
}

/// `%ocean show DID`: the DDO as the node indexed it (DDO 4.1.0, plus the node's own fields).
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(transparent)]
pub struct Show {
    /// The DDO (a JSON object).
    #[schemars(with = "serde_json::Map<String, Value>")]
    pub ddo: Value,
    /// The DID asked for (render only).
    #[serde(skip)]
    pub did: String,
}

impl MagicResult for Show {
    const SCHEMA: &'static str = "ocean.show";
    fn text(&self) -> String {
        let m = &self.ddo["metadata"];
        format!(
            "{} ({}) by {}\nDID {}\nNFT {}\n{}",
            m["name"].as_str().unwrap_or("?"),
            m["type"].as_str().unwrap_or("?"),
            m["author"].as_str().unwrap_or("?"),
            self.did,
            self.ddo["nftAddress"].as_str().unwrap_or("?"),
            m["description"].as_str().unwrap_or("")
        )
    }
    fn html(&self) -> Option<String> {
        Some(pre(&self.text()))
    }
}

/// A price an indexed asset lists (`indexedMetadata.stats[].prices[]` of Ocean Node).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct AssetPrice {
    /// The service priced.
    #[serde(rename = "serviceId")]
    pub service_id: Option<String>,
    /// `dispenser` or `fixedrate`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// The node's decimal text (`"0"`, `"1.0"`).
    pub price: String,
    /// The token paid in.
    pub token: Option<String>,
}

impl AssetPrice {
    /// One entry of [`crate::provider::wire::prices`].
    pub fn of(v: &Value) -> AssetPrice {
        let s = |k: &str| v[k].as_str().map(str::to_string);
        AssetPrice {
            service_id: s("serviceId"),
            kind: s("type"),
            price: s("price").unwrap_or_default(),
            token: s("token"),
        }
    }
}

/// One asset `%ocean assets` lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct AssetRow {
    /// Its DID (the DDO's `id`).
    pub did: Option<String>,
    /// `metadata.name`.
    pub name: Option<String>,
    /// `metadata.type`: `dataset` or `algorithm`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// The data NFT (`nftAddress`).
    pub nft: Option<String>,
    /// The NFT's owner, as the node indexed it.
    #[schemars(with = "Option<String>")]
    pub owner: Option<Address>,
    /// Its prices (empty when the node does not index prices).
    pub prices: Vec<AssetPrice>,
    /// How many times its datatokens were ordered (0 when the node does not count).
    pub orders: u64,
}

/// `%ocean assets [--mine|--owner A] [--text WORDS]`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Assets {
    pub assets: Vec<AssetRow>,
}

impl MagicResult for Assets {
    const SCHEMA: &'static str = "ocean.assets";
    fn text(&self) -> String {
        if self.assets.is_empty() {
            return "no assets".to_string();
        }
        let field = |f: &Option<String>| f.clone().unwrap_or_default();
        self.assets
            .iter()
            .map(|r| format!("{}  {}  {}", field(&r.did), field(&r.kind), field(&r.name)))
            .collect::<Vec<_>>()
            .join("\n")
    }
    fn html(&self) -> Option<String> {
        Some(pre(&self.text()))
    }
}

/// `%ocean collect DID`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Collect {
    pub did: String,
    #[schemars(with = "String")]
    pub datatoken: Address,
    /// Wei of OCEAN moved (decimal text).
    #[serde(serialize_with = "decimal")]
    #[schemars(with = "String")]
    pub amount: U256,
    /// The payment collector the OCEAN went to.
    #[schemars(with = "String")]
    pub to: Address,
    /// The transaction, or null when there was nothing to collect.
    #[schemars(with = "Option<String>")]
    pub tx: Option<B256>,
}

impl MagicResult for Collect {
    const SCHEMA: &'static str = "ocean.collect";
    fn text(&self) -> String {
        match self.tx {
            Some(tx) => format!("collected {} OCEAN to {} (tx {tx})", format_ether(self.amount), self.to),
            None => "nothing to collect".to_string(),
        }
    }
}

/// How a datatoken is had.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
pub enum Pricing {
    /// A dispenser hands it out.
    #[serde(rename = "free")]
    Free,
    /// A fixed-rate exchange sells it.
    #[serde(rename = "fixed")]
    Fixed,
    /// Neither: not for sale.
    #[serde(rename = "none")]
    NotForSale,
}

/// `%ocean price DID`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PriceOf {
    pub did: String,
    #[schemars(with = "String")]
    pub datatoken: Address,
    pub pricing: Pricing,
    /// Wei of OCEAN for one datatoken, fees included (decimal text; `fixed` only), else null.
    #[serde(serialize_with = "decimal_opt")]
    #[schemars(with = "Option<String>")]
    pub amount: Option<U256>,
    /// The same in OCEAN (`"1.0"`), else null.
    pub amount_ocean: Option<String>,
}

impl PriceOf {
    /// The price of `did`'s `datatoken`: `amount` wei for `fixed`.
    pub fn new(did: String, datatoken: Address, pricing: Pricing, amount: Option<U256>) -> PriceOf {
        PriceOf { did, datatoken, pricing, amount, amount_ocean: amount.map(format_ether) }
    }
}

impl MagicResult for PriceOf {
    const SCHEMA: &'static str = "ocean.price";
    fn text(&self) -> String {
        match (self.amount, self.pricing) {
            (Some(a), _) => format!("{} OCEAN per datatoken (fees included)", format_ether(a)),
            (None, Pricing::Free) => "free (dispenser)".into(),
            (None, _) => "not for sale".into(),
        }
    }
}
