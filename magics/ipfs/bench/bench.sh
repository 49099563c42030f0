#!/usr/bin/env bash
# %ipfs add bench (figures, not a test): a 256 MiB seeded-random file (big256.bin, the public
# vector's generator), wall time and peak RSS of
#   kelp's add (release build, embedded store; also --only-hash), sha256sum on the same file,
#   and the js-ipfs 0.66.1 daemon's /api/v0/add (peak RSS = the daemon's VmHWM),
# all in one run, with the CIDs checked against the vector. The file is read once first so
# every row runs with it in the page cache.
# Usage: magics/ipfs/bench/bench.sh   (or ./install/bench ipfs)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
source "$ROOT/install/lib.sh"
export CARGO_TARGET_DIR="${KELP_IPFS_TARGET:-$HOME/.cache/kelp/target-ipfs}"
WANT=QmU1jjjdTKSxbiDY3oynnxwUKCz16fFbFkP9bpzLWBZU8P
DATA="$HOME/.cache/kelp/bench"; mkdir -p "$DATA"; BIG="$DATA/big256.bin"
if [ "$(sha256sum "$BIG" 2>/dev/null | cut -d' ' -f1)" != 2e2b8588488e93cd856b38ca180f3ec19935a1b83be3cd8c597a8b1150ff22b7 ]; then
  log "generating big256.bin (256 MiB, seed 42)"
  python3 -c 'import random,sys;random.seed(42);w=sys.stdout.buffer.write;[w(random.randbytes(4*1024*1024)) for _ in range(64)]' > "$BIG"
fi
log "building kelp-ipfs example ipfs_add (release)"
cargo build --quiet --release -p kelp-ipfs --example ipfs_add
ADD="$CARGO_TARGET_DIR/release/examples/ipfs_add"
work=$(mktemp -d); trap 'rm -rf "$work"; [ -n "${dpid:-}" ] && kill "$dpid" 2>/dev/null; true' EXIT
cat "$BIG" > /dev/null
row() { printf '%-34s %8s s %8s MiB  %s\n' "$1" "$2" "$3" "$4"; }
timed() { /usr/bin/time -f '%e %M' -o "$work/t" "$@" > "$work/o"; read -r wall kb < "$work/t"; echo "$wall $((kb / 1024))"; }
echo; printf '%-34s %10s %12s  %s\n' "256 MiB add" "wall" "peak RSS" "result"
read -r w m < <(timed "$ADD" "$work/store" "$BIG"); row "kelp add (store, CIDv0)" "$w" "$m" "$(cut -d' ' -f1 "$work/o")"
[ "$(cut -d' ' -f1 "$work/o")" = "$WANT" ] || die "kelp computed $(cut -d' ' -f1 "$work/o"), expected $WANT"
read -r w m < <(timed "$ADD" "$work/store2" "$BIG" --only-hash); row "kelp add --only-hash" "$w" "$m" "$(cut -d' ' -f1 "$work/o")"
read -r w m < <(timed "$ADD" "$work/store3" "$BIG" --cid-version 1); row "kelp add --cid-version 1" "$w" "$m" "$(cut -d' ' -f1 "$work/o")"
[ "$(cut -d' ' -f1 "$work/o")" = bafybeihxesyve5euptqp7agfukxwx2kqll3db7cqmpehpm4ope5helqja4 ] || die "kelp CIDv1 differs from the vector"
read -r w m < <(timed "$ADD" "$work/store4" "$BIG" --profile unixfs-v1-2025); row "kelp add --profile unixfs-v1-2025" "$w" "$m" "$(cut -d' ' -f1 "$work/o")"
read -r w m < <(timed sha256sum "$BIG"); row "sha256sum" "$w" "$m" "$(cut -c1-16 "$work/o")…"
J="$KELP_TOOLS/jsipfs/node_modules/.bin/jsipfs"
if [ -e "$J" ]; then
  export IPFS_PATH="$work/jsrepo"
  "$J" init --profile test > /dev/null 2>&1
  port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
  python3 - "$IPFS_PATH/config" "$port" <<'PY'
import json, sys, socket
def free():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); return s.getsockname()[1]
p, port = sys.argv[1], sys.argv[2]
c = json.load(open(p))
c["Addresses"].update({"API": f"/ip4/127.0.0.1/tcp/{port}", "Gateway": f"/ip4/127.0.0.1/tcp/{free()}",
                       "RPC": f"/ip4/127.0.0.1/tcp/{free()}", "Swarm": [], "Delegates": []})
c["Bootstrap"] = []; c["Routing"] = {"Type": "none"}
json.dump(c, open(p, "w"))
PY
  "$J" daemon --offline > "$work/daemon.log" 2>&1 & dpid=$!
  for _ in $(seq 1 180); do grep -q "Daemon is ready" "$work/daemon.log" && break; sleep 0.5; done
  grep -q "Daemon is ready" "$work/daemon.log" || die "js-ipfs daemon did not start: $(tail -3 "$work/daemon.log")"
  idle=$(awk '/VmRSS/{print int($2/1024)}' "/proc/$dpid/status")
  start=$(date +%s.%N)
  cid=$(curl -s -X POST -F "file=@$BIG" "http://127.0.0.1:$port/api/v0/add?pin=true&progress=false" | python3 -c 'import json,sys;print(json.loads(sys.stdin.read().splitlines()[-1])["Hash"])')
  end=$(date +%s.%N)
  hwm=$(awk '/VmHWM/{print int($2/1024)}' "/proc/$dpid/status")
  row "js-ipfs 0.66.1 daemon /api/v0/add" "$(python3 -c "print(f'{$end-$start:.2f}')")" "$hwm" "$cid (daemon idle RSS ${idle} MiB)"
  [ "$cid" = "$WANT" ] || log "warning: js-ipfs computed $cid"
  kill "$dpid"; wait "$dpid" 2>/dev/null || true; dpid=
else
  log "js-ipfs is not installed (install/setup.d/30-ipfs.sh): daemon row skipped"
fi
echo "reference (REFERENCE.md §2.1): kubo 0.22 in-process 1.58 s / 147 MiB; target: faster, under 64 MiB RSS"
