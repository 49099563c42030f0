# Unit and integration tests of the magic libraries (no engine: they build in seconds).
cargo test --locked -p kelp-magic -p kelp-ipfs -p kelp-ocean -p kelp-c2d
