//! kelp-c2d's integration tests, one binary (issue #15: one link per crate, not one per file).
//! Each file is a module; select one with its path as the filter, e.g.
//! `cargo test -p kelp-c2d --test it -- sandbox::` (install/test.d/50-c2d.sh runs `sandbox::`
//! and `escape::` again as an unprivileged user).

mod common;

mod escape;
mod magic;
mod record;
mod remote;
mod restart;
mod results;
mod sandbox;
mod training;
