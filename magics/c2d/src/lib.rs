//! kelp-c2d: under construction (see the issue tracker).
