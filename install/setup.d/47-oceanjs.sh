# ocean.js (npm `@oceanprotocol/lib`, Ocean's official JavaScript library) for the cross-check of
# kelp's node and published assets (install/test.d/47-oceanjs.sh). 6.1.2 is the newest release built
# on @oceanprotocol/contracts 2.6.0 (the artifacts kelp's devnet deploys; 8.x moved to escrow-paid
# compute, which the devnet has no contract for). ethers 6 is the version it depends on.
need_npm oceanjs @oceanprotocol/lib@6.1.2 @oceanprotocol/contracts@2.6.0 ethers@6.15.0
