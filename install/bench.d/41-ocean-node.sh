# Ocean publish and consume against kelp's node and against a replay of a real Ocean Node v3.1.0
# (magics/ocean/examples/ocean_node_bench.rs): on kelp's devnet node the whole publish and get and
# their node side alone; on the replay server (../shared/ocean-node-v3.1.0/transcripts.jsonl, or
# $KELP_OCEAN_TRANSCRIPTS) the same node-side requests, matched against the recorded ones.
cargo build --locked -q -p kelp-ocean -p kelp-ocean-node --bins --examples
KELP_ANVIL="$KELP_TOOLS/chain/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil" \
KELP_OCEAN_ARTIFACTS="$KELP_TOOLS/chain/node_modules/@oceanprotocol/contracts" \
KELP_OCEAN_NODE="$CARGO_TARGET_DIR/debug/kelp-ocean-node" \
  "$CARGO_TARGET_DIR/debug/examples/ocean_node_bench" "${KELP_BENCH_RUNS:-5}"
