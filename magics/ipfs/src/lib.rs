//! kelp-ipfs: under construction (see the issue tracker).
