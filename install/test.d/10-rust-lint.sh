# Formatting and lints over the whole workspace.
cargo fmt --all -- --check
cargo clippy --locked --workspace --all-targets -- -D warnings
# No import cycle between the top-level modules of a crate (issue #15): the check's own unit tests
# on fixture crates, then every crate of the tree. No cycle is allowed: any cycle fails (a known
# one would be passed as --allow "CRATE:MOD,MOD=REASON"; an allowance for a cycle that is gone
# fails too).
python3 install/test_modcycles.py -q
python3 install/modcycles.py "$KELP_ROOT"
