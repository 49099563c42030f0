//! The persistent journal: one folder per job under `<engine dir>/jobs/<id>/`, its state in
//! `job.json`, always replaced atomically (write a temporary file, fsync, rename, fsync the
//! folder), so a crash leaves either the old or the new state, never half of one.
//!
//! A record names the process that runs the job (pid + kernel start time, so a reused pid is
//! not mistaken for it). Whoever opens the journal and finds a running job whose runner is gone
//! ends it as failed, with its log.

use crate::{C2dError, JobSpec, RemoteJob, Result, Status};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// One result file of a finished job, shaped like Ocean Node's `results[]` entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ResultFile {
    pub filename: String,
    pub filesize: u64,
    /// `algorithmLog` or `output`.
    #[serde(rename = "type")]
    pub kind: String,
    pub index: usize,
}

/// Why a job failed, in a form a program can test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FailKind {
    /// The algorithm exited with a non-zero code or was killed by a signal.
    Exit,
    /// The wall-time limit was reached; the sandbox was killed.
    Timeout,
    /// The memory limit was hit.
    Memory,
    /// The process limit was hit.
    Processes,
    /// The outputs grew past the limit; the sandbox was killed.
    OutputSize,
    /// Stopped on request.
    Stopped,
    /// The process running the job died; the job cannot have finished.
    RunnerDied,
    /// The dataset or algorithm could not be put in place.
    Provisioning,
    /// bubblewrap could not start the sandbox.
    Sandbox,
    /// A remote node reported a failure status.
    Remote,
}

/// A failure: kind plus one line of explanation (also appended to the job's log).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Failure {
    pub kind: FailKind,
    pub message: String,
}

/// The process that runs a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Runner {
    pub pid: u32,
    /// Start time of the process in clock ticks since boot (`/proc/<pid>/stat` field 22).
    pub start_time: u64,
}

impl Runner {
    /// This process.
    pub fn current() -> Runner {
        let pid = std::process::id();
        Runner { pid, start_time: proc_start_time(pid).unwrap_or(0) }
    }

    /// Whether that very process still runs.
    pub fn alive(&self) -> bool {
        proc_start_time(self.pid).is_some_and(|t| t == self.start_time)
    }
}

/// Start time of a live process, `None` if there is none with that pid.
pub fn proc_start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 1..];
    // After the command: state is field 3; start time is field 22.
    let state = after.split_whitespace().next()?;
    if state == "Z" || state == "X" {
        return None;
    }
    after.split_whitespace().nth(19)?.parse().ok()
}

/// The journaled state of one job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobRecord {
    pub job_id: String,
    pub status: Status,
    pub status_text: String,
    /// Unix seconds.
    pub created: f64,
    #[serde(default)]
    pub started: Option<f64>,
    #[serde(default)]
    pub finished: Option<f64>,
    pub environment: String,
    pub spec: JobSpec,
    #[serde(default)]
    pub results: Vec<ResultFile>,
    #[serde(default)]
    pub failure: Option<Failure>,
    #[serde(default)]
    pub exit_code: Option<i32>,
    #[serde(default)]
    pub runner: Option<Runner>,
    /// Pid of the bubblewrap process (its process group id too).
    #[serde(default)]
    pub sandbox_pid: Option<u32>,
    /// How each limit is enforced for this job, one line each.
    #[serde(default)]
    pub limits: Vec<String>,
    /// Set for a job running on a remote node (see [`crate::remote`]); `None` for local jobs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote: Option<RemoteJob>,
}

impl JobRecord {
    pub fn set_status(&mut self, s: Status) {
        self.status = s;
        self.status_text = s.text().to_string();
    }

    /// Take a remote node's report: status, its wording, results, end time. A failure status
    /// gets a [`Failure`] naming the node's words. Returns whether anything changed.
    pub fn apply_remote(&mut self, st: &crate::RemoteState) -> bool {
        // A report older than what is journaled never takes an ended job back.
        if self.status.is_terminal() {
            return false;
        }
        let before = (self.status, self.status_text.clone(), self.results.clone(), self.finished);
        self.status = st.status;
        self.status_text =
            if st.status_text.is_empty() { st.status.text().to_string() } else { st.status_text.clone() };
        if !st.results.is_empty() {
            self.results = st.results.clone();
        }
        if st.status.is_terminal() {
            self.finished = self.finished.or(st.finished).or_else(|| Some(now()));
            if st.status.is_failure() && self.failure.is_none() {
                let message = format!("the node reports: {} ({})", self.status_text, st.status.code());
                self.failure = Some(Failure { kind: FailKind::Remote, message });
            }
        }
        before != (self.status, self.status_text.clone(), self.results.clone(), self.finished)
    }

    /// Seconds from start (or creation) to the end (or now).
    pub fn elapsed(&self) -> f64 {
        let from = self.started.unwrap_or(self.created);
        (self.finished.unwrap_or_else(now) - from).max(0.0)
    }
}

/// Unix time in seconds.
pub fn now() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

/// The journal folder.
#[derive(Debug, Clone)]
pub struct Journal {
    root: PathBuf,
}

impl Journal {
    /// Open (creating) the journal under `root/jobs`.
    pub fn open(root: &Path) -> Result<Journal> {
        let jobs = root.join("jobs");
        std::fs::create_dir_all(&jobs).map_err(|e| C2dError::io(format!("creating {}", jobs.display()), e))?;
        Ok(Journal { root: root.to_path_buf() })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The folder of one job.
    pub fn job_dir(&self, id: &str) -> PathBuf {
        self.root.join("jobs").join(id)
    }

    /// Read one job's record.
    pub fn load(&self, id: &str) -> Result<JobRecord> {
        let path = self.job_dir(id).join("job.json");
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(C2dError::UnknownJob(id.to_string())),
            Err(e) => return Err(C2dError::io(format!("reading {}", path.display()), e)),
        };
        serde_json::from_str(&text).map_err(|e| C2dError::Journal { path, why: e.to_string() })
    }

    /// Replace one job's record atomically.
    pub fn save(&self, rec: &JobRecord) -> Result<()> {
        let dir = self.job_dir(&rec.job_id);
        let json =
            serde_json::to_vec_pretty(rec).map_err(|e| C2dError::Journal { path: dir.clone(), why: e.to_string() })?;
        write_atomic(&dir.join("job.json"), &json)
    }

    /// Ids of every journaled job (folders with a `job.json`).
    pub fn ids(&self) -> Result<Vec<String>> {
        let jobs = self.root.join("jobs");
        let rd = std::fs::read_dir(&jobs).map_err(|e| C2dError::io(format!("listing {}", jobs.display()), e))?;
        let mut ids: Vec<String> = rd
            .filter_map(|e| e.ok())
            .filter(|e| e.path().join("job.json").is_file())
            .filter_map(|e| e.file_name().to_str().map(str::to_string))
            .collect();
        ids.sort();
        Ok(ids)
    }

    /// Every readable record, oldest first (unreadable ones are skipped).
    pub fn list(&self) -> Result<Vec<JobRecord>> {
        let mut v: Vec<JobRecord> = self.ids()?.iter().filter_map(|id| self.load(id).ok()).collect();
        v.sort_by(|a, b| a.created.total_cmp(&b.created));
        Ok(v)
    }

    /// The full id for a unique prefix (at least 4 characters) or an exact id.
    pub fn resolve(&self, prefix: &str) -> Result<String> {
        let p = prefix.trim();
        if p.is_empty() || p.contains('/') || p.contains("..") {
            return Err(C2dError::UnknownJob(prefix.to_string()));
        }
        if self.job_dir(p).join("job.json").is_file() {
            return Ok(p.to_string());
        }
        if p.len() < 4 {
            return Err(C2dError::UnknownJob(prefix.to_string()));
        }
        let hits: Vec<String> = self.ids()?.into_iter().filter(|id| id.starts_with(p)).collect();
        match hits.len() {
            0 => Err(C2dError::UnknownJob(prefix.to_string())),
            1 => Ok(hits.into_iter().next().unwrap_or_default()),
            _ => Err(C2dError::AmbiguousJob(prefix.to_string())),
        }
    }
}

/// Write `bytes` to `path` so that readers see the old or the new content, never a mix.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(".{name}.{}.{}.tmp", std::process::id(), uuid::Uuid::new_v4().simple()));
    let io = |e| C2dError::io(format!("writing {}", path.display()), e);
    let mut f = std::fs::File::create(&tmp).map_err(io)?;
    f.write_all(bytes).and_then(|_| f.sync_all()).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io(e)
    })?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io(e)
    })?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AlgorithmSpec, DatasetInput};

    fn rec(id: &str, created: f64) -> JobRecord {
        JobRecord {
            job_id: id.into(),
            status: Status::JobQueued,
            status_text: Status::JobQueued.text().into(),
            created,
            started: None,
            finished: None,
            environment: "local".into(),
            spec: JobSpec::new(vec![DatasetInput::path("/d")], AlgorithmSpec::path("/a.py")),
            results: vec![],
            failure: None,
            exit_code: None,
            runner: Some(Runner::current()),
            sandbox_pid: None,
            limits: vec![],
            remote: None,
        }
    }

    #[test]
    fn save_load_list_resolve() {
        let t = tempfile::tempdir().unwrap();
        let j = Journal::open(t.path()).unwrap();
        for (id, c) in [("abcd1111", 2.0), ("abcd2222", 1.0), ("ffff0000", 3.0)] {
            std::fs::create_dir_all(j.job_dir(id)).unwrap();
            j.save(&rec(id, c)).unwrap();
        }
        let mut r = j.load("abcd1111").unwrap();
        r.set_status(Status::JobFinished);
        j.save(&r).unwrap();
        assert_eq!(j.load("abcd1111").unwrap().status, Status::JobFinished);
        let order: Vec<String> = j.list().unwrap().into_iter().map(|r| r.job_id).collect();
        assert_eq!(order, ["abcd2222", "abcd1111", "ffff0000"]);
        assert_eq!(j.resolve("ffff").unwrap(), "ffff0000");
        assert!(matches!(j.resolve("abcd"), Err(C2dError::AmbiguousJob(_))));
        assert!(matches!(j.resolve("abc"), Err(C2dError::UnknownJob(_))));
        assert!(matches!(j.resolve("../x"), Err(C2dError::UnknownJob(_))));
        assert!(matches!(j.load("nope"), Err(C2dError::UnknownJob(_))));
        // No temporary files are left behind.
        let left: Vec<_> = std::fs::read_dir(j.job_dir("abcd1111")).unwrap().filter_map(|e| e.ok()).collect();
        assert_eq!(left.len(), 1, "{left:?}");
    }

    #[test]
    fn runner_identity() {
        let me = Runner::current();
        assert!(me.start_time > 0 && me.alive());
        assert!(!Runner { pid: me.pid, start_time: me.start_time + 1 }.alive());
        assert!(!Runner { pid: u32::MAX - 1, start_time: 1 }.alive());
    }

    #[test]
    fn corrupt_record_is_a_clear_error() {
        let t = tempfile::tempdir().unwrap();
        let j = Journal::open(t.path()).unwrap();
        std::fs::create_dir_all(j.job_dir("bad0")).unwrap();
        std::fs::write(j.job_dir("bad0").join("job.json"), "{").unwrap();
        let e = j.load("bad0").unwrap_err().to_string();
        assert!(e.contains("unreadable") && e.contains("bad0"), "{e}");
    }
}
