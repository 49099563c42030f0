# Ocean devnet tools (kelp-ocean's `%devnet up`): anvil and the Ocean v4 contract artifacts from npm,
# the specs of magics/ocean/src/devnet/chain-npm.txt (what `kelp devnet setup` installs outside a
# checkout). They are read at run time from install/.tools/chain; nothing is copied into the repo.
# shellcheck disable=SC2046 # one spec a line, split on purpose
need_npm chain $(chain_npm_specs)
