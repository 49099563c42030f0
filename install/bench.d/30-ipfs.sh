# %ipfs add of 256 MiB: kelp vs sha256sum vs the js-ipfs daemon (magics/ipfs/bench/bench.sh).
"$KELP_ROOT/magics/ipfs/bench/bench.sh"
# %ipfs retrieval: a 64 MiB file from a Helia trustless gateway on loopback, as a CAR and block by
# block (magics/ipfs/bench/fetch.sh).
"$KELP_ROOT/magics/ipfs/bench/fetch.sh"
