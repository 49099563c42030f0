//! kelp-ocean-wire: what kelp's Ocean client (`kelp-ocean`) and its Ocean node
//! (`kelp-ocean-node`) both put on the wire, and nothing else — no HTTP, no flows. Each side
//! writes its own requests and handlers; they share only these definitions, so a message format
//! is written down once.
//!
//! Modules:
//! - [`contracts`]: the Solidity interfaces (ABI bindings) of the Ocean v4 contracts;
//! - [`addresses`]: Ocean's `address.json` format;
//! - [`ddo`]: DIDs and the hashes and checksums a DDO carries;
//! - [`fees`]: the `providerFee` object and the hash its signature covers;
//! - [`auth`]: the message a node request signature covers, and checking one;
//! - [`layout`]: where the devnet keeps the files its node reads (address.json, the node key);
//! - [`error`]: the error of reading wire data ([`WireError`]).

pub mod addresses;
pub mod auth;
pub mod contracts;
pub mod ddo;
pub mod error;
pub mod fees;
pub mod layout;

pub use error::WireError;

/// Response header of `download` naming an `ipfs` file's CID, so the consumer can check the bytes.
pub const CID_HEADER: &str = "x-ipfs-cid";
