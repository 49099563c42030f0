//! Compute-to-data on the local node (Ocean Node v3 shapes, REFERENCE §4.7, §4.9), backed by a
//! [`kelp_c2d::Engine`] the node opens in its own folder (`<devnet>/node-c2d`, never the user's
//! `%c2d` jobs).
//!
//! The engine side only: [`ComputeNode`] (the engine, its job-id prefix, its inputs folder).
//! The compute routes are [`crate::compute_api`]'s.

use crate::error::{NodeError, Result};
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
            .map_err(|e| NodeError::setup(format!("the node's compute engine in {}: {e}", dir.display())))?;
        let inputs = dir.join("inputs");
        std::fs::create_dir_all(&inputs).map_err(|e| NodeError::io(&inputs, e))?;
        set_mode(&inputs, 0o711)?;
        sweep_inputs(&engine, &inputs);
        let hash =
            alloy::hex::encode(kelp_ocean_wire::ddo::sha256(format!("kelp-node{}{}", node, dir.display()).as_bytes()));
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

pub(crate) fn set_mode(p: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).map_err(|e| NodeError::io(p, e))
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
