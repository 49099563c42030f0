//! kelp-ocean-node's integration tests, one binary (a file = a module): the node's fetch policy
//! and rate limits against real loopback servers and the recorded answers of a real Ocean Node.

mod node_fetch;
mod rate_limit;
