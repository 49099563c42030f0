# Ocean devnet tools (kelp-ocean): anvil + cast from npm and the Ocean v4 contract artifacts.
# The artifacts are read at run time by kelp-ocean (KELP_OCEAN_ARTIFACTS); nothing is copied into the repo.
need_npm chain @foundry-rs/anvil-linux-amd64@1.7.1 @foundry-rs/cast-linux-amd64@1.7.1 @oceanprotocol/contracts@2.6.0
