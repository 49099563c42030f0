//! kelp-ocean: under construction (see the issue tracker).
