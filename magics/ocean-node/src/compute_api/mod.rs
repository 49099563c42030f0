//! Compute-to-data routes of the local node (Ocean Node v3 shapes, REFERENCE §4.7, §4.9) on the
//! engine of [`crate::compute`].
//!
//! Routes (errors: non-2xx, one plain-text line):
//! - `GET /api/services/computeEnvironments` — the engine's free environment, and with an Escrow
//!   on the chain its paid twin (`paid`: fees in OCEAN, locked and claimed through Escrow).
//! - `POST /api/services/initializeCompute {datasets:[{documentId, serviceId}], algorithm:{documentId,
//!   serviceId}, environment, consumerAddress, payment:{chainId, token, resources?}, maxJobDuration?}`
//!   (the fields Ocean Node v3.1.0 requires, checked in its order with its 400 texts; an unknown
//!   environment is its 500 "Invalid C2D Environment", on start too) → `{datasets:[{documentId, serviceId, datatoken,
//!   providerFee}], algorithm:{documentId, serviceId, datatoken, providerFee} | {raw: true}}` after the checks below
//!   (except orders and signature); each item is then ordered with `startOrder` and that fee.
//! - `POST /api/services/compute {consumerAddress, signature, nonce, environment, algorithm:{documentId,
//!   serviceId, transferTxId, algocustomdata?} | {meta:{rawcode, container:{entrypoint, image, tag}},
//!   algocustomdata?} (a raw algorithm: only on datasets with `allowRawAlgorithm`), datasets:[{documentId, serviceId, transferTxId}],
//!   resources?:[{id, amount}], maxJobDuration?, metadata?}`, signed over `consumerAddress + nonce +
//!   "startCompute"` → `[ComputeJob]`, `jobId` = `<engineHash>-<engineJobId>`.
//! - `POST /api/services/freeCompute` (signed `freeStartCompute`): the same on a free environment
//!   (a paid one answers 500 "This env does not support free jobs"); errors as a JSON string.
//! - `GET /api/services/compute?consumerAddress[&jobId]` → `[ComputeJob]` of that consumer.
//! - `PUT /api/services/compute?consumerAddress&signature&nonce&jobId` (command `stopCompute`).
//! - `GET /api/services/computeResult?consumerAddress&jobId&index&nonce&signature` (command
//!   `getComputeResult`): index 0 `algorithm.log`, 1 `outputs.tar`, as the engine numbers them.
//! - `GET /api/services/computeStreamableLogs?consumerAddress&jobId&nonce&signature` (command
//!   `getComputeStreamableLogs`): a running job's log as a text stream until it ends ([`logs`]).
//!
//! Checks ([`checks`]): signature and nonce; both DIDs indexed; each dataset service is a
//! `compute` service; the algorithm is an algorithm trusted by every dataset (by DID with
//! matching `filesChecksum` and `containerSectionChecksum`, by publisher, or `allowRawAlgorithm`);
//! each `transferTxId` is a successful `startOrder` for this consumer (or made out to this node, as
//! Ocean Node v3 and ocean.js order, and paid by this consumer), datatoken and service index
//! carrying this node's provider fee; only a job's owner sees, stops or reads it. The node then
//! decrypts both assets' files, fetches them into its private `inputs/` folder and submits the job:
//! datasets read-only at `/data/inputs/<did>/<file index>`, the algorithm with its DDO container.
//! Consumers get only what the engine produced (`algorithm.log`, `outputs.tar`).

mod checks;
mod logs;
mod paid;
mod routes;

pub use routes::{routes, settle_unclaimed};
