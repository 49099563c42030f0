#!/usr/bin/env bash
# %ipfs retrieval bench (figures, not a test): a 64 MiB seeded file held by an in-memory Helia
# behind tests/helia/gateway.mjs on loopback, fetched by kelp (release build of
# examples/ipfs_fetch: every block hashed, stored, then written out) as one streamed CAR and
# block by block (?format=raw, 8 requests in flight); wall time, throughput and peak RSS; the
# output's sha256 is checked against Helia's. Then the same file from a Helia PEER
# (tests/helia/peer.mjs, libp2p TCP + Noise + Yamux) over Bitswap, fetched by kelp (--peer) and by
# another Helia (its own Bitswap client) in the same run. Last, the CPU an idle kernel spends
# with the node off, on, and on with a connected peer (bench/idle_cpu.py).
# Usage: magics/ipfs/bench/fetch.sh   (or ./install/bench ipfs)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
source "$ROOT/install/lib.sh"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/kelp/target}"
MODULES="$ROOT/install/.tools/helia/node_modules"
[ -d "$MODULES/helia" ] || die "Helia is missing at ${MODULES#$ROOT/}: run ./install/setup"
log "building kelp-ipfs example ipfs_fetch (release)"
cargo build --quiet --release -p kelp-ipfs --example ipfs_fetch
FETCH="$CARGO_TARGET_DIR/release/examples/ipfs_fetch"
work=$(mktemp -d)
trap 'rm -rf "$work"; for p in ${gpid:-} ${ppid_:-}; do kill "$p" 2>/dev/null; done; true' EXIT
ln -s "$MODULES" "$work/node_modules"
cp "$ROOT"/magics/ipfs/tests/helia/*.mjs "$work/"
log "starting the Helia gateway (adds 64 MiB)"
(cd "$work" && SEED=bench FILE_MB=64 DIR_ENTRIES=10 exec node gateway.mjs > "$work/info" 2> "$work/gw.log") & gpid=$!
for _ in $(seq 600); do [ -s "$work/info" ] && break; sleep 0.2; done
[ -s "$work/info" ] || die "the Helia gateway did not start: $(cat "$work/gw.log")"
info() { python3 -c "import json,sys;print(json.load(open('$work/info'))['$1'])"; }
url="http://127.0.0.1:$(info port)" cid=$(info file_cid) want=$(info file_sha256)
echo; printf '%-30s %8s %10s %10s  %s\n' "64 MiB from Helia (loopback)" "wall" "MiB/s" "peak RSS" "blocks"
for mode in car raw; do
  flag=(); [ "$mode" = raw ] && flag=(--raw)
  /usr/bin/time -f '%e %M' -o "$work/t" "$FETCH" "$work/store-$mode" "$url" "$cid" "$work/out-$mode" "${flag[@]}" > "$work/o"
  read -r blocks bytes secs sha < "$work/o"; read -r wall kb < "$work/t"
  [ "$sha" = "$want" ] || die "kelp's copy has sha256 $sha, Helia's $want"
  printf '%-30s %8s %10s %7s MiB  %s\n' "kelp fetch ($mode)" "${wall}s" \
    "$(python3 -c "print(f'{64/$secs:.1f}')")" "$((kb / 1024))" "$blocks"
done
log "starting the Helia Bitswap peer (adds the same 64 MiB)"
(cd "$work" && SEED=bench FILE_MB=64 DIR_ENTRIES=0 exec node peer.mjs > "$work/peer" 2> "$work/peer.log") & ppid_=$!
for _ in $(seq 600); do [ -s "$work/peer" ] && break; sleep 0.2; done
[ -s "$work/peer" ] || die "the Helia peer did not start: $(cat "$work/peer.log")"
addr=$(python3 -c "import json;print(json.load(open('$work/peer'))['addrs'][0])")
[ "$(python3 -c "import json;print(json.load(open('$work/peer'))['file_cid'])")" = "$cid" ] || die "Helia's peer and gateway disagree on the CID"
/usr/bin/time -f '%e %M' -o "$work/t" "$FETCH" "$work/store-bitswap" "http://127.0.0.1:9" "$cid" "$work/out-bitswap" --peer "$addr" > "$work/o"
read -r blocks bytes secs sha < "$work/o"; read -r wall kb < "$work/t"
[ "$sha" = "$want" ] || die "kelp's Bitswap copy has sha256 $sha, Helia's $want"
printf '%-30s %8s %10s %7s MiB  %s\n' "kelp fetch (bitswap)" "${wall}s" \
  "$(python3 -c "print(f'{64/$secs:.1f}')")" "$((kb / 1024))" "$blocks"
/usr/bin/time -f '%e %M' -o "$work/t" env MODE=fetch PEER="$addr" CID="$cid" node "$work/peer.mjs" > "$work/o"
read -r wall kb < "$work/t"
hsha=$(python3 -c "import json;print(json.load(open('$work/o'))['sha256'])")
hms=$(python3 -c "import json;print(json.load(open('$work/o'))['ms'])")
[ "$hsha" = "$want" ] || die "Helia's Bitswap copy has sha256 $hsha"
printf '%-30s %8s %10s %7s MiB  %s\n' "Helia fetch (bitswap)" "${wall}s" \
  "$(python3 -c "print(f'{64/($hms/1000):.1f}')")" "$((kb / 1024))" "-"
# Kernel idle CPU with the node off, on, and on with a connected Helia peer (a real kernel from the
# installed `kelp` kernelspec; bench/idle_cpu.py).
log "kernel idle CPU with the IPFS node off / on (bench/idle_cpu.py, ${KELP_BENCH_IDLE_SECS:-30} s each)"
"$KELP_VENV/bin/python" "$ROOT/magics/ipfs/bench/idle_cpu.py" --secs "${KELP_BENCH_IDLE_SECS:-30}"
