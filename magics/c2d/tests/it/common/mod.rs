//! Helpers shared by the sandbox tests: an engine in a temporary folder, scripts, waiting.

use kelp_c2d::{AlgorithmSpec, DatasetInput, Engine, JobRecord, JobSpec, Resources};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub struct Lab {
    pub dir: tempfile::TempDir,
    pub engine: Engine,
}

impl Lab {
    pub fn new() -> Lab {
        Self::with(kelp_c2d::EngineConfig::default())
    }

    pub fn with(config: kelp_c2d::EngineConfig) -> Lab {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::open_with(dir.path().join("c2d"), config).unwrap();
        Lab { dir, engine }
    }

    pub fn file(&self, name: &str, content: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, content).unwrap();
        p
    }

    /// A spec with one dataset file holding `data`, and the algorithm `name` holding `code`.
    pub fn spec(&self, algo_name: &str, code: &str, data: &str) -> JobSpec {
        let d = self.file("data.csv", data);
        let a = self.file(algo_name, code);
        let mut s = JobSpec::new(vec![DatasetInput::path(d)], AlgorithmSpec::path(a));
        s.timeout_secs = 30;
        s.resources = Resources { cpu: 1, ram: 512 << 20, disk: 64 << 20 };
        s
    }

    /// Submit and wait for the end (fails the test if it takes over a minute).
    pub fn run(&self, spec: JobSpec) -> JobRecord {
        let id = self.engine.submit(spec).expect("submit (is bubblewrap installed? run install/setup)");
        let rec = self.engine.wait(&id, Duration::from_secs(60)).unwrap();
        assert!(rec.status.is_terminal(), "job did not end: {rec:?}");
        rec
    }

    pub fn log(&self, rec: &JobRecord) -> String {
        let (_, p) = self.engine.result_file(&rec.job_id, 0).unwrap();
        std::fs::read_to_string(p).unwrap()
    }

    /// Files in outputs.tar: name → content.
    pub fn outputs(&self, rec: &JobRecord) -> Vec<(String, Vec<u8>)> {
        let (_, tar) = self.engine.result_file(&rec.job_id, 1).unwrap();
        untar(&tar)
    }
}

pub fn untar(tar: &Path) -> Vec<(String, Vec<u8>)> {
    let out = tempfile::tempdir().unwrap();
    let st = std::process::Command::new("tar").arg("-xf").arg(tar).arg("-C").arg(out.path()).status().unwrap();
    assert!(st.success());
    let mut files = vec![];
    let mut stack = vec![out.path().to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(out.path()).unwrap().display().to_string();
                files.push((rel, std::fs::read(&p).unwrap_or_default()));
            }
        }
    }
    files.sort();
    files
}

/// Whether any file under `dir` contains `needle`.
pub fn tree_contains(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    let mut hits = vec![];
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            let Ok(m) = p.symlink_metadata() else { continue };
            if m.is_dir() {
                stack.push(p);
            } else if m.is_file() {
                let b = std::fs::read(&p).unwrap_or_default();
                if b.windows(needle.len()).any(|w| w == needle) {
                    hits.push(p);
                }
            }
        }
    }
    hits
}

pub fn alive(pid: u32) -> bool {
    kelp_c2d::journal::proc_start_time(pid).is_some()
}

pub const SLEEP: Duration = Duration::from_millis(20);
