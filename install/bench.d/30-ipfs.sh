# %ipfs add of 256 MiB: kelp vs sha256sum vs the js-ipfs daemon (magics/ipfs/bench/bench.sh).
"$KELP_ROOT/magics/ipfs/bench/bench.sh"
