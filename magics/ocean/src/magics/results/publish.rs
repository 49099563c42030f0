//! The `%publish` result: the asset published (DID, data NFT, datatoken, fixed-rate exchange),
//! the transactions that made it, what was published (file, price, name, type) and the compute
//! settings and notebook lineage its DDO holds.

use super::Tx;
use crate::publish::{AssetType, FileRef, Price, PublishSpec, Published};
use alloy::primitives::{Address, B256};
use kelp_magic::{MagicResult, html_escape, redact};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

/// `%publish SOURCE --name …` (the value bound by `let did = %publish …` is the DID).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Publish {
    /// The asset's DID (`did:op:` + 64 hex).
    pub did: String,
    /// The data NFT.
    #[schemars(with = "String")]
    pub nft: Address,
    /// The datatoken of its service.
    #[schemars(with = "String")]
    pub datatoken: Address,
    /// The fixed-rate exchange's id (priced assets), else null.
    #[schemars(with = "Option<String>")]
    pub exchange_id: Option<B256>,
    /// The network's name, or its RPC URL (secrets removed) when given as `--network URL`.
    pub network: String,
    pub chain_id: u64,
    /// The transactions sent (none when it was already published).
    pub txs: Vec<Tx>,
    /// Gas of all of them.
    pub gas_total: u64,
    /// The same asset had been published before (the journal): nothing was sent now.
    pub already_published: bool,
    /// The file behind the asset.
    pub file: FileRef,
    /// The price of one datatoken.
    pub price: Price,
    /// The asset's name.
    pub name: String,
    #[serde(rename = "type")]
    pub kind: AssetType,
    /// The DDO's compute settings (`services[0].compute`: `allowRawAlgorithm`,
    /// `allowNetworkAccess`, `publisherTrustedAlgorithms`, `publisherTrustedAlgorithmPublishers`)
    /// for a `--compute` dataset, else null.
    pub compute: Value,
    /// The notebook lineage in the DDO (`metadata.additionalInformation.kelp`: `notebook`,
    /// `inputs`, `outputs`), else null.
    pub lineage: Value,
    /// The asset's one service is a `compute` service (render only).
    #[serde(skip)]
    pub compute_only: bool,
}

impl Publish {
    /// The result of publishing `spec` on `network` as `p`.
    pub fn of(network: &str, spec: &PublishSpec, p: &Published) -> Publish {
        Publish {
            did: p.did.clone(),
            nft: p.nft,
            datatoken: p.datatoken,
            exchange_id: p.exchange_id,
            network: redact(network),
            chain_id: p.chain_id,
            txs: p.txs.iter().map(Tx::from).collect(),
            gas_total: p.gas_total,
            already_published: p.already,
            file: spec.file.clone(),
            price: spec.price.clone(),
            name: spec.name.clone(),
            kind: spec.kind,
            compute: p.ddo["services"][0]["compute"].clone(),
            lineage: p.ddo["metadata"]["additionalInformation"]["kelp"].clone(),
            compute_only: p.ddo["services"][0]["type"] == "compute",
        }
    }

    fn note(&self) -> String {
        let note = if self.already_published { " (already published: nothing sent)" } else { "" };
        if self.compute_only { format!("{note} (compute-only)") } else { note.into() }
    }
}

impl MagicResult for Publish {
    const SCHEMA: &'static str = "publish.asset";
    fn text(&self) -> String {
        let tx_lines: String = self
            .txs
            .iter()
            .map(|t| {
                format!(
                    "\n  {}: {} (gas {})",
                    t.label,
                    t.hash,
                    t.gas.map(|g| g.to_string()).unwrap_or_else(|| "?".into())
                )
            })
            .collect();
        let l = &self.lineage;
        let lineage = match (l["notebook"].as_str(), l["inputs"].as_array(), l["outputs"].as_array()) {
            (Some(nb), Some(i), Some(o)) => {
                format!("\nlineage of {nb}: {} input(s), {} output(s) in the asset's metadata", i.len(), o.len())
            }
            _ => String::new(),
        };
        format!(
            "published {}{}\nDID {}\nNFT {}\ndatatoken {}{lineage}\ntransactions:{tx_lines}\ngas total {}",
            self.name,
            self.note(),
            self.did,
            self.nft,
            self.datatoken,
            self.gas_total
        )
    }
    fn html(&self) -> Option<String> {
        Some(format!(
            "<div><b>{}</b>{}<br>DID <code>{}</code><br>NFT <code>{}</code> · datatoken <code>{}</code><br>{} transaction(s), gas {}</div>",
            html_escape(&self.name),
            self.note(),
            html_escape(&self.did),
            self.nft,
            self.datatoken,
            self.txs.len(),
            self.gas_total
        ))
    }
}
