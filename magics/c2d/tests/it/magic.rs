//! The `%c2d` magic end to end through the seam (real engine, real bubblewrap).

use kelp_c2d::magics;
use kelp_magic::testing::Cell;
use kelp_magic::{Magic, MagicError, Output, SinkEvent};
use std::sync::Arc;

/// A notebook cell with `%c2d` (kelp_magic::testing), in a fresh directory.
fn new_cell() -> Cell {
    let magics = magics();
    assert_eq!(magics.iter().map(|m| m.name()).collect::<Vec<_>>(), ["c2d"]);
    Cell::new(magics)
}

const ALGO: &str = r#"
import json, os, time
p = json.load(open('/data/inputs/algoCustomData.json'))
d = json.loads(os.environ['DIDS'])[0]
nums = [float(l) for l in open(f'/data/inputs/{d}/0').read().split()]
for i in range(3):
    print('step', i, flush=True)
    time.sleep(0.25)
json.dump({'mean': sum(nums) / len(nums) * p['scale'], 'label': p['label']}, open('/data/outputs/stats.json', 'w'))
os.symlink('/etc/hostname', '/data/outputs/link')
"#;

#[tokio::test]
async fn start_wait_then_result_into_a_folder() {
    let c = new_cell();
    c.write("nums.txt", "1\n2\n3\n6\n");
    c.write("stats.py", ALGO);
    let out = c
        .run("c2d start --dataset nums.txt --algorithm stats.py --param scale=2 --param label=demo --resources cpu=1,ram=512M --timeout 30s --wait")
        .await
        .unwrap();
    let j = out.json().unwrap();
    assert_eq!(j["status"], 70, "{j}");
    assert_eq!(j["ok"], true);
    assert_eq!(j["params"]["scale"], 2);
    assert_eq!(j["resources"]["ram"], 512 << 20);
    let id = j["jobId"].as_str().unwrap().to_string();
    // The live display appeared and was updated under one id, ending on the final status.
    let ev = c.sink.events();
    let shown: Vec<&String> =
        ev.iter().filter_map(|e| if let SinkEvent::Display(_, Some(i)) = e { Some(i) } else { None }).collect();
    assert_eq!(shown.len(), 1, "{ev:?}");
    let updates: Vec<&Output> = ev
        .iter()
        .filter_map(|e| match e {
            SinkEvent::Update(o, i) if i == shown[0] => Some(o),
            _ => None,
        })
        .collect();
    assert!(!updates.is_empty());
    assert!(updates.last().unwrap().plain().unwrap().contains("70 Job finished"), "{:?}", updates.last());
    assert!(
        ev.iter().any(|e| matches!(e, SinkEvent::Update(o, _) if o.plain().unwrap_or("").contains("step"))),
        "{ev:?}"
    );

    let out = c.run(&format!("c2d result {}", &id[..6])).await.unwrap();
    let folder = c.dir().join("c2d-results").join(&id);
    assert_eq!(out.value.as_ref().unwrap().ty, "std::path::PathBuf");
    assert!(out.value.as_ref().unwrap().expr.contains(&folder.display().to_string()));
    let stats: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(folder.join("stats.json")).unwrap()).unwrap();
    assert_eq!(stats, serde_json::json!({"mean": 6.0, "label": "demo"}));
    assert!(std::fs::read_to_string(folder.join("algorithm.log")).unwrap().contains("step 2"));
    assert_eq!(out.json().unwrap()["files"], serde_json::json!(["algorithm.log", "stats.json"]));
    // Fetching again replaces the folder; -o puts it elsewhere.
    c.run(&format!("c2d result {id}")).await.unwrap();
    let out = c.run(&format!("c2d result {id} -o mine")).await.unwrap();
    assert_eq!(out.json().unwrap()["folder"], c.dir().join("mine").display().to_string());
    // A folder with someone else's files is not overwritten.
    std::fs::create_dir(c.dir().join("busy")).unwrap();
    c.write("busy/keep.txt", "mine");
    let e = c.run(&format!("c2d result {id} -o busy")).await.unwrap_err().to_string();
    assert!(e.contains("exists and holds other files") && !e.contains('\n'), "{e}");
    assert_eq!(std::fs::read_to_string(c.dir().join("busy/keep.txt")).unwrap(), "mine");
}

#[tokio::test]
async fn start_status_logs_list_stop_envs() {
    let c = new_cell();
    c.write("nums.txt", "4\n");
    c.write("stats.py", ALGO);
    c.write("slow.sh", "echo begin\nsleep 30\n");
    let out = c.run("c2d start --dataset nums.txt --algorithm stats.py --param scale=1 --param label=x").await.unwrap();
    let id = out.json().unwrap()["jobId"].as_str().unwrap().to_string();
    // How to follow it is part of the result, not a line printed before it: `kelp c2d start
    // --json` prints the JSON alone on stdout.
    assert!(out.plain().unwrap().starts_with(&format!("started job {id}; follow it with %c2d status")), "{out:?}");
    assert!(out.plain().unwrap().contains(&format!("%c2d logs {} -f", &id[..8])));
    assert_eq!(c.sink.stdout(), "", "nothing printed before the result");
    // Follow the log to the end.
    let out = c.run(&format!("c2d logs {id} -f")).await.unwrap();
    assert_eq!(out.json().unwrap()["status"], 70);
    assert!(c.sink.stdout().contains("step 0\nstep 1\nstep 2"), "{}", c.sink.stdout());
    let out = c.run("c2d status").await.unwrap();
    assert_eq!(out.json().unwrap()["jobId"], id.as_str());
    assert!(out.plain().unwrap().contains("70 Job finished"));
    let out = c.run(&format!("c2d logs {}", &id[..5])).await.unwrap();
    assert!(out.plain().unwrap().contains("step 1"));

    let out = c.run("c2d start --dataset nums.txt --algorithm slow.sh --timeout 1m").await.unwrap();
    let slow = out.json().unwrap()["jobId"].as_str().unwrap().to_string();
    let e = c.run(&format!("c2d result {slow}")).await.unwrap_err().to_string();
    assert!(e.contains("is still running") && !e.contains('\n'), "{e}");
    let out = c.run("c2d list").await.unwrap();
    let jobs = out.json().unwrap()["jobs"].as_array().unwrap().clone();
    assert_eq!(jobs.len(), 2);
    assert_eq!(jobs[0]["jobId"], id.as_str());
    let out = c.run(&format!("c2d stop {slow}")).await.unwrap();
    assert_eq!(out.json().unwrap()["status"], 41);
    assert_eq!(out.json().unwrap()["failure"]["kind"], "stopped");
    let out = c.run(&format!("c2d stop {id}")).await.unwrap();
    assert!(out.plain().unwrap().contains("had already ended"));

    let out = c.run("c2d envs").await.unwrap();
    let env = &out.json().unwrap()["environments"][0];
    assert_eq!(env["id"], kelp_c2d::LOCAL_ENV);
    assert_eq!((env["where"].as_str(), env["node"].is_null()), (Some("local"), true), "{env}");
    assert_eq!(out.json().unwrap()["environments"].as_array().unwrap().len(), 1, "no remote backend: local only");
    assert!(out.plain().unwrap().starts_with(&format!("local  {}  cpu ", kelp_c2d::LOCAL_ENV)));
    assert!(env["resources"].as_array().unwrap().iter().any(|r| r["id"] == "cpu" && r["max"].as_f64().unwrap() >= 1.0));
    assert!(env["free"]["maxJobs"].as_u64().unwrap() >= 1);
}

#[tokio::test]
async fn bad_inputs_are_one_clear_line_each() {
    let c = new_cell();
    c.write("nums.txt", "4\n");
    c.write("a.py", "print(1)\n");
    let cases = [
        ("c2d status nope1234", "unknown job \"nope1234\""),
        ("c2d result nope1234", "unknown job"),
        ("c2d logs nope1234", "unknown job"),
        ("c2d stop nope1234", "unknown job"),
        ("c2d start --dataset nums.txt --algorithm a.py --resources cpu=two", "bad resource spec \"cpu=two\""),
        ("c2d start --dataset nums.txt --algorithm a.py --resources gpu=1", "unknown resource \"gpu\""),
        ("c2d start --dataset missing.csv --algorithm a.py", "dataset not found"),
        ("c2d start --dataset nums.txt --algorithm nope.py", "algorithm not found"),
        ("c2d start --dataset nums.txt --algorithm a.py --timeout 10 minutes", "unexpected argument"),
        ("c2d start --dataset nums.txt --algorithm a.py --timeout 10y", "bad duration \"10y\""),
        ("c2d start --dataset nums.txt --algorithm a.py --param novalue", "bad parameter"),
        ("c2d start --dataset nums.txt --algorithm a.py --env gpu", "unknown compute environment \"gpu\""),
        ("c2d start --algorithm a.py", "--dataset"),
        ("c2d status", "no jobs yet"),
    ];
    for (line, want) in cases {
        let e = c.run(line).await.unwrap_err().to_string();
        assert!(e.contains(want), "{line}: {e}");
        assert!(!e.contains('\n'), "{line}: more than one line: {e}");
    }
    let out = c.run("c2d list").await.unwrap();
    assert_eq!(out.json().unwrap()["jobs"], serde_json::json!([]), "refused jobs left nothing behind");
    assert!(matches!(c.run("c2d start --help").await, Err(MagicError::Help(h)) if h.contains("--resources")));
}

#[tokio::test]
async fn interrupting_a_wait_stops_the_job() {
    let c = new_cell();
    c.write("nums.txt", "4\n");
    c.write("slow.sh", "echo begin\nsleep 30\n");
    let cancel = c.ctx.cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        cancel.cancel();
    });
    let e = c.run("c2d start --dataset nums.txt --algorithm slow.sh --wait").await.unwrap_err();
    assert!(matches!(&e, MagicError::Cancelled(m) if m.contains("the job was stopped")), "{e}");
    let c2 = c.next();
    let out = c2.run("c2d status").await.unwrap();
    assert_eq!(out.json().unwrap()["status"], 41);
    assert_eq!(out.json().unwrap()["failure"]["kind"], "stopped");
}

/// A DID resolver plugged in from outside (as kelp-ocean will): the engine needs no change.
struct TestDids(std::path::PathBuf);

#[async_trait::async_trait]
impl kelp_c2d::SourceResolver for TestDids {
    fn name(&self) -> &'static str {
        "test-did"
    }
    fn accepts(&self, s: &str) -> bool {
        s.starts_with("did:op:")
    }
    async fn resolve(&self, s: &str, _workdir: &std::path::Path) -> kelp_c2d::Result<kelp_c2d::Resolved> {
        Ok(kelp_c2d::Resolved { path: self.0.clone(), id: s.to_string(), container: None })
    }
}

#[tokio::test]
async fn plugged_resolver_feeds_did_datasets() {
    let first = new_cell();
    let magic = kelp_c2d::C2dMagic::new().with_resolver(Arc::new(TestDids(first.dir().join("private.csv"))));
    let c = Cell::at(first.dir(), [Arc::new(magic) as Arc<dyn Magic>]);
    c.write("private.csv", "10\n20\n");
    c.write("sum.py", "import os, json\nd = json.loads(os.environ['DIDS'])[0]\nprint('sum', sum(int(l) for l in open(f'/data/inputs/{d}/0')), 'from', d)\n");
    let out = c.run("c2d start --dataset did:op:0abc --algorithm sum.py --wait").await.unwrap();
    let j = out.json().unwrap();
    assert_eq!(j["status"], 70, "{j}");
    assert_eq!(j["datasets"][0], serde_json::json!({"id": "did:op:0abc", "source": "did:op:0abc"}));
    let out = c.run(&format!("c2d logs {}", j["jobId"].as_str().unwrap())).await.unwrap();
    assert!(out.plain().unwrap().contains("sum 30 from did:op:0abc"), "{:?}", out.plain());
    let e = c.run("c2d start --dataset ipfs://bafy --algorithm sum.py").await.unwrap_err().to_string();
    assert!(e.contains("IPFS") && e.contains("not a CID"), "{e}");
    let e = c.run("c2d start --dataset nope:thing --algorithm sum.py").await.unwrap_err().to_string();
    assert!(e.contains("dataset not found"), "{e}");
}

/// IPFS CIDs as sources: the dataset and the algorithm come from the session's block store
/// (`$KELP_HOME/ipfs`, where `%ipfs add` puts them) and run in the sandbox like paths.
#[tokio::test]
async fn cids_from_the_local_ipfs_store() {
    let c = new_cell();
    let store = kelp_ipfs::Store::open(&c.ctx.config.dir("ipfs")).unwrap();
    let opts = kelp_ipfs::AddOptions::default();
    let data = store.add_bytes(b"4\n5\n6\n", &opts).unwrap().cid.to_string();
    let algo = "import os, json\nd = json.loads(os.environ['DIDS'])[0]\nprint('total', sum(int(l) for l in open(f'/data/inputs/{d}/0')))\n";
    let algo = store.add_bytes(algo.as_bytes(), &opts).unwrap().cid.to_string();
    let out = c.run(&format!("c2d start --dataset {data} --algorithm ipfs://{algo} --wait")).await.unwrap();
    let j = out.json().unwrap();
    assert_eq!(j["status"], 70, "{j}");
    assert_eq!(j["datasets"][0]["source"], data.as_str());
    let log = c.run(&format!("c2d logs {}", j["jobId"].as_str().unwrap())).await.unwrap();
    assert!(log.plain().unwrap().contains("total 15"), "{:?}", log.plain());
    let missing = kelp_ipfs::cid_of_bytes(b"not added", &opts).unwrap().to_string();
    let e = c.run(&format!("c2d start --dataset {missing} --algorithm ipfs://{algo}")).await.unwrap_err().to_string();
    assert!(e.contains(&missing) && e.contains("%ipfs add") && !e.contains('\n'), "{e}");
}
