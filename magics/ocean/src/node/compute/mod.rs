//! Compute-to-data on the local node (Ocean Node v3 shapes, REFERENCE §4.7, §4.9), backed by a
//! [`kelp_c2d::Engine`] the node opens in its own folder (`<devnet>/node-c2d`, never the user's
//! `%c2d` jobs).
//!
//! Routes (errors: non-2xx, one plain-text line):
//! - `GET /api/services/computeEnvironments` — the engine's free environment, and with an Escrow
//!   on the chain its paid twin ([`paid`]: fees in OCEAN, locked and claimed through Escrow).
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

use crate::error::{OceanError, Result};
use alloy::primitives::Address;
use kelp_c2d::Engine;
use std::path::{Path, PathBuf};

/// The node's compute side: its engine, the prefix of its job ids and its inputs folder.
#[derive(Debug, Clone)]
pub struct ComputeNode {
    pub engine: Engine,
    /// `<engineHash>` of job ids: hex sha256 of the node address and the engine's folder.
    pub hash: String,
    /// Where fetched dataset and algorithm bytes wait for their job (removed when it ends).
    pub inputs: PathBuf,
    /// Held while the node sends one of its own transactions (Escrow locks and claims), so two
    /// never take the same account nonce.
    pub tx_lock: std::sync::Arc<tokio::sync::Mutex<()>>,
}

impl ComputeNode {
    /// Open (creating) the engine in `dir` and its inputs folder.
    pub fn open(dir: &Path, node: Address) -> Result<ComputeNode> {
        let engine = Engine::open(dir)
            .map_err(|e| OceanError::devnet(format!("the node's compute engine in {}: {e}", dir.display())))?;
        let inputs = dir.join("inputs");
        std::fs::create_dir_all(&inputs).map_err(|e| OceanError::io(&inputs, e))?;
        set_mode(&inputs, 0o711)?;
        sweep_inputs(&engine, &inputs);
        let hash = alloy::hex::encode(crate::ddo::sha256(format!("kelp-node{}{}", node, dir.display()).as_bytes()));
        Ok(ComputeNode { engine, hash, inputs, tx_lock: Default::default() })
    }

    /// The public job id of engine job `id`.
    pub fn public_id(&self, id: &str) -> String {
        format!("{}-{id}", self.hash)
    }

    /// The engine job id of a public job id (`None` if not one of this engine's).
    pub fn engine_id<'a>(&self, public: &'a str) -> Option<&'a str> {
        let (hash, id) = public.rsplit_once('-')?;
        (hash == self.hash && !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric())).then_some(id)
    }
}

/// Remove the fetched inputs no unfinished job uses (left by a node that stopped while its jobs
/// ran; jobs still queued are run again by the engine and keep theirs).
fn sweep_inputs(engine: &Engine, inputs: &Path) {
    let in_use: Vec<PathBuf> = engine
        .list()
        .unwrap_or_default()
        .iter()
        .filter(|r| !r.status.is_terminal())
        .flat_map(|r| r.spec.datasets.iter().filter_map(|d| d.path.parent().map(Path::to_path_buf)))
        .collect();
    for entry in std::fs::read_dir(inputs).into_iter().flatten().flatten() {
        let p = entry.path();
        if !in_use.contains(&p) {
            let _ = std::fs::remove_dir_all(&p);
        }
    }
}

pub(super) fn set_mode(p: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).map_err(|e| OceanError::io(p, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_ids_carry_the_engine_hash() {
        let dir = tempfile::tempdir().unwrap();
        let c = ComputeNode::open(dir.path(), Address::repeat_byte(1)).unwrap();
        assert_eq!(c.hash.len(), 64);
        let p = c.public_id("0123abcd");
        assert_eq!(c.engine_id(&p), Some("0123abcd"));
        assert_eq!(c.engine_id("0123abcd"), None);
        assert_eq!(c.engine_id(&format!("{}-0123abcd", "f".repeat(64))), None);
        assert_eq!(c.engine_id(&format!("{}-../x", c.hash)), None);
        // Inputs of no unfinished job are removed when the node opens its engine again.
        let left = c.inputs.join("0123");
        std::fs::create_dir_all(left.join("dataset0")).unwrap();
        ComputeNode::open(dir.path(), Address::repeat_byte(1)).unwrap();
        assert!(!left.exists());
    }
}
