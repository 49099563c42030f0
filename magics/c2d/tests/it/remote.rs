//! The journal and the `%c2d` verbs for remote jobs, through the [`RemoteCompute`] seam. The
//! backend here is `FakeNode`, a scripted stand-in that plays a node's answers in order (the real
//! Ocean node is exercised end to end by kelp-ocean's tests/compute_flow.rs on the devnet).

use async_trait::async_trait;
use kelp_c2d::{
    C2dError, C2dMagic, Container, Engine, RemoteCompute, RemoteJob, RemoteRequest, RemoteStarted, RemoteState,
    ResultFile, Status,
};
use kelp_magic::testing::Cell;
use kelp_magic::{Magic, MagicCall, MagicContext, MagicError, Output, SinkEvent};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Plays a node: each `status` call moves the job one step along `script`.
struct FakeNode {
    script: Vec<Status>,
    polls: AtomicUsize,
    stopped: Mutex<bool>,
    /// The node does not answer.
    down: std::sync::atomic::AtomicBool,
    requests: Mutex<Vec<RemoteRequest>>,
    outputs: std::path::PathBuf,
    /// What `computeEnvironments` answers (`None`: the node lists none).
    environments: Mutex<Option<Vec<serde_json::Value>>>,
}

impl FakeNode {
    fn new(script: Vec<Status>, outputs: &Path) -> Arc<FakeNode> {
        Arc::new(FakeNode {
            script,
            polls: AtomicUsize::new(0),
            stopped: Mutex::new(false),
            down: Default::default(),
            requests: Mutex::new(vec![]),
            outputs: outputs.to_path_buf(),
            environments: Mutex::new(None),
        })
    }
    fn results() -> Vec<ResultFile> {
        vec![
            ResultFile { filename: "algorithm.log".into(), filesize: 0, kind: "algorithmLog".into(), index: 0 },
            ResultFile { filename: "outputs.tar".into(), filesize: 0, kind: "output".into(), index: 1 },
        ]
    }
}

#[async_trait]
impl RemoteCompute for FakeNode {
    fn name(&self) -> &'static str {
        "fake"
    }
    fn accepts(&self, source: &str) -> bool {
        source.starts_with("did:op:")
    }
    async fn start(
        &self,
        req: &RemoteRequest,
        _ctx: &MagicContext,
        step: &mut (dyn for<'s> FnMut(&'s str) + Send),
    ) -> kelp_c2d::Result<RemoteStarted> {
        if req.algorithm.contains("untrusted") {
            return Err(C2dError::Remote("algorithm is not trusted by the dataset".into()));
        }
        step("ordering");
        self.requests.lock().unwrap().push(req.clone());
        let job = RemoteJob {
            backend: "fake".into(),
            job_id: "engine-0001".into(),
            node_url: "http://node.invalid".into(),
            owner: "0xabc".into(),
            datasets: req.datasets.clone(),
            algorithm: req.algorithm.clone(),
            environment: "env-1".into(),
            options: req.options.clone(),
            details: Default::default(),
        };
        let container =
            Container { entrypoint: "python $ALGO".into(), image: "py".into(), tag: "3".into(), checksum: None };
        let state =
            RemoteState { status: Status::JobStarted, status_text: "started".into(), finished: None, results: vec![] };
        Ok(RemoteStarted { job, container: Some(container), state })
    }
    async fn status(&self, _job: &RemoteJob) -> kelp_c2d::Result<RemoteState> {
        if self.down.load(Ordering::SeqCst) {
            return Err(C2dError::Remote("Ocean node http://node.invalid: not reachable".into()));
        }
        if *self.stopped.lock().unwrap() {
            return Ok(RemoteState {
                status: Status::AlgorithmFailed,
                status_text: "stopped".into(),
                finished: Some(1.0),
                results: vec![],
            });
        }
        let n = self.polls.fetch_add(1, Ordering::SeqCst).min(self.script.len() - 1);
        let status = self.script[n];
        let results = if status.is_terminal() { Self::results() } else { vec![] };
        Ok(RemoteState { status, status_text: String::new(), finished: None, results })
    }
    async fn fetch(&self, _job: &RemoteJob, index: usize, dest: &Path, _ctx: &MagicContext) -> kelp_c2d::Result<u64> {
        let src = self.outputs.join(if index == 0 { "algorithm.log" } else { "outputs.tar" });
        std::fs::copy(src, dest).map_err(|e| C2dError::io("copy", e))
    }
    async fn environments(
        &self,
        network: Option<&str>,
        _ctx: &MagicContext,
    ) -> kelp_c2d::Result<Option<kelp_c2d::RemoteEnvironments>> {
        Ok(self.environments.lock().unwrap().clone().map(|environments| kelp_c2d::RemoteEnvironments {
            network: network.unwrap_or("devnet").into(),
            node_url: "http://node.invalid".into(),
            environments,
        }))
    }
    async fn stop(&self, _job: &RemoteJob, _ctx: &MagicContext) -> kelp_c2d::Result<()> {
        *self.stopped.lock().unwrap() = true;
        Ok(())
    }
}

/// A notebook cell (kelp_magic::testing) beside the files `FakeNode` hands back.
struct Bench {
    cell: Cell,
}

impl Bench {
    fn new() -> Bench {
        let cell = Cell::new([]);
        // What the node would hand back: a log and outputs.tar holding model.json.
        let out = cell.dir().join("node");
        std::fs::create_dir_all(out.join("outputs")).unwrap();
        std::fs::write(out.join("outputs/model.json"), r#"{"w":[1.5]}"#).unwrap();
        std::fs::write(out.join("algorithm.log"), "training\ndone\n").unwrap();
        let st = std::process::Command::new("tar")
            .args(["-cf", "outputs.tar", "-C", "outputs", "model.json"])
            .current_dir(&out)
            .status()
            .unwrap();
        assert!(st.success());
        Bench { cell }
    }
    fn node(&self, script: Vec<Status>) -> Arc<FakeNode> {
        FakeNode::new(script, &self.cell.dir().join("node"))
    }
    /// `line` run by `m` (a `%c2d` wired to this test's fake node) in the cell.
    async fn run(&self, m: &C2dMagic, line: &str) -> Result<Output, MagicError> {
        m.run(MagicCall::from_line(line, None)?, &self.cell.ctx).await
    }
    fn journal(&self, id: &str) -> serde_json::Value {
        let p = self.cell.home().join("c2d/jobs").join(id).join("job.json");
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
    }
}

const DS: &str = "did:op:1111111111111111111111111111111111111111111111111111111111111111";
const AL: &str = "did:op:2222222222222222222222222222222222222222222222222222222222222222";

#[tokio::test]
async fn remote_job_is_journaled_and_survives_a_restart() {
    let c = Bench::new();
    let running = vec![Status::RunningAlgorithm];
    let node = c.node(running);
    let m = C2dMagic::new().with_remote(node.clone());
    let out = c
        .run(&m, &format!("c2d start --dataset {DS} --algorithm {AL} --param epochs=3 --account 2 --timeout 5m"))
        .await
        .unwrap();
    let j = out.json().unwrap();
    let id = j["jobId"].as_str().unwrap().to_string();
    assert_eq!(j["remote"]["jobId"], "engine-0001");
    assert_eq!(j["remote"]["nodeUrl"], "http://node.invalid");
    // How to follow it is the result's first line; nothing is printed before the result (so
    // `kelp c2d start --json` prints JSON only on stdout).
    let first = out.plain().unwrap().lines().next().unwrap().to_string();
    assert_eq!(
        first,
        format!(
            "started job {id} on http://node.invalid; follow it with %c2d status {} (results: %c2d result {})",
            &id[..8],
            &id[..8]
        )
    );
    assert_eq!(c.cell.sink.stdout(), "");
    assert_eq!(j["remote"]["options"]["account"], 2);
    assert_eq!(j["datasets"][0]["source"], DS);
    assert_eq!(j["algorithm"]["container"]["entrypoint"], "python $ALGO");
    // The request carried the parameters and the timeout; resources were not given.
    let req = node.requests.lock().unwrap()[0].clone();
    assert_eq!((req.params["epochs"].clone(), req.timeout_secs, req.resources), (serde_json::json!(3), 300, None));
    // Journaled on disk with its handle.
    assert_eq!(c.journal(&id)["remote"]["jobId"], "engine-0001");
    // Status asks the node.
    let s = c.run(&m, &format!("c2d status {}", &id[..8])).await.unwrap();
    assert_eq!(s.json().unwrap()["status"], 40);
    // Result before the end: a clear one-liner.
    let e = c.run(&m, &format!("c2d result {}", &id[..8])).await.unwrap_err().to_string();
    assert!(e.contains("still running") && !e.contains('\n'), "{e}");
    // Opening the engine folder (any process) leaves a running remote job alone.
    let engine = Engine::open(c.cell.dir().join("home/c2d")).unwrap();
    assert_eq!(engine.record(&id).unwrap().status, Status::RunningAlgorithm);
    assert!(engine.jobs(None).unwrap().is_empty(), "remote jobs are not the local node's jobs");
    drop(m);

    // "Kernel restart": a new magic, a node that has finished the job meanwhile.
    let node2 = c.node(vec![Status::JobFinished]);
    let m2 = C2dMagic::new().with_remote(node2.clone());
    let l = c.run(&m2, "c2d list").await.unwrap();
    let jobs = l.json().unwrap()["jobs"].as_array().unwrap().clone();
    assert_eq!(jobs.len(), 1);
    // The resumed poller (or the list) brought the end in; the journal has it.
    for _ in 0..50 {
        if c.journal(&id)["status"] == 70 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(c.journal(&id)["status"], 70);
    let r = c.run(&m2, &format!("c2d result {}", &id[..8])).await.unwrap();
    let rj = r.json().unwrap();
    let folder = std::path::PathBuf::from(rj["folder"].as_str().unwrap());
    assert_eq!(std::fs::read_to_string(folder.join("model.json")).unwrap(), r#"{"w":[1.5]}"#);
    assert_eq!(std::fs::read_to_string(folder.join("algorithm.log")).unwrap(), "training\ndone\n");
    assert_eq!(rj["files"], serde_json::json!(["algorithm.log", "model.json"]));
    // Logs come from the downloaded log; sizes were journaled.
    let lg = c.run(&m2, &format!("c2d logs {}", &id[..8])).await.unwrap();
    assert_eq!(lg.json().unwrap()["log"], "training\ndone\n");
    assert_eq!(c.journal(&id)["results"][0]["filesize"], 14);
}

#[tokio::test]
async fn wait_shows_live_status_and_failures_read_as_failures() {
    let c = Bench::new();
    let node =
        c.node(vec![Status::JobStarted, Status::RunningAlgorithm, Status::RunningAlgorithm, Status::AlgorithmFailed]);
    let m = C2dMagic::new().with_remote(node);
    let out = c.run(&m, &format!("c2d start --dataset {DS} --algorithm {AL} --wait")).await.unwrap();
    let j = out.json().unwrap();
    assert_eq!((j["status"].as_u64(), j["ok"].as_bool()), (Some(41), Some(false)), "{j}");
    assert_eq!(j["failure"]["kind"], "remote");
    let shown = c.cell.sink.events().iter().any(|e| matches!(e, SinkEvent::Display { .. }));
    assert!(shown, "a live display while waiting: {:?}", c.cell.sink.events());
}

#[tokio::test]
async fn stop_asks_the_node() {
    let c = Bench::new();
    let node = c.node(vec![Status::RunningAlgorithm]);
    let m = C2dMagic::new().with_remote(node.clone());
    let j = c.run(&m, &format!("c2d start --dataset {DS} --algorithm {AL}")).await.unwrap().json().unwrap().clone();
    let id = j["jobId"].as_str().unwrap();
    let s = c.run(&m, &format!("c2d stop {}", &id[..8])).await.unwrap();
    assert!(*node.stopped.lock().unwrap());
    assert_eq!(s.json().unwrap()["status"], 41);
}

#[tokio::test]
async fn refusals_are_one_line_and_journal_nothing() {
    let c = Bench::new();
    let m = C2dMagic::new().with_remote(c.node(vec![Status::JobFinished]));
    std::fs::write(c.cell.dir().join("local.csv"), "1\n").unwrap();
    let untrusted = "did:op:untrusted";
    for (line, want) in [
        (format!("c2d start --dataset {DS} --algorithm {untrusted}"), "not trusted"),
        (format!("c2d start --dataset local.csv --algorithm {AL}"), "cannot be mixed"),
        (format!("c2d start --dataset {DS} --algorithm {AL} --entrypoint sh"), "--entrypoint"),
    ] {
        let e = c.run(&m, &line).await.unwrap_err().to_string();
        assert!(e.contains(want) && !e.contains('\n'), "{line}: {e}");
    }
    // Without a backend, a DID is a clear refusal too.
    let e = c.run(&C2dMagic::new(), &format!("c2d start --dataset {DS} --algorithm {AL}")).await.unwrap_err();
    let e = e.to_string();
    assert!(e.contains("no source resolver handles") && e.contains(DS) && !e.contains('\n'), "{e}");
    let l = c.run(&m, "c2d list").await.unwrap();
    assert_eq!(l.json().unwrap()["jobs"], serde_json::json!([]));
}

#[tokio::test]
async fn a_node_that_stops_answering_leaves_the_journaled_state() {
    let c = Bench::new();
    let node = c.node(vec![Status::RunningAlgorithm]);
    let m = C2dMagic::new().with_remote(node.clone());
    let j = c.run(&m, &format!("c2d start --dataset {DS} --algorithm {AL}")).await.unwrap().json().unwrap().clone();
    let id = j["jobId"].as_str().unwrap().to_string();
    c.run(&m, &format!("c2d status {}", &id[..8])).await.unwrap();
    node.down.store(true, Ordering::SeqCst);
    let s = c.run(&m, &format!("c2d status {}", &id[..8])).await.unwrap();
    assert_eq!(s.json().unwrap()["status"], 40, "the last known state");
    let err: String = c
        .cell
        .sink
        .events()
        .iter()
        .filter_map(|e| match e {
            SinkEvent::Stream(kelp_magic::Stream::Stderr, t) => Some(t.clone()),
            _ => None,
        })
        .collect();
    assert!(err.contains("could not ask the node") && err.contains("not reachable"), "{err}");
    let e = c.run(&m, &format!("c2d result {}", &id[..8])).await.unwrap_err().to_string();
    assert!(e.contains("still running") && !e.contains('\n'), "{e}");
    assert_eq!(c.journal(&id)["status"], 40, "nothing lost");
}

/// The renderings of a remote job's results (snapshots beside tests/it/results.rs's): started,
/// status with the node's handle, the log while the node runs it, stopped.
#[tokio::test]
async fn remote_results_render_the_node_handle() {
    use crate::results::{job_filters, snap};
    let c = Bench::new();
    let m = C2dMagic::new().with_remote(c.node(vec![Status::RunningAlgorithm]));
    let started = c.run(&m, &format!("c2d start --dataset {DS} --algorithm {AL} --timeout 5m")).await.unwrap();
    let id = started.json().unwrap()["jobId"].as_str().unwrap().to_string();
    snap("c2d_remote_start", &started, &c.cell, job_filters(&id));
    let status = c.run(&m, &format!("c2d status {id}")).await.unwrap();
    assert_eq!(status.json().unwrap()["remote"]["nodeUrl"], "http://node.invalid");
    snap("c2d_remote_status", &status, &c.cell, job_filters(&id));
    let log = c.run(&m, &format!("c2d logs {id}")).await.unwrap();
    assert!(log.json().unwrap()["log"].is_null(), "{log:?}");
    snap("c2d_remote_logs_running", &log, &c.cell, job_filters(&id));
    let stopped = c.run(&m, &format!("c2d stop {id}")).await.unwrap();
    snap("c2d_remote_stop", &stopped, &c.cell, job_filters(&id));

    // A job the node has finished: `logs -f` prints the node's log and the result is its JSON.
    let m = C2dMagic::new().with_remote(c.node(vec![Status::JobFinished]));
    let started = c.run(&m, &format!("c2d start --dataset {DS} --algorithm {AL}")).await.unwrap();
    let id = started.json().unwrap()["jobId"].as_str().unwrap().to_string();
    let log = c.run(&m, &format!("c2d logs {id} -f")).await.unwrap();
    assert_eq!(log.json().unwrap()["log"], "training\ndone\n", "{log:?}");
    snap("c2d_remote_logs_follow_ended", &log, &c.cell, job_filters(&id));

    // `envs` lists the local environment, then the node's as it sent them (an Ocean Node
    // `computeEnvironments` entry; its `price` is shown).
    let node = c.node(vec![Status::RunningAlgorithm]);
    *node.environments.lock().unwrap() = Some(vec![serde_json::json!({
        "id": "0xenv1", "description": "node CPU", "maxJobDuration": 3600, "price": "cpu 1 OCEAN/min",
        "resources": [{"id": "cpu", "total": 4, "max": 4, "min": 1}, {"id": "ram", "total": 16, "max": 8, "min": 1}],
    })]);
    let m = C2dMagic::new().with_remote(node);
    let envs = c.run(&m, "c2d envs --network devnet").await.unwrap();
    let j = envs.json().unwrap();
    assert_eq!(
        (j["environments"][1]["where"].as_str(), j["environments"][1]["node"].as_str()),
        (Some("node"), Some("http://node.invalid"))
    );
    assert_eq!(j["environments"][1]["network"], "devnet");
    // The local environment's sizes are this machine's.
    let local = (r#"(?s)\{\n      "consumerAddress".*?"where": "local"\n    \}"#, "[LOCAL-ENVIRONMENT]");
    let line = (r"local  kelp-local-bwrap  [^\n]*\n", "[LOCAL-ENVIRONMENT]\n");
    let row = (r"<tr><td>local</td>.*?</tr>", "[LOCAL-ENVIRONMENT]");
    let f = [local, line, row].iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
    snap("c2d_remote_envs", &envs, &c.cell, f);
}
