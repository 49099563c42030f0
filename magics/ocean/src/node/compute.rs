//! Compute-to-data on the local node — the seam for the kelp-c2d engine.
//!
//! Ocean Node's compute routes (REFERENCE §4.7: `GET /api/services/computeEnvironments`,
//! `POST /api/services/freeCompute`, `POST /api/services/initializeCompute`,
//! `POST /api/services/compute`, `GET|PUT /api/services/compute`, `GET /api/services/computeResult`)
//! will be served by a [`ComputeBackend`] handed to the node. Until one is plugged in, the node
//! lists no environments and answers the job routes with 501.

use serde_json::Value;

/// What the node asks of a compute engine (kelp-c2d's local bubblewrap engine will implement it).
#[async_trait::async_trait]
pub trait ComputeBackend: Send + Sync {
    /// The `computeEnvironments` list in Ocean Node's shape.
    async fn environments(&self) -> Value;
}

/// The answer of `computeEnvironments` when no engine is plugged in: no environments.
pub fn no_environments() -> Value {
    Value::Array(vec![])
}
