#!/usr/bin/env bash
# %ipfs retrieval bench (figures, not a test): a 64 MiB seeded file held by an in-memory Helia
# behind tests/helia/gateway.mjs on loopback, fetched by kelp (release build of
# examples/ipfs_fetch: every block hashed, stored, then written out) as one streamed CAR and
# block by block (?format=raw, 8 requests in flight); wall time, throughput and peak RSS; the
# output's sha256 is checked against Helia's.
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
work=$(mktemp -d); trap 'rm -rf "$work"; [ -n "${gpid:-}" ] && kill "$gpid" 2>/dev/null; true' EXIT
ln -s "$MODULES" "$work/node_modules"
cp "$ROOT/magics/ipfs/tests/helia/gateway.mjs" "$work/"
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
