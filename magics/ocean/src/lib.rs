//! kelp-ocean: Ocean Protocol from a notebook cell, the client side — a one-command devnet with
//! the real Ocean v4 contracts (and kelp's Ocean node, `kelp-ocean-node`, as a process), signers
//! (ARCHITECTURE Seam 3), the provider client, the publish/consume/compute flows, and the magics
//! `%devnet`, `%publish`, `%ocean` and `%wallet`. Wire types shared with the node come from
//! `kelp-ocean-wire` ([`contracts`], [`ddo`], [`addresses`]).
//!
//! Modules:
//! - [`tools`]: finding anvil and the `@oceanprotocol/contracts` artifacts;
//! - [`contracts`]: the Solidity interfaces kelp calls;
//! - [`addresses`]: Ocean's `address.json` format;
//! - [`chain`]: RPC connections, sending through a signer, errors decoded for people;
//! - [`signer`]: the [`signer::Signer`] trait, [`signer::LocalKeySigner`] and [`signer::BrowserSigner`]
//!   (the browser wallet through the JupyterLab relay, `--signer browser`);
//! - [`devnet`]: anvil + deploy + snapshots + recorded processes;
//! - [`provider`]: the client of any Ocean Node (kelp's own node is the `kelp-ocean-node` crate;
//!   [`devnet`] launches its binary);
//! - [`network`]: devnet / Ocean's published networks / any RPC URL;
//! - [`publish`], [`consume`], [`journal`], [`ddo`], [`ipfs`]: the publish and consume flows;
//! - [`mod@magics`]: the `Magic` implementations ([`magics()`] lists them for the kernel).
//!
//! # JSON schemas (`application/json` of each magic)
//!
//! Each result is a typed struct ([`magics::results`], a module per magic); its JSON Schema,
//! generated from the type, is `docs/schema/results/<name>.schema.json`: `publish.asset`,
//! `ocean.{get,show,assets,collect,price}`, `wallet.{show,send,switch,keystore}` (`keystore`:
//! `create` and `import`), `devnet.{up,down,status}` (`up`: `up` and `reset`). In short:
//!
//! `%devnet up` / `%devnet reset` (value bound: the RPC URL):
//! `{"network": "development", "running": true, "start": "cold"|"warm"|"running", "elapsed_ms": u64,
//!   "rpc_url": str, "chain_id": u64, "anvil_pid": u32, "node_pid": u32|null, "node_url": str|null, "address_file": path,
//!   "addresses": <address.json entry>, "deploy_gas": {step: gas}}`
//!
//! `%devnet status` (value bound: the RPC URL when running):
//! `{"network", "running": bool, "rpc_url", "chain_id", "block": u64|null, "anvil_pid", "node_url",
//!   "address_file", "addresses": <entry>|null}`
//!
//! `%devnet down`: `{"running": false, "was_running": bool, "saved": bool}`
//!
//! `%publish SOURCE --name …` (value bound: the DID):
//! `{"did", "nft", "datatoken", "exchange_id": hex|null, "network", "chain_id", "name",
//!   "txs": [{"label", "hash", "gas"}], "gas_total": u64, "already_published": bool,
//!   "file": {"type": "ipfs", "hash": CID} | {"type": "url", "url"}, "price": "Free" | {"Fixed": {"amount", "token"}},
//!   "type": "dataset"|"algorithm", "compute": null | {"allowRawAlgorithm", "allowNetworkAccess": false,
//!   "publisherTrustedAlgorithms": [{"did", "filesChecksum", "containerSectionChecksum"}],
//!   "publisherTrustedAlgorithmPublishers": [address]}, "lineage": null | {"notebook", "inputs", "outputs"}}`
//!   (`compute` set for `--compute` datasets; `amount` of a fixed price is `0x` hex wei)
//!
//! `%ocean get DID` (value bound: the output path):
//! `{"did", "path", "size", "sha256", "cid": str|null, "cid_verified": bool, "datatoken",
//!   "acquired": "dispenser"|"fixed-rate"|"held", "paid": wei-string|null, "order_tx", "txs": [...], "chain_id"}`
//!
//! `%ocean show DID`: the indexed DDO 4.1.0 (plus the node's `nft` and `event` fields).
//! `%ocean assets`: `{"assets": [{"did", "name", "type", "nft", "owner", "prices": [{"serviceId",
//! "type", "price", "token"}], "orders"}]}`.
//! `%ocean price DID`: `{"did", "datatoken", "pricing": "free"|"fixed"|"none", "amount": wei|null, "amount_ocean"}`.
//! `%ocean collect DID`: `{"did", "datatoken", "amount": wei, "to", "tx": hash|null}`.
//!
//! `%wallet` / `%wallet show` (value bound: the address):
//! `{"address", "network", "chain_id", "eth", "tokens": [{"symbol", "address", "balance"}]}`;
//! `%wallet send`: `{"to", "amount", "token", "tx", "gas"}`; `%wallet switch`: `{"network", "chain_id", "rpc_url"}`;
//! `%wallet create|import`: `{"name", "path", "address"}`. A network given as a URL, and the
//! RPC URL of `switch`, are shown without a `user:password@` or key-like query values.
//!
//! An `address.json` entry: `{"chainId", "Ocean", "OPFCommunityFeeCollector", "Router", "FixedPrice",
//! "Dispenser", "ERC721Factory", "ERC721Template": {"1"}, "ERC20Template": {"1", "2"}, "poolTemplate",
//! "startBlock"}` — the format of `@oceanprotocol/contracts/addresses/address.json`.

pub mod addresses;
pub mod chain;
pub mod compute;
pub mod consume;
pub mod devnet;
pub mod error;
mod fsutil;
pub mod ipfs;
pub mod journal;
pub mod magics;
pub mod network;
pub mod provider;
pub mod publish;
pub mod rpc;
pub mod session;
pub mod signer;
pub mod tools;

pub use error::{OceanError, Result};
/// The wire types shared with kelp's Ocean node (`kelp-ocean-node`).
pub use kelp_ocean_wire::{contracts, ddo};

use kelp_magic::Recorded;
use std::sync::Arc;

/// The magics of this family, for the kernel's registry.
pub fn magics() -> Vec<Arc<dyn kelp_magic::Magic>> {
    vec![
        Arc::new(magics::devnet::DevnetMagic),
        Arc::new(Recorded::new(Arc::new(magics::publish::PublishMagic), magics::record::publish)),
        Arc::new(Recorded::new(Arc::new(magics::ocean::OceanMagic), magics::record::ocean)),
        Arc::new(magics::wallet::WalletMagic),
    ]
}
