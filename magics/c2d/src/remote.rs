//! The remote-compute seam: jobs that run on someone else's compute node (an Ocean Node) instead
//! of the local sandbox. kelp-c2d owns the job's life on this side — the journal record, polling,
//! the live display, downloading and unpacking results — and a [`RemoteCompute`] (kelp-ocean's
//! Ocean client) does the talking: ordering, starting, status, result bytes, stop.
//!
//! A remote job is journaled like a local one (`jobs/<id>/job.json`), with a [`RemoteJob`]
//! handle in [`crate::JobRecord::remote`]: enough to find the job again after a kernel restart
//! (node URL, the node's job id, the consumer address, and how to sign as that consumer).
//! Its results are downloaded into `jobs/<id>/results/` (the same place local jobs keep theirs).

use crate::{Resources, Result, ResultFile, Status};
use async_trait::async_trait;
use kelp_magic::MagicContext;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::path::Path;

/// How to reach and sign for the remote side; plain data the user gave (`--network`,
/// `--account`, `--signer`), kept with the job so later calls sign as the same consumer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RemoteOptions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<usize>,
    /// `local` or `browser`; `None` = the backend's default choice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signer: Option<String>,
}

/// What `%c2d start` asks of a remote node.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteRequest {
    /// Dataset sources as the user named them (e.g. `did:op:…`).
    pub datasets: Vec<String>,
    pub algorithm: String,
    /// Ocean's `algocustomdata` (the algorithm reads it as `/data/inputs/algoCustomData.json`).
    pub params: Map<String, Value>,
    /// Compute environment id; the node's first one when `None`.
    pub environment: Option<String>,
    /// Resources, only when the user gave them (the node's minimums otherwise).
    pub resources: Option<Resources>,
    /// Maximum job duration in seconds.
    pub timeout_secs: u64,
    pub options: RemoteOptions,
}

/// The journaled handle of a job on a remote node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RemoteJob {
    /// Which [`RemoteCompute`] owns it (its [`RemoteCompute::name`]).
    pub backend: String,
    /// The node's job id (opaque).
    pub job_id: String,
    pub node_url: String,
    /// The consumer address that started the job (and signs for its results).
    pub owner: String,
    pub datasets: Vec<String>,
    pub algorithm: String,
    /// The compute environment the node runs it in.
    pub environment: String,
    #[serde(default)]
    pub options: RemoteOptions,
    /// Backend details worth keeping (order transactions, datatokens, chain id…).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub details: Map<String, Value>,
}

/// A started remote job: the handle, plus what the journal shows for it.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteStarted {
    pub job: RemoteJob,
    /// The algorithm's container metadata, if the source carried it (for the record).
    pub container: Option<crate::Container>,
    pub state: RemoteState,
}

/// A remote job's state as the node reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteState {
    pub status: Status,
    /// The node's own wording.
    pub status_text: String,
    /// Unix seconds, when the node says it ended.
    pub finished: Option<f64>,
    pub results: Vec<ResultFile>,
}

/// The compute environments of the node a network's jobs run on (`%c2d envs`).
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteEnvironments {
    /// The network they were listed for (`devnet`, a name, an RPC URL).
    pub network: String,
    pub node_url: String,
    /// The node's `computeEnvironments` entries as it sent them.
    pub environments: Vec<Value>,
}

/// A compute node reached over the network. Implementations turn their failures into
/// [`crate::C2dError::Remote`] with one line saying what was wrong and what to do.
#[async_trait]
pub trait RemoteCompute: Send + Sync {
    /// Short name (`ocean`), journaled in [`RemoteJob::backend`].
    fn name(&self) -> &'static str;
    /// Whether a dataset or algorithm source is for this backend (e.g. `did:op:…`).
    fn accepts(&self, source: &str) -> bool;
    /// Order what is needed and start the job. `step` names each stage for the progress display.
    async fn start(
        &self,
        req: &RemoteRequest,
        ctx: &MagicContext,
        step: &mut (dyn for<'s> FnMut(&'s str) + Send),
    ) -> Result<RemoteStarted>;
    /// The job's state now (no signature needed; called by background pollers).
    async fn status(&self, job: &RemoteJob) -> Result<RemoteState>;
    /// Download result `index` (as listed in [`RemoteState::results`]) to `dest`; returns its size.
    async fn fetch(&self, job: &RemoteJob, index: usize, dest: &Path, ctx: &MagicContext) -> Result<u64>;
    /// Ask the node to stop the job.
    async fn stop(&self, job: &RemoteJob, ctx: &MagicContext) -> Result<()>;
    /// The environments of `network`'s node (`None`: the session's default network). `Ok(None)`
    /// when there is nothing to ask without side effects (e.g. the default devnet is not running
    /// and `network` was not given); a node that does not answer is an error.
    async fn environments(&self, network: Option<&str>, ctx: &MagicContext) -> Result<Option<RemoteEnvironments>> {
        let _ = (network, ctx);
        Ok(None)
    }
    /// Follow the job's algorithm log live: `out` gets each piece as the node streams it, until
    /// the node ends the stream (the job ended). `Ok(false)`: this node does not stream logs for
    /// the job (the caller then shows status changes and the final log).
    async fn follow_log(
        &self,
        job: &RemoteJob,
        ctx: &MagicContext,
        out: &mut (dyn for<'s> FnMut(&'s str) + Send),
    ) -> Result<bool> {
        let _ = (job, ctx, out);
        Ok(false)
    }
}
