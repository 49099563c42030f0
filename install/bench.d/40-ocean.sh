# Ocean on the devnet (real anvil + Ocean v4 contracts + the local node): cold/warm devnet start,
# publish and consume wall time, transactions and gas (magics/ocean/examples/ocean_bench.rs), and
# beside kelp's publish, ocean.py's create + setMetaData on the same devnet in the same run
# (magics/ocean/tests/crosscheck/bench_oceanpy.py, ocean-lib from setup.d/45-oceanpy.sh).
[ -x "$KELP_TOOLS/oceanpy/bin/python" ] || die "install/.tools/oceanpy missing: run ./install/setup"
cargo build --locked -q -p kelp-ocean -p kelp-ocean-node --bins --examples
KELP_ANVIL="$KELP_TOOLS/chain/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil" \
KELP_OCEAN_ARTIFACTS="$KELP_TOOLS/chain/node_modules/@oceanprotocol/contracts" \
KELP_OCEANPY="$KELP_TOOLS/oceanpy/bin/python" \
  "$CARGO_TARGET_DIR/debug/examples/ocean_bench" "${KELP_BENCH_RUNS:-3}"
