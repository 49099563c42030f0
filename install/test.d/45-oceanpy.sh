# Cross-check (issue 4): an asset published by the kelp binary on its devnet is read back by
# ocean.py (ocean-lib from PyPI, installed by setup.d/45-oceanpy.sh) — names, symbols, owner,
# on-chain metadata, metadata hash and DID — and one published by ocean.py along its own
# create + setMetaData path is indexed, shown and consumed by kelp. The tests start
# `kelp devnet up` on a free unusual port under a temporary KELP_HOME and always run
# `kelp devnet down`. Fails, never skips, when ocean-lib, the kelp binary or the devnet are
# missing.
[ -x "$KELP_TOOLS/oceanpy/bin/python" ] || die "install/.tools/oceanpy missing: run ./install/setup"
KELP_BIN="$KELP_BIN" \
KELP_ANVIL="$KELP_TOOLS/chain/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil" \
KELP_OCEAN_ARTIFACTS="$KELP_TOOLS/chain/node_modules/@oceanprotocol/contracts" \
  "$KELP_TOOLS/oceanpy/bin/python" -m pytest -q -p no:cacheprovider -W ignore::DeprecationWarning \
  magics/ocean/tests/crosscheck
