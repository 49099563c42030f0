//! Ocean Node's JSON shapes for compute (ocean-node `src/@types/C2D/C2D.ts`, `docs/API.md`):
//! what `GET /api/services/computeEnvironments` and `GET /api/services/compute` return. The
//! local Ocean node (kelp-ocean) serialises these as they are.

use crate::{JobRecord, ResultFile};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// `{architecture, os}` of an environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Platform {
    pub architecture: String,
    pub os: String,
}

/// One resource of an environment (`cpu`, `ram` and `disk`; ram and disk in GB as Ocean counts).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvResource {
    pub id: String,
    pub total: f64,
    pub max: f64,
    pub min: f64,
    pub in_use: f64,
}

/// The free tier of an environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FreeTier {
    pub max_job_duration: u64,
    pub min_job_duration: u64,
    pub max_jobs: usize,
    pub resources: Vec<EnvResource>,
}

/// An entry of `computeEnvironments`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ComputeEnvironment {
    pub id: String,
    pub description: String,
    pub consumer_address: String,
    pub platform: Platform,
    /// `{chainId: [{feeToken, prices:[{id, price}]}]}`; empty: the local engine is free.
    pub fees: Map<String, Value>,
    pub storage_expiry: u64,
    pub max_job_duration: u64,
    pub min_job_duration: u64,
    pub resources: Vec<EnvResource>,
    pub free: FreeTier,
    pub running_jobs: usize,
    pub running_free_jobs: usize,
}

impl ComputeEnvironment {
    /// The maximum of resource `id`, if listed.
    pub fn max_of(&self, id: &str) -> Option<f64> {
        self.resources.iter().find(|r| r.id == id).map(|r| r.max)
    }
}

/// A job as `GET /api/services/compute` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ComputeJob {
    pub owner: String,
    pub job_id: String,
    /// Unix seconds, as a string (Ocean's form).
    pub date_created: String,
    /// Unix seconds as a string, empty while running.
    pub date_finished: String,
    pub status: u16,
    pub status_text: String,
    pub results: Vec<ResultFile>,
    pub environment: String,
    pub resources: Value,
    pub is_free: bool,
    #[serde(rename = "inputDID")]
    pub input_did: Vec<String>,
    #[serde(rename = "algoDID")]
    pub algo_did: String,
    pub metadata: Map<String, Value>,
    pub expire_timestamp: u64,
}

impl From<&JobRecord> for ComputeJob {
    fn from(r: &JobRecord) -> Self {
        let storage_expiry = 7 * 24 * 3600;
        ComputeJob {
            owner: r.spec.owner.clone(),
            job_id: r.job_id.clone(),
            date_created: format!("{:.3}", r.created),
            date_finished: r.finished.map(|f| format!("{f:.3}")).unwrap_or_default(),
            status: r.status.code(),
            status_text: r.status_text.clone(),
            results: r.results.clone(),
            environment: r.environment.clone(),
            resources: r.spec.resources.to_ocean(),
            is_free: true,
            input_did: r.spec.datasets.iter().map(|d| d.source.clone().unwrap_or_else(|| d.id.clone())).collect(),
            algo_did: r.spec.algorithm.source.clone().unwrap_or_default(),
            metadata: r.spec.metadata.clone(),
            expire_timestamp: (r.finished.unwrap_or(r.created) as u64) + storage_expiry,
        }
    }
}
