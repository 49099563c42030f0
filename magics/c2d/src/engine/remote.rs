//! The engine's side of remote jobs: journaling them (they are never run here) and replacing
//! their records as the `%c2d` magic learns their state from the node.

use super::Engine;
use crate::journal::{JobRecord, now};
use crate::{C2dError, JobSpec, Result, Status};
use std::path::PathBuf;

impl Engine {
    /// Journal a job that runs on a remote node (it is never run here). Returns its local id.
    pub fn record_remote(&self, spec: JobSpec, started: &crate::RemoteStarted) -> Result<String> {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let dir = self.inner.journal.job_dir(&id);
        std::fs::create_dir_all(&dir).map_err(|e| C2dError::io(format!("creating {}", dir.display()), e))?;
        let mut rec = JobRecord {
            job_id: id.clone(),
            status: Status::JobStarted,
            status_text: String::new(),
            created: now(),
            started: Some(now()),
            finished: None,
            environment: started.job.environment.clone(),
            spec,
            results: vec![],
            failure: None,
            exit_code: None,
            runner: None,
            sandbox_pid: None,
            limits: vec![],
            remote: Some(started.job.clone()),
        };
        rec.apply_remote(&started.state);
        self.inner.journal.save(&rec)?;
        Ok(id)
    }

    /// Replace a job's record (remote jobs: the magic keeps their state current).
    pub fn save_record(&self, rec: &JobRecord) -> Result<()> {
        self.inner.journal.save(rec)
    }

    /// The folder a job keeps its files in (`results/`, `algorithm.log`).
    pub fn job_dir(&self, id: &str) -> Result<PathBuf> {
        Ok(self.inner.journal.job_dir(&self.resolve_id(id)?))
    }
}
