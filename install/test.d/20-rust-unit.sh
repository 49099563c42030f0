# The magic seam (kelp-magic). Each family's suite (30-ipfs, 40-ocean, 50-c2d) runs its own crate.
cargo test --locked -p kelp-magic
