# part: test
# ocean.js (npm `@oceanprotocol/lib`, Ocean's official JavaScript library) for the cross-check of
# kelp's node and published assets (install/test.d/47-oceanjs.sh). 6.1.2 is the newest release that
# depends on @oceanprotocol/contracts ^2.6.0, the artifacts kelp's devnet deploys (8.x no longer
# depends on that package; the contracts spec is the devnet's, from chain-npm.txt); it speaks Ocean
# Node's API. ethers 6.15.0 satisfies its ^6.15.0.
need_npm oceanjs @oceanprotocol/lib@6.1.2 "$(chain_npm_specs | grep '^@oceanprotocol/contracts@')" ethers@6.15.0
