//! kelp-ipfs's integration tests, one binary (issue #15: one link of alloy/axum/libp2p per
//! crate, not one per file). Each file is a module; run one with its path as the filter, e.g.
//! `cargo test -p kelp-ipfs --test it -- jsipfs:: --ignored` (install/test.d/30-ipfs.sh does).

mod support;

mod bitswap;
mod fuzz;
mod gateway;
mod helia;
mod hostile;
mod hostile_prop;
mod jsipfs;
mod jsipfs_bitswap;
mod kubo_sharness;
mod lighthouse;
mod magic;
mod pinning;
mod record;
mod results;
mod store;
mod vectors;
