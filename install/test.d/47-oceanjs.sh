# Cross-check with Ocean's JavaScript library, ocean.js (npm @oceanprotocol/lib 6.1.2, installed by
# setup.d/47-oceanjs.sh), against kelp's devnet and node: (a) assets kelp publishes (free and
# fixed-price) are resolved, ordered and downloaded by ocean.js; (b) an asset ocean.js publishes
# is indexed, shown and consumed by kelp; (c) ocean.js runs a compute job on kelp's node with a
# kelp-published algorithm and compute-only dataset, and (d) pays for one on kelp's paid
# environment through Escrow (deposit, authorise, the node claims after the job). Each test file
# starts `kelp devnet up` on a free port under a temporary KELP_HOME and always runs
# `kelp devnet down`. node's built-in test
# runner prints its own summary (tests/pass/fail). Fails, never skips, when ocean.js, the kelp
# binary or the devnet are missing.
[ -d "$KELP_TOOLS/oceanjs/node_modules/@oceanprotocol/lib" ] || die "install/.tools/oceanjs missing: run ./install/setup"
[ -x "$KELP_BIN" ] || die "oceanjs tests: the kelp binary is missing at $KELP_BIN (run ./install/build)"
KELP_BIN="$KELP_BIN" \
KELP_ANVIL="$KELP_TOOLS/chain/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil" \
KELP_OCEAN_ARTIFACTS="$KELP_TOOLS/chain/node_modules/@oceanprotocol/contracts" \
OCEANJS_MODULES="$KELP_TOOLS/oceanjs" \
  node --test --test-concurrency=1 --test-reporter=spec magics/ocean/tests/oceanjs/
