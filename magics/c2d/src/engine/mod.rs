//! The local C2D engine: submits jobs to the journal, runs each in its own thread inside the
//! bubblewrap sandbox, collects `outputs.tar` + `algorithm.log`, and answers status, results,
//! stop and the compute environments in Ocean Node's shapes.
//!
//! One engine folder (`$KELP_HOME/c2d`) may be opened by several processes (the kernel and a
//! `kelp c2d` shell command). Each job is run by the process that submitted it; others read its
//! journal, may ask it to stop (a `stop` file in the job folder), and end it as failed if that
//! process is gone (see [`crate::journal`]). Queued jobs whose process is gone are run again.

mod count;
mod files;
mod remote;
mod slots;

use crate::journal::{FailKind, Failure, JobRecord, Journal, ResultFile, Runner, now};
use crate::ocean::{ComputeEnvironment, ComputeJob, EnvResource, FreeTier, Platform};
pub use crate::safefs::read_from;
use crate::sandbox::{self, Ending, Plan};
use crate::{C2dError, JobSpec, Result, Status};
use count::local_jobs_add;
pub use count::{local_jobs, wait_for_local_jobs};
use files::{append_note, classify_exit, collect_results, live_log, provision, shown_source};
use slots::Slots;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Id of the one local environment.
pub const LOCAL_ENV: &str = "kelp-local-bwrap";

/// Engine settings.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Jobs running at once; more wait as status 1.
    pub max_jobs: usize,
    /// Longest wall time a job may ask for (seconds).
    pub max_job_duration: u64,
    /// Largest `disk` (outputs) a job may ask for (bytes).
    pub max_disk: u64,
    /// As root, cap processes with a pids cgroup when one can be made (else, and when false,
    /// the algorithm runs as uid 65534 under `RLIMIT_NPROC`).
    pub use_cgroups: bool,
}

impl Default for EngineConfig {
    fn default() -> Self {
        let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        EngineConfig { max_jobs: cpus.max(1), max_job_duration: 24 * 3600, max_disk: 10 << 30, use_cgroups: true }
    }
}

struct JobCtl {
    stop: AtomicBool,
}

struct Inner {
    journal: Journal,
    config: EngineConfig,
    me: Runner,
    jobs: Mutex<HashMap<String, Arc<JobCtl>>>,
    slots: Slots,
}

/// The local compute engine. Cheap to clone (shared state).
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("dir", &self.inner.journal.root()).finish()
    }
}

fn mem_total() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map(|kb| kb * 1024)
        .unwrap_or(1 << 30)
}

fn sanitize_id(s: &str) -> String {
    safe_component(s, "._-:", "dataset")
}

/// `s` as one file name: characters outside ASCII alphanumerics and `keep` become `_`, no
/// leading dot; `fallback` when nothing is left.
pub(crate) fn safe_component(s: &str, keep: &str, fallback: &str) -> String {
    let t: String = s.chars().map(|c| if c.is_ascii_alphanumeric() || keep.contains(c) { c } else { '_' }).collect();
    let t = t.trim_start_matches('.').to_string();
    if t.is_empty() { fallback.into() } else { t }
}

impl Engine {
    /// Open (creating) the engine folder with default settings, and recover the journal.
    pub fn open(dir: impl AsRef<Path>) -> Result<Engine> {
        Self::open_with(dir, EngineConfig::default())
    }

    /// Open with explicit settings.
    pub fn open_with(dir: impl AsRef<Path>, config: EngineConfig) -> Result<Engine> {
        let journal = Journal::open(dir.as_ref())?;
        let e = Engine {
            inner: Arc::new(Inner {
                journal,
                config,
                me: Runner::current(),
                jobs: Mutex::new(HashMap::new()),
                slots: Slots::default(),
            }),
        };
        e.recover()?;
        Ok(e)
    }

    /// The engine folder.
    pub fn dir(&self) -> &Path {
        self.inner.journal.root()
    }

    /// End the jobs of processes that are gone: running ones as failed (with their log),
    /// queued ones are started again here.
    fn recover(&self) -> Result<()> {
        // One process recovers at a time, so an orphaned queued job is taken over only once.
        let lock_path = self.dir().join(".recover.lock");
        let lock = std::fs::File::create(&lock_path)
            .map_err(|e| C2dError::io(format!("opening {}", lock_path.display()), e))?;
        lock.lock().map_err(|e| C2dError::io(format!("locking {}", lock_path.display()), e))?;
        for mut rec in self.inner.journal.list()? {
            // Remote jobs run elsewhere: the %c2d magic polls them.
            if rec.status.is_terminal() || rec.remote.is_some() {
                continue;
            }
            let owner_alive = rec.runner.is_some_and(|r| r.alive());
            if owner_alive {
                continue;
            }
            if rec.status == Status::JobQueued {
                rec.runner = Some(self.inner.me);
                self.inner.journal.save(&rec)?;
                self.launch(rec.job_id.clone());
                continue;
            }
            let pid = rec.runner.map(|r| r.pid).unwrap_or(0);
            let dir = self.inner.journal.job_dir(&rec.job_id);
            // bubblewrap dies with its runner (--die-with-parent); should it linger, it is killed
            // only if that pid is still this job's bubblewrap (its command line names the job folder).
            if let Some(sb) = rec.sandbox_pid {
                let cmdline = std::fs::read(format!("/proc/{sb}/cmdline")).unwrap_or_default();
                let needle = dir.display().to_string();
                if String::from_utf8_lossy(&cmdline).contains(&needle) {
                    let _ = std::process::Command::new("/bin/kill")
                        .args(["-KILL", "--", &format!("-{sb}")])
                        .stderr(std::process::Stdio::null())
                        .status();
                }
            }
            sandbox::release_cgroup(&rec.job_id);
            let msg = format!(
                "the process running this job (pid {pid}) ended before the job did; the job cannot have finished"
            );
            self.finish(
                &mut rec,
                &dir,
                Status::AlgorithmFailed,
                Some(Failure { kind: FailKind::RunnerDied, message: msg }),
                None,
                true,
            );
        }
        Ok(())
    }

    /// The compute environments (one: the local bubblewrap sandbox), in Ocean Node's shape.
    pub fn environments(&self) -> Vec<ComputeEnvironment> {
        let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1) as f64;
        let gb = |b: u64| (b as f64 / 1e9 * 1000.0).round() / 1000.0;
        let ram = gb(mem_total());
        let disk = gb(self.inner.config.max_disk);
        let running = self.inner.slots.running();
        let res = |id: &str, total: f64| EnvResource {
            id: id.into(),
            total,
            max: total,
            min: if id == "cpu" { 1.0 } else { 0.0 },
            in_use: 0.0,
        };
        let resources = vec![res("cpu", cpus), res("ram", ram), res("disk", disk)];
        vec![ComputeEnvironment {
            id: LOCAL_ENV.into(),
            description:
                "local bubblewrap sandbox: no network, read-only inputs, limits on time, memory, processes and output"
                    .into(),
            consumer_address: String::new(),
            platform: Platform { architecture: std::env::consts::ARCH.into(), os: std::env::consts::OS.into() },
            fees: serde_json::Map::new(),
            storage_expiry: 7 * 24 * 3600,
            max_job_duration: self.inner.config.max_job_duration,
            min_job_duration: 1,
            free: FreeTier {
                max_job_duration: self.inner.config.max_job_duration,
                min_job_duration: 1,
                max_jobs: self.inner.config.max_jobs,
                resources: resources.clone(),
            },
            resources,
            running_jobs: running,
            running_free_jobs: running,
        }]
    }

    /// Check a spec against the environment and the file system (no side effects).
    pub fn validate(&self, spec: &JobSpec) -> Result<()> {
        let env_id = spec.environment.clone().unwrap_or_else(|| LOCAL_ENV.into());
        let env = self
            .environments()
            .into_iter()
            .find(|e| e.id == env_id)
            .ok_or_else(|| C2dError::UnknownEnvironment(env_id.clone()))?;
        if spec.datasets.is_empty() {
            return Err(C2dError::NoDataset);
        }
        for d in &spec.datasets {
            if !d.path.exists() {
                return Err(C2dError::DatasetMissing(d.path.clone()));
            }
        }
        if !spec.algorithm.path.is_file() {
            return Err(C2dError::AlgorithmMissing(spec.algorithm.path.clone()));
        }
        let over = |what, asked: String, max: String| C2dError::OverLimit { what, asked, max, env: env.id.clone() };
        let r = spec.resources;
        if let Some(max) = env.max_of("cpu").filter(|m| r.cpu as f64 > *m) {
            return Err(over("cpu", r.cpu.to_string(), max.to_string()));
        }
        if r.ram > mem_total() {
            return Err(over("ram", format!("{} bytes", r.ram), format!("{} bytes", mem_total())));
        }
        if r.disk > self.inner.config.max_disk {
            return Err(over("disk", format!("{} bytes", r.disk), format!("{} bytes", self.inner.config.max_disk)));
        }
        if spec.timeout_secs == 0 || spec.timeout_secs > env.max_job_duration {
            return Err(over("timeout", format!("{} s", spec.timeout_secs), format!("{} s", env.max_job_duration)));
        }
        shell_words::split(&spec.algorithm.container.entrypoint).ok().filter(|w| !w.is_empty()).ok_or_else(|| {
            C2dError::AlgorithmMissing(PathBuf::from(format!(
                "(bad entrypoint {:?})",
                spec.algorithm.container.entrypoint
            )))
        })?;
        sandbox::bwrap_path()?;
        Ok(())
    }

    /// Journal a job and start it (it waits as status 1 when all slots are busy). Returns its id.
    pub fn submit(&self, mut spec: JobSpec) -> Result<String> {
        self.validate(&spec)?;
        let mut seen = std::collections::HashSet::new();
        for (i, d) in spec.datasets.iter_mut().enumerate() {
            let base = if d.id.is_empty() {
                sanitize_id(
                    &d.path
                        .file_name()
                        .map(|n| n.to_string_lossy().to_string())
                        .unwrap_or_else(|| format!("dataset{i}")),
                )
            } else {
                sanitize_id(&d.id)
            };
            let mut id = base.clone();
            let mut n = 2;
            while !seen.insert(id.clone()) || id == "algoCustomData.json" {
                id = format!("{base}-{n}");
                n += 1;
            }
            d.id = id;
        }
        let id = uuid::Uuid::new_v4().simple().to_string();
        let dir = self.inner.journal.job_dir(&id);
        std::fs::create_dir_all(&dir).map_err(|e| C2dError::io(format!("creating {}", dir.display()), e))?;
        let rec = JobRecord {
            job_id: id.clone(),
            status: Status::JobQueued,
            status_text: Status::JobQueued.text().into(),
            created: now(),
            started: None,
            finished: None,
            environment: spec.environment.clone().unwrap_or_else(|| LOCAL_ENV.into()),
            spec,
            results: vec![],
            failure: None,
            exit_code: None,
            runner: Some(self.inner.me),
            sandbox_pid: None,
            limits: vec![],
            remote: None,
        };
        self.inner.journal.save(&rec)?;
        self.launch(id.clone());
        Ok(id)
    }

    fn launch(&self, id: String) {
        local_jobs_add(1);
        self.inner.slots.enqueue(&id);
        let ctl = Arc::new(JobCtl { stop: AtomicBool::new(false) });
        self.inner.jobs.lock().unwrap_or_else(|e| e.into_inner()).insert(id.clone(), ctl.clone());
        let me = self.clone();
        let spawned = std::thread::Builder::new().name(format!("c2d-{}", &id[..8.min(id.len())])).spawn({
            let id = id.clone();
            move || me.run_job(&id, &ctl)
        });
        if spawned.is_err() {
            local_jobs_add(-1);
            self.inner.slots.dequeue(&id);
        }
        if spawned.is_err()
            && let Ok(mut rec) = self.inner.journal.load(&id)
        {
            let dir = self.inner.journal.job_dir(&id);
            let f = Failure { kind: FailKind::Sandbox, message: "could not start a runner thread".into() };
            self.finish(&mut rec, &dir, Status::ContainerCreationFailed, Some(f), None, false);
        }
    }

    /// The full id for an id or a unique prefix of one.
    pub fn resolve_id(&self, prefix: &str) -> Result<String> {
        self.inner.journal.resolve(prefix)
    }

    /// A job's journaled state.
    pub fn record(&self, id: &str) -> Result<JobRecord> {
        let id = self.resolve_id(id)?;
        self.inner.journal.load(&id)
    }

    /// A job in Ocean Node's `compute` status shape.
    pub fn status(&self, id: &str) -> Result<ComputeJob> {
        Ok(ComputeJob::from(&self.record(id)?))
    }

    /// Every job, oldest first.
    pub fn list(&self) -> Result<Vec<JobRecord>> {
        self.inner.journal.list()
    }

    /// Jobs in Ocean Node's shape, for `GET compute?consumerAddress=…` (all when `owner` is
    /// `None`; owners compare case-insensitively, as addresses do).
    pub fn jobs(&self, owner: Option<&str>) -> Result<Vec<ComputeJob>> {
        let all = self.inner.journal.list()?;
        Ok(all
            .iter()
            .filter(|r| r.remote.is_none() && owner.is_none_or(|o| r.spec.owner.eq_ignore_ascii_case(o)))
            .map(ComputeJob::from)
            .collect())
    }

    /// The live log of a job (grows while it runs).
    pub fn log_path(&self, id: &str) -> Result<PathBuf> {
        let id = self.resolve_id(id)?;
        Ok(live_log(&self.inner.journal.job_dir(&id)))
    }

    /// Result `index` of a finished job: its description and the file holding it.
    pub fn result_file(&self, id: &str, index: usize) -> Result<(ResultFile, PathBuf)> {
        let rec = self.record(id)?;
        if !rec.status.is_terminal() {
            return Err(C2dError::NotFinished { id: rec.job_id, status: rec.status.to_string() });
        }
        let rf = rec.results.iter().find(|r| r.index == index).cloned().ok_or(C2dError::NoResult {
            id: rec.job_id.clone(),
            index,
            count: rec.results.len(),
        })?;
        let path = self.inner.journal.job_dir(&rec.job_id).join("results").join(&rf.filename);
        Ok((rf, path))
    }

    /// The bytes of result `index` of a finished job, read without following links (see
    /// [`crate::safefs`]); what a node serves for `computeResult`.
    pub fn read_result(&self, id: &str, index: usize) -> Result<(ResultFile, Vec<u8>)> {
        let (rf, path) = self.result_file(id, index)?;
        let max = self.inner.config.max_disk.saturating_add(2 << 20);
        let bytes = crate::safefs::read_file(&path, max)
            .map_err(|e| C2dError::io(format!("reading result {} of job {id}", rf.filename), e))?;
        Ok((rf, bytes))
    }

    /// Ask a job to stop. A queued or running job ends as failed (`stopped`); a finished job is
    /// left as it is. Returns the record as it is after the request.
    pub fn stop(&self, id: &str) -> Result<JobRecord> {
        let rec = self.record(id)?;
        if rec.status.is_terminal() {
            return Ok(rec);
        }
        let ctl = self.inner.jobs.lock().unwrap_or_else(|e| e.into_inner()).get(&rec.job_id).cloned();
        match ctl {
            Some(c) => c.stop.store(true, Ordering::SeqCst),
            None => {
                let marker = self.inner.journal.job_dir(&rec.job_id).join("stop");
                std::fs::write(&marker, b"stop\n")
                    .map_err(|e| C2dError::io(format!("writing {}", marker.display()), e))?;
            }
        }
        self.inner.slots.wake();
        self.wait(&rec.job_id, Duration::from_secs(10))
    }

    /// Wait until a job ends or `timeout` passes; the record as it is then.
    pub fn wait(&self, id: &str, timeout: Duration) -> Result<JobRecord> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let rec = self.record(id)?;
            if rec.status.is_terminal() || std::time::Instant::now() >= deadline {
                return Ok(rec);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn save(&self, rec: &JobRecord) {
        // The journal is the only state; a failed write is reported in the job's log.
        if let Err(e) = self.inner.journal.save(rec) {
            let log = live_log(&self.inner.journal.job_dir(&rec.job_id));
            append_note(&log, &format!("could not journal the job state: {e}"));
        }
    }

    fn run_job(&self, id: &str, ctl: &JobCtl) {
        let dir = self.inner.journal.job_dir(id);
        let stop_marker = dir.join("stop");
        let stopped = || ctl.stop.load(Ordering::SeqCst) || stop_marker.exists();
        self.inner.slots.take(id, self.inner.config.max_jobs, &stopped);
        let result = self.inner.journal.load(id).map(|mut rec| self.run_record(&mut rec, &dir, &stopped));
        if let Err(e) = result {
            append_note(&live_log(&dir), &format!("the job could not be run: {e}"));
        }
        self.inner.slots.release();
        self.inner.jobs.lock().unwrap_or_else(|e| e.into_inner()).remove(id);
        local_jobs_add(-1);
    }

    fn run_record(&self, rec: &mut JobRecord, dir: &Path, stopped: &dyn Fn() -> bool) {
        if stopped() {
            let f = Failure { kind: FailKind::Stopped, message: "stopped on request before it started".into() };
            return self.finish(rec, dir, Status::AlgorithmFailed, Some(f), None, false);
        }
        rec.started = Some(now());
        rec.set_status(Status::ConfiguringVolumes);
        self.save(rec);
        let log = live_log(dir);
        if let Err((status, msg)) = provision(rec, dir) {
            let f = Failure { kind: FailKind::Provisioning, message: msg };
            return self.finish(rec, dir, status, Some(f), None, false);
        }
        rec.set_status(Status::Provisioning);
        self.save(rec);

        let spec = rec.spec.clone();
        let algo = "/data/transformations/algorithm";
        let argv: Vec<String> = shell_words::split(&spec.algorithm.container.entrypoint)
            .unwrap_or_default()
            .into_iter()
            .map(|w| w.replace("$ALGO", algo).replace("${ALGO}", algo))
            .collect();
        let dids: Vec<String> = spec.datasets.iter().map(|d| d.id.clone()).collect();
        let threads = spec.resources.cpu.to_string();
        let env = vec![
            ("PATH".to_string(), "/usr/local/bin:/usr/bin:/bin".to_string()),
            ("HOME".into(), "/tmp".into()),
            ("LANG".into(), "C.UTF-8".into()),
            ("PYTHONUNBUFFERED".into(), "1".into()),
            ("PYTHONDONTWRITEBYTECODE".into(), "1".into()),
            ("OPENBLAS_NUM_THREADS".into(), threads.clone()),
            ("OMP_NUM_THREADS".into(), threads),
            ("ALGO".into(), algo.into()),
            ("DIDS".into(), serde_json::to_string(&dids).unwrap_or_default()),
            ("TRANSFORMATION_DID".into(), spec.algorithm.source.as_deref().map(shown_source).unwrap_or_default()),
        ];
        let plan = Plan {
            job_dir: dir.to_path_buf(),
            datasets: spec.datasets.iter().map(|d| (d.id.clone(), d.path.clone())).collect(),
            argv,
            env,
            resources: spec.resources,
            timeout: Duration::from_secs(spec.timeout_secs),
            use_cgroups: self.inner.config.use_cgroups,
        };
        let running = match sandbox::spawn(&plan, &rec.job_id, &log) {
            Ok(r) => r,
            Err(e) => {
                let f = Failure { kind: FailKind::Sandbox, message: e.to_string() };
                return self.finish(rec, dir, Status::ContainerCreationFailed, Some(f), None, false);
            }
        };
        rec.limits = running.limits.clone();
        rec.sandbox_pid = Some(running.pid);
        rec.set_status(Status::RunningAlgorithm);
        self.save(rec);
        let watch = [dir.join("outputs"), dir.join("logs")];
        let (ending, hit_pids) = running.watch(plan.timeout, spec.resources.disk, &watch, &log, stopped);
        rec.sandbox_pid = None;
        let r = spec.resources;
        let (status, failure, code, tar) = match ending {
            Ending::Exited(0) => (Status::JobFinished, None, Some(0), true),
            Ending::Exited(code) => {
                let (st, f) = classify_exit(code, &log, hit_pids, &r);
                (st, Some(f), Some(code), st != Status::DiskQuotaExceeded)
            }
            Ending::Timeout => {
                let m = format!("killed: the wall-time limit of {} s was reached", spec.timeout_secs);
                (Status::AlgorithmFailed, Some(Failure { kind: FailKind::Timeout, message: m }), None, true)
            }
            Ending::OutputSize(n) => {
                let m = format!("killed: outputs reached {n} bytes, over the limit of {} bytes", r.disk);
                (Status::DiskQuotaExceeded, Some(Failure { kind: FailKind::OutputSize, message: m }), None, false)
            }
            Ending::Stopped => {
                let m = "killed: stopped on request".to_string();
                (Status::AlgorithmFailed, Some(Failure { kind: FailKind::Stopped, message: m }), None, true)
            }
        };
        self.finish(rec, dir, status, failure, code, tar);
    }

    /// Collect results and write the final state.
    fn finish(
        &self,
        rec: &mut JobRecord,
        dir: &Path,
        status: Status,
        failure: Option<Failure>,
        code: Option<i32>,
        tar: bool,
    ) {
        let log = live_log(dir);
        if let Some(f) = &failure {
            append_note(&log, &f.message);
        }
        rec.set_status(Status::FilteringResults);
        rec.failure = failure;
        rec.exit_code = code;
        let mut status = status;
        let max_log = rec.spec.resources.disk;
        match collect_results(dir, tar, max_log) {
            Ok(results) => rec.results = results,
            Err(msg) => {
                append_note(&log, &msg);
                if rec.failure.is_none() {
                    rec.failure = Some(Failure { kind: FailKind::Exit, message: msg });
                    status = Status::ResultsFetchFailed;
                }
                rec.results = collect_results(dir, false, max_log).unwrap_or_default();
            }
        }
        rec.set_status(status);
        rec.finished = Some(now());
        self.save(rec);
        let _ = std::fs::remove_file(dir.join("stop"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dataset_ids_are_safe_names() {
        assert_eq!(sanitize_id("train data.csv"), "train_data.csv");
        assert_eq!(sanitize_id("did:op:abc"), "did:op:abc");
        assert_eq!(sanitize_id("../x"), "_x");
        assert_eq!(sanitize_id("..."), "dataset");
    }
}
