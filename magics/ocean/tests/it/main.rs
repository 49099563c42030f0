//! kelp-ocean's integration tests, one binary (a file = a module): against a real anvil with the
//! real Ocean contracts, kelp's node binary, replays of a real Ocean Node v3.1.0, real js-ipfs and
//! a real Jupyter server. Run one group with `cargo test -p kelp-ocean --test it -- flow::`.

mod common;
mod remotes;

mod bad_inputs;
mod browser_signer;
mod compute_browser;
mod compute_escape;
mod compute_flow;
mod compute_live;
mod compute_node;
mod compute_paid;
mod conformance;
mod devnet;
mod flow;
mod node_fetch_download;
mod publish_reach;
mod replay;
