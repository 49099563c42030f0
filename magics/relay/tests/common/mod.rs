//! Kept only for kelp-ocean's tests (browser_signer.rs, compute_browser.rs), which reach it by
//! `#[path]`: the Jupyter server and browser face now live in kelp-testkit (`kelp_testkit::jupyter`).
//! Delete this file once those tests use kelp-testkit as a dev-dependency.

#![allow(dead_code)]

include!("../../../testkit/src/jupyter.rs");
