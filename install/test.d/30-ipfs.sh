# %ipfs (crate kelp-ipfs): unit, vector, store and magic tests, then interop with a REAL js-ipfs
# 0.66.1 daemon that the test itself starts on a free loopback port and stops (tests/jsipfs.rs).
cargo test --locked -p kelp-ipfs
jsipfs="$KELP_ROOT/install/.tools/jsipfs/node_modules/.bin/jsipfs"
[ -e "$jsipfs" ] || die "js-ipfs is missing at ${jsipfs#$KELP_ROOT/}: install/setup.d/30-ipfs.sh should have installed it"
KELP_JSIPFS="$jsipfs" cargo test --locked -p kelp-ipfs --test jsipfs -- --ignored
