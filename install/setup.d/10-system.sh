# System packages from Debian: C toolchain bits for -sys crates, and python venv support.
need_apt pkg-config ca-certificates
command -v cargo >/dev/null || die "cargo not found: kelp needs a Rust toolchain (1.95) on PATH"
command -v npm >/dev/null || die "npm not found: kelp's test peers come from the npm registry"
