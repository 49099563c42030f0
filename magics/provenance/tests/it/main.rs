//! kelp-provenance's integration tests, one binary: the graph and bundles on a real IPFS store
//! (`bundle_graph`), and `--network`'s chain check against a real anvil and a real Ocean Node's
//! recorded answers (`onchain`), and snapshots of the three magics' results (`results`).

mod bundle_graph;
mod onchain;
mod results;
