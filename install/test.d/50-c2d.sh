# C2D: the library, the engine and the sandbox acceptance tests with the real bubblewrap (they
# fail, not skip, when bwrap is missing).
# Result snapshots (insta): a rendering that differs from its committed .snap fails, and nothing
# is written (no .snap.new in the tree); accept a change with `cargo insta review` or INSTA_UPDATE=always.
export INSTA_UPDATE=no
unset INSTA_FORCE_PASS
cargo test --locked -p kelp-c2d
# As root, run the sandbox tests once more as an unprivileged user: the limits are enforced
# differently there (RLIMIT_NPROC in a user namespace instead of a pids cgroup). The Rust-binary
# test is left out there: it needs rustc, which is not on that user's PATH.
if [ "$(id -u)" = 0 ]; then
  # The sandbox tests, and the escape tests of issue #12 (planted links, host paths, secrets):
  # the modules sandbox:: and escape:: of the one integration-test binary, tests/it.
  c2d_bin=$(cargo test --locked -p kelp-c2d --test it --no-run --message-format=json 2>/dev/null \
    | /usr/bin/python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "it" and m.get("executable"):
        print(m["executable"])')
  c2d_tmp=$(mktemp -d /tmp/kelp-c2d-nobody.XXXXXX)
  [ -n "$c2d_bin" ] && cp "$c2d_bin" "$c2d_tmp/it" || die "kelp-c2d test binary (tests/it) not found"
  chmod -R a+rwx "$c2d_tmp"
  for t in "sandbox:: --skip sandbox::compiled_rust_binary_algorithm" "escape::"; do
    # shellcheck disable=SC2086
    ( cd "$c2d_tmp" && setpriv --reuid=65534 --regid=65534 --clear-groups \
        env -i PATH=/usr/bin:/bin HOME="$c2d_tmp" TMPDIR="$c2d_tmp" ./it $t --test-threads=2 )
  done
  rm -rf "$c2d_tmp"
fi
