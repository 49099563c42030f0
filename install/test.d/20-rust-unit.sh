# The magic seam (kelp-magic). Each family's suite (30-ipfs, 40-ocean, 50-c2d) runs its own crate.
# Result snapshots (insta): a rendering that differs from its committed .snap fails, and nothing
# is written (no .snap.new in the tree); accept a change with `cargo insta review` or INSTA_UPDATE=always.
export INSTA_UPDATE=no
unset INSTA_FORCE_PASS
cargo test --locked -p kelp-magic
