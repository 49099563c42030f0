# Formatting and lints over the whole workspace.
cargo fmt --all -- --check
cargo clippy --locked --workspace --all-targets -- -D warnings
