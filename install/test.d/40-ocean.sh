# kelp-ocean against the real anvil and the real Ocean v4 contracts from npm (installed by
# setup.d/40-ocean.sh). The tests start and stop their own devnets on free ports under temporary
# KELP_HOMEs, and fail (never skip) when anvil or the artifacts are missing. tests/it/browser_signer.rs
# also starts a real Jupyter server from .venv with kelp_labextension (setup.d/60-labext.sh) and
# fails when it is missing.
# The devnet tests spawn kelp's node, its own crate's binary (kelp-ocean-node): built first, so a
# test never runs a stale one. The wire types and the node's own tests run here too.
cargo build --locked -p kelp-ocean-node --bins || exit 1
KELP_ANVIL="$KELP_TOOLS/chain/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil" \
KELP_OCEAN_ARTIFACTS="$KELP_TOOLS/chain/node_modules/@oceanprotocol/contracts" \
KELP_VENV="$KELP_VENV" \
KELP_OCEAN_NODE="$CARGO_TARGET_DIR/debug/kelp-ocean-node" \
  cargo test --locked -p kelp-ocean -p kelp-ocean-wire -p kelp-ocean-node || exit 1
# Off the devnet, %publish pushes a local-only CID to the configured Kubo first
# (tests/it/publish_reach.rs): against a REAL js-ipfs daemon (installed by setup.d/30-ipfs.sh) that
# the test starts on free loopback ports and stops.
jsipfs="$KELP_ROOT/install/.tools/jsipfs/node_modules/.bin/jsipfs"
[ -e "$jsipfs" ] || die "js-ipfs is missing at ${jsipfs#$KELP_ROOT/}: install/setup.d/30-ipfs.sh should have installed it"
KELP_ANVIL="$KELP_TOOLS/chain/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil" \
KELP_OCEAN_ARTIFACTS="$KELP_TOOLS/chain/node_modules/@oceanprotocol/contracts" \
KELP_JSIPFS="$jsipfs" \
KELP_OCEAN_NODE="$CARGO_TARGET_DIR/debug/kelp-ocean-node" \
  cargo test --locked -p kelp-ocean --test it -- --ignored publish_reach:: || exit 1
