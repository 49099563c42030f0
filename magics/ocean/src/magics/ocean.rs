//! `%ocean get|show|assets|price`: find and consume Ocean assets.

use super::results::Tx;
use super::results::ocean::{AssetPrice, AssetRow, Assets, Collect, Get, PriceOf, Pricing, Show};
use super::with_progress;
use crate::consume;
use crate::contracts::{IERC20Template, IFixedRateExchange};
use crate::error::OceanError;
use crate::provider::{NodeClient, wire};
use crate::session::SessionArgs;
use alloy::primitives::Address;
use async_trait::async_trait;
use clap::{CommandFactory, Parser, Subcommand};
use kelp_magic::{Magic, MagicCall, MagicContext, MagicResult, Output, Result, RustValue, parse_args};
use serde_json::Value;

#[derive(Parser, Debug)]
#[command(name = "ocean", about = "Find, price and consume Ocean assets")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
    #[command(flatten)]
    net: SessionArgs,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Get a datatoken (dispenser or purchase), order, and download the file.
    Get {
        did: String,
        /// Where to write the file (default: the DID's hex in the working directory).
        #[arg(short, long)]
        output: Option<String>,
    },
    /// Show an asset's DDO.
    Show { did: String },
    /// List assets: all, mine, or matching words.
    Assets {
        /// Only assets published by the signing account.
        #[arg(long, conflicts_with = "owner")]
        mine: bool,
        /// Only assets owned by this address (0x + 40 hex).
        #[arg(long, value_name = "ADDRESS")]
        owner: Option<String>,
        /// Words to look for in name, description and tags.
        #[arg(long)]
        text: Option<String>,
    },
    /// Move the OCEAN a fixed-rate exchange holds for an asset to its payment collector.
    Collect { did: String },
    /// The price of one datatoken of an asset.
    Price { did: String },
}

/// The `%ocean` magic.
#[derive(Debug, Default)]
pub struct OceanMagic;

fn check_did(did: &str) -> std::result::Result<(), OceanError> {
    let hex = did.strip_prefix("did:op:").unwrap_or("");
    if hex.len() == 64 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(OceanError::input(format!("`{did}` is not an Ocean DID (did:op: + 64 hex digits)")))
    }
}

#[async_trait]
impl Magic for OceanMagic {
    fn name(&self) -> &'static str {
        "ocean"
    }
    fn summary(&self) -> &'static str {
        "find, price and consume Ocean assets (get, show, assets, price)"
    }
    fn command(&self) -> clap::Command {
        Cli::command()
    }
    async fn run(&self, call: MagicCall, ctx: &MagicContext) -> Result<Output> {
        let cli: Cli = parse_args(self.command(), &call)?;
        let net = cli.net;
        match cli.cmd {
            Cmd::Get { did, output } => {
                check_did(&did)?;
                let network = with_progress(ctx, "connecting", net.network(ctx)).await?;
                let signer = net.signer(ctx, &network).await?;
                let out_path =
                    ctx.resolve(output.unwrap_or_else(|| did.trim_start_matches("did:op:")[..16].to_string()));
                let mut progress = kelp_magic::Progress::items(ctx, "getting", Some(3));
                let mut n = 0;
                let mut step = |label: &str| {
                    n += 1;
                    progress.set_label(format!("getting: {label}"));
                    progress.set(n);
                };
                let got = consume::get(&network, signer.as_ref(), &did, 0, &mut step).await?;
                progress.finish("downloaded");
                crate::fsutil::write_atomic(&out_path, &got.bytes)?;
                let r = Get {
                    did,
                    path: out_path.clone(),
                    size: got.bytes.len(),
                    sha256: alloy::hex::encode(crate::ddo::sha256(&got.bytes)),
                    cid_verified: got.cid.is_some(),
                    cid: got.cid,
                    datatoken: got.datatoken,
                    acquired: got.acquired.to_string(),
                    paid: got.paid,
                    order_tx: got.order_tx,
                    txs: got.txs.iter().map(Tx::from).collect(),
                    chain_id: network.chain_id,
                };
                Ok(r.output().with_value(RustValue::path(&out_path)))
            }
            Cmd::Show { did } => {
                check_did(&did)?;
                let (node, _) = node_for(ctx, &net).await?;
                let ddo = node
                    .ddo(&did)
                    .await?
                    .ok_or_else(|| OceanError::input(format!("{did} is not known to the node at {}", node.url())))?;
                Ok(Show { ddo, did }.output())
            }
            Cmd::Assets { mine, owner, text } => {
                let owner =
                    match owner.as_deref() {
                        None => None,
                        Some(a) => Some(a.parse::<Address>().map_err(|_| {
                            OceanError::input(format!("--owner {a}: not an address (0x + 40 hex digits)"))
                        })?),
                    };
                let (node, network) = node_for(ctx, &net).await?;
                let me = match mine {
                    true => Some(net.signer(ctx, &network).await?.address().await?),
                    false => owner,
                };
                // Ocean Node answers `[]` to any filter on a field one of its collections lacks
                // (the owner is such a field), and has no text search: ask for every asset in
                // its syntax, and select here.
                let found = node.query(&wire::bool_query(&[])).await?;
                Ok(Assets { assets: asset_rows(&found, me, text.as_deref()) }.output())
            }
            Cmd::Collect { did } => {
                let (network, dt) = asset_datatoken(ctx, &net, &did).await?;
                let signer = net.signer(ctx, &network).await?;
                let c = consume::collect(&network, signer.as_ref(), dt).await?;
                Ok(Collect { did, datatoken: dt, amount: c.amount, to: c.to, tx: c.tx }.output())
            }
            Cmd::Price { did } => {
                let (network, dt) = asset_datatoken(ctx, &net, &did).await?;
                let token = IERC20Template::new(dt, &network.provider);
                let rpc = |e: alloy::contract::Error| OceanError::Rpc(e.to_string());
                let (kind, amount) = if !token.getDispensers().call().await.map_err(rpc)?.is_empty() {
                    (Pricing::Free, None)
                } else if let Some(f) = token.getFixedRates().call().await.map_err(rpc)?.first().cloned() {
                    let q = IFixedRateExchange::new(f.contractAddress, &network.provider)
                        .calcBaseInGivenOutDT(f.id, consume::ONE, alloy::primitives::U256::ZERO)
                        .call()
                        .await
                        .map_err(rpc)?;
                    (Pricing::Fixed, Some(q.baseTokenAmount))
                } else {
                    (Pricing::NotForSale, None)
                };
                Ok(PriceOf::new(did, dt, kind, amount).output())
            }
        }
    }
}

/// The rows `%ocean assets` lists (its JSON `assets`): of the DDOs `found`, those owned by
/// `owner` (when given) that mention `text` (when given), with owner, prices and order count
/// read from `indexedMetadata` (Ocean Node v3) or the top-level `nft` (kelp's local node).
pub fn asset_rows(found: &[Value], owner: Option<Address>, text: Option<&str>) -> Vec<AssetRow> {
    let words = text.map(str::to_lowercase);
    found
        .iter()
        .filter(|d| owner.is_none() || wire::owner(d) == owner)
        .filter(|d| words.as_deref().is_none_or(|w| mentions(d, w)))
        .map(|d| {
            let s = |v: &Value| v.as_str().map(str::to_string);
            AssetRow {
                did: s(&d["id"]),
                name: s(&d["metadata"]["name"]),
                kind: s(&d["metadata"]["type"]),
                nft: s(&d["nftAddress"]),
                owner: wire::owner(d),
                prices: wire::prices(d).iter().map(AssetPrice::of).collect(),
                orders: wire::orders(d),
            }
        })
        .collect()
}

/// Whether `words` (lowercase) occur in the DDO's name, description or tags.
fn mentions(ddo: &Value, words: &str) -> bool {
    let m = &ddo["metadata"];
    let tags = m["tags"].as_array().map(|t| t.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" "));
    let hay = format!(
        "{} {} {}",
        m["name"].as_str().unwrap_or(""),
        m["description"].as_str().unwrap_or(""),
        tags.unwrap_or_default()
    );
    hay.to_lowercase().contains(words)
}

async fn node_for(
    ctx: &MagicContext,
    net: &SessionArgs,
) -> std::result::Result<(NodeClient, crate::network::Network), OceanError> {
    let network = net.network(ctx).await?;
    Ok((NodeClient::of(&network)?, network))
}

/// The network and the access service's datatoken of `did`.
async fn asset_datatoken(
    ctx: &MagicContext,
    net: &SessionArgs,
    did: &str,
) -> std::result::Result<(crate::network::Network, alloy::primitives::Address), OceanError> {
    check_did(did)?;
    let (node, network) = node_for(ctx, net).await?;
    let ddo = node.ddo(did).await?.ok_or_else(|| OceanError::input(format!("{did} is not known to the node")))?;
    let dt = ddo["services"][0]["datatokenAddress"]
        .as_str()
        .and_then(|a| a.parse().ok())
        .ok_or_else(|| OceanError::input("the DDO has no datatoken"))?;
    Ok((network, dt))
}
