# C2D: the library, the engine and the sandbox acceptance tests with the real bubblewrap (they
# fail, not skip, when bwrap is missing).
cargo test --locked -p kelp-c2d
# As root, run the sandbox tests once more as an unprivileged user: the limits are enforced
# differently there (RLIMIT_NPROC in a user namespace instead of a pids cgroup). The Rust-binary
# test is left out there: it needs rustc, which is not on that user's PATH.
if [ "$(id -u)" = 0 ]; then
  c2d_bin=$(cargo test --locked -p kelp-c2d --test sandbox --no-run --message-format=json 2>/dev/null \
    | /usr/bin/python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "sandbox" and m.get("executable"): print(m["executable"])')
  c2d_tmp=$(mktemp -d /tmp/kelp-c2d-nobody.XXXXXX)
  cp "$c2d_bin" "$c2d_tmp/sandbox" && chmod -R a+rwx "$c2d_tmp"
  ( cd "$c2d_tmp" && setpriv --reuid=65534 --regid=65534 --clear-groups \
      env -i PATH=/usr/bin:/bin HOME="$c2d_tmp" TMPDIR="$c2d_tmp" ./sandbox --test-threads=2 --skip compiled_rust_binary_algorithm )
  rm -rf "$c2d_tmp"
fi
