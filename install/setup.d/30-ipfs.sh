# %ipfs test peer: js-ipfs 0.66.1 (Kubo-RPC compatible, offline) under install/.tools/jsipfs
# (REFERENCE.md §2.1). The overrides are required on Node 20; the first install takes ~3.5 min.
jsipfs_dir="$KELP_TOOLS/jsipfs"
jsipfs_pkg='{ "name": "jsipfs-local", "version": "1.0.0", "private": true, "dependencies": { "ipfs": "0.66.1" },
  "overrides": { "mortice": "3.0.6", "@libp2p/tcp": "6.1.0", "@libp2p/websockets": "5.0.3" } }'
jsipfs_stamp="$KELP_TOOLS/jsipfs.npm-stamp"
if [ ! -x "$jsipfs_dir/node_modules/.bin/jsipfs" ] || [ "$(cat "$jsipfs_stamp" 2>/dev/null)" != "$jsipfs_pkg" ]; then
  log "npm: installing js-ipfs 0.66.1 into install/.tools/jsipfs (first time ~3.5 min)"
  mkdir -p "$jsipfs_dir"
  printf '%s\n' "$jsipfs_pkg" > "$jsipfs_dir/package.json"
  npm install --no-audit --no-fund --loglevel=error --prefix "$jsipfs_dir" >/dev/null
  [ -x "$jsipfs_dir/node_modules/.bin/jsipfs" ] || die "js-ipfs install finished but node_modules/.bin/jsipfs is missing"
  printf '%s' "$jsipfs_pkg" > "$jsipfs_stamp"
fi
