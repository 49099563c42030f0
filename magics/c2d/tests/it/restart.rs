//! A restart loses no job: a job whose runner process is killed is found by the next engine
//! and ends as failed with its log; a job that was still queued is run again.

use crate::common::*;
use kelp_c2d::journal::Journal;
use kelp_c2d::{AlgorithmSpec, DatasetInput, Engine, EngineConfig, FailKind, JobSpec, Status};
use std::time::{Duration, Instant};

const ENV: &str = "KELP_C2D_TEST_RUNNER_DIR";

/// Runs only as the child of the test below: submits two jobs to a one-slot engine and waits.
#[test]
#[ignore = "child process of killed_runner_fails_its_job_and_queued_jobs_run_again"]
fn runner_child() {
    let Ok(dir) = std::env::var(ENV) else { return };
    let dir = std::path::PathBuf::from(dir);
    let engine = Engine::open_with(dir.join("c2d"), EngineConfig { max_jobs: 1, ..Default::default() }).unwrap();
    let data = dir.join("data.csv");
    let mut slow = JobSpec::new(vec![DatasetInput::path(&data)], AlgorithmSpec::path(dir.join("slow.sh")));
    slow.timeout_secs = 300;
    let mut quick = JobSpec::new(vec![DatasetInput::path(&data)], AlgorithmSpec::path(dir.join("quick.py")));
    quick.timeout_secs = 30;
    let a = engine.submit(slow).unwrap();
    let b = engine.submit(quick).unwrap();
    std::fs::write(dir.join("ids.tmp"), format!("{a}\n{b}\n")).unwrap();
    std::fs::rename(dir.join("ids.tmp"), dir.join("ids")).unwrap();
    std::thread::sleep(Duration::from_secs(300));
}

#[test]
fn killed_runner_fails_its_job_and_queued_jobs_run_again() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    std::fs::write(dir.join("data.csv"), "1\n2\n").unwrap();
    std::fs::write(dir.join("slow.sh"), "echo slow job running\nsleep 300\n").unwrap();
    std::fs::write(
        dir.join("quick.py"),
        "import json, os\nd = json.loads(os.environ['DIDS'])[0]\nn = sum(int(l) for l in open(f'/data/inputs/{d}/0'))\nopen('/data/outputs/sum.txt', 'w').write(str(n))\n",
    )
    .unwrap();
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["restart::runner_child", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
        .env(ENV, dir)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while !dir.join("ids").exists() {
        assert!(start.elapsed() < Duration::from_secs(30), "the runner child did not submit");
        std::thread::sleep(SLEEP);
    }
    let ids = std::fs::read_to_string(dir.join("ids")).unwrap();
    let (a, b) = ids.split_once('\n').map(|(a, b)| (a.to_string(), b.trim().to_string())).unwrap();
    let journal = Journal::open(&dir.join("c2d")).unwrap();
    let sandbox = loop {
        let rec = journal.load(&a).unwrap();
        let log = std::fs::read_to_string(journal.job_dir(&a).join("algorithm.log")).unwrap_or_default();
        if rec.status == Status::RunningAlgorithm && log.contains("slow job running") {
            break rec.sandbox_pid.unwrap();
        }
        assert!(start.elapsed() < Duration::from_secs(30), "job never ran: {rec:?}");
        std::thread::sleep(SLEEP);
    };
    assert_eq!(journal.load(&b).unwrap().status, Status::JobQueued);
    // An engine opened while the runner lives leaves its jobs alone.
    let other = Engine::open(dir.join("c2d")).unwrap();
    assert_eq!(other.record(&a).unwrap().status, Status::RunningAlgorithm);
    drop(other);

    child.kill().unwrap();
    child.wait().unwrap();
    let t2 = Instant::now();
    while alive(sandbox) && t2.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(SLEEP);
    }
    assert!(!alive(sandbox), "the sandbox outlived its runner");

    let engine = Engine::open(dir.join("c2d")).unwrap();
    // The dead job's pids cgroup (made when running as root) is gone too.
    let own = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    let leftovers: Vec<String> = own
        .lines()
        .filter_map(|l| l.splitn(3, ':').nth(2))
        .flat_map(|p| {
            ["/sys/fs/cgroup/pids", "/sys/fs/cgroup", "/sys/fs/cgroup/unified"].map(|b| format!("{b}{p}/kelp-c2d-{a}"))
        })
        .filter(|p| std::path::Path::new(p).exists())
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let rec = engine.record(&a).unwrap();
    assert_eq!(rec.status, Status::AlgorithmFailed, "{rec:?}");
    assert_eq!(rec.failure.as_ref().map(|f| f.kind), Some(FailKind::RunnerDied));
    let log = std::fs::read_to_string(engine.result_file(&a, 0).unwrap().1).unwrap();
    assert!(log.contains("slow job running") && log.contains("[kelp-c2d] the process running this job"), "{log}");

    assert_eq!(kelp_c2d::wait_for_local_jobs(Duration::from_secs(30)), 0, "the taken-over job ends in this process");
    assert_eq!(kelp_c2d::local_jobs(), 0);
    let rec = engine.wait(&b, Duration::from_secs(30)).unwrap();
    assert_eq!(rec.status, Status::JobFinished, "{rec:?}");
    let files = untar(&engine.result_file(&b, 1).unwrap().1);
    assert_eq!(files, vec![("sum.txt".to_string(), b"3".to_vec())]);
}
