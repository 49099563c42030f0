# part: test
# The %ipfs test peers (install/test.d/30-ipfs.sh and the kernel's network tests); a user of kelp
# never needs them.

# %ipfs test peer: js-ipfs 0.66.1 (Kubo-RPC compatible, offline) under install/.tools/jsipfs
# (REFERENCE.md §2.1). The overrides are required on Node 20; the first install takes ~3.5 min.
# @multiformats/mafmt is held at 11.1.1: 11.1.2 takes multiaddr 12 while @libp2p/tcp 6.1.0 makes
# multiaddr 11 objects, so no TCP address matches and an online daemon dies at start ("no valid
# addresses were provided for transports"; tests/jsipfs_bitswap.rs runs it online).
need_npm_package jsipfs '{ "name": "jsipfs-local", "version": "1.0.0", "private": true, "dependencies": { "ipfs": "0.66.1" },
  "overrides": { "mortice": "3.0.6", "@libp2p/tcp": "6.1.0", "@libp2p/websockets": "5.0.3", "@multiformats/mafmt": "11.1.1" } }' \
  node_modules/.bin/jsipfs "installing js-ipfs 0.66.1 into install/.tools/jsipfs (first time ~3.5 min)"

# Helia peers of tests/helia.rs (magics/ipfs/tests/helia/*.mjs): an in-memory Helia behind a few
# lines of node HTTP as a trustless gateway, and @helia/verified-fetch reading kelp's gateway.
# undici is held at 7.x: the 8.x that @libp2p/http pulls needs Node 22 (zlib zstd).
need_npm_package helia '{ "name": "helia-local", "version": "1.0.0", "private": true, "type": "module",
  "dependencies": { "helia": "7.1.15", "@helia/unixfs": "8.0.5", "@helia/car": "6.0.5",
    "@helia/verified-fetch": "8.0.4", "@helia/http": "4.0.7", "@helia/fallback-router": "1.1.1",
    "blockstore-core": "7.0.1" },
  "overrides": { "undici": "7.30.3" } }' \
  node_modules/@helia/verified-fetch "installing Helia 7.1.15 and @helia/verified-fetch 8.0.4 into install/.tools/helia"
