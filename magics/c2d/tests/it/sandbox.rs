//! Acceptance tests of the local engine with the real bubblewrap (no mocks): a normal job, and
//! algorithms that try to escape or exhaust the sandbox. They fail, not skip, without bwrap.

use crate::common::*;
use kelp_c2d::{FailKind, Resources, Status};
use std::io::Read;
use std::time::{Duration, Instant};

const MARKER: &str = "SECRET-ROW-7f3a9c";

#[test]
fn normal_job_returns_outputs_not_the_data() {
    let lab = Lab::new();
    let data = format!("x,y\n1,2\n3,4\n5,6\n{MARKER},0\n");
    let folder = lab.dir.path().join("more");
    std::fs::create_dir(&folder).unwrap();
    std::fs::write(folder.join("part.txt"), "hello-from-folder").unwrap();
    let code = r#"
import json, os
params = json.load(open('/data/inputs/algoCustomData.json'))
dids = json.loads(os.environ['DIDS'])
rows = [l.split(',') for l in open(f'/data/inputs/{dids[0]}/0').read().splitlines()[1:]]
total = sum(int(r[1]) for r in rows)
part = open(f'/data/inputs/{dids[1]}/part.txt').read()
os.makedirs('/data/outputs/sub', exist_ok=True)
json.dump({'total': total * params['scale'], 'rows': len(rows), 'part': len(part), 'dids': dids}, open('/data/outputs/result.json', 'w'))
open('/data/outputs/sub/note.txt', 'w').write('nested')
print('computed total', total)
"#;
    let mut spec = lab.spec("algo.py", code, &data);
    spec.datasets.push(kelp_c2d::DatasetInput::path(&folder));
    spec.params.insert("scale".into(), serde_json::json!(10));
    let rec = lab.run(spec);
    let log = lab.log(&rec);
    assert_eq!(rec.status, Status::JobFinished, "{rec:?}\n{log}");
    assert_eq!(rec.exit_code, Some(0));
    assert!(log.contains("computed total 12"), "{log}");
    let files = lab.outputs(&rec);
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["result.json", "sub/note.txt"]);
    let result: serde_json::Value = serde_json::from_slice(&files[0].1).unwrap();
    assert_eq!(result["total"], 120);
    assert_eq!(result["rows"], 4);
    assert_eq!(result["part"], 17);
    assert_eq!(result["dids"], serde_json::json!(["data.csv", "more"]));
    assert_eq!(
        rec.results.iter().map(|r| (r.index, r.kind.as_str())).collect::<Vec<_>>(),
        [(0, "algorithmLog"), (1, "output")]
    );
    // The engine never copied the dataset bytes anywhere in the job folder.
    let job_dir = lab.engine.dir().join("jobs").join(&rec.job_id);
    assert!(tree_contains(&job_dir, MARKER.as_bytes()).is_empty());
    assert!(tree_contains(&job_dir, b"hello-from-folder").is_empty());
    // Ocean's view of the job.
    let oc = serde_json::to_value(lab.engine.status(&rec.job_id).unwrap()).unwrap();
    assert_eq!(oc["status"], 70);
    assert_eq!(oc["results"][1]["filename"], "outputs.tar");
    assert_eq!(oc["jobId"], rec.job_id.as_str());
    assert_eq!(oc["inputDID"][0], lab.dir.path().join("data.csv").display().to_string());
    assert_eq!(lab.engine.jobs(Some("LOCAL")).unwrap().len(), 1);
    assert!(lab.engine.jobs(Some("0xabc")).unwrap().is_empty());
}

/// The stretch goal: a compiled Rust binary as the algorithm (entrypoint `$ALGO`).
#[test]
fn compiled_rust_binary_algorithm() {
    let lab = Lab::new();
    let src = lab.file(
        "algo.rs",
        "fn main() {\n    let ids: String = std::env::var(\"DIDS\").unwrap();\n    let id = ids.trim_matches(|c| c == '[' || c == ']' || c == '\"');\n    let text = std::fs::read_to_string(format!(\"/data/inputs/{id}/0\")).unwrap();\n    let n: i64 = text.lines().map(|l| l.parse::<i64>().unwrap()).sum();\n    std::fs::write(\"/data/outputs/sum.txt\", n.to_string()).unwrap();\n    println!(\"rust algorithm summed {n}\");\n}\n",
    );
    let bin = lab.dir.path().join("algo-bin");
    let st = std::process::Command::new("rustc")
        .args(["-O", "--edition", "2021", "-o"])
        .arg(&bin)
        .arg(&src)
        .status()
        .unwrap();
    assert!(st.success(), "rustc failed");
    let mut spec = lab.spec("unused.py", "", "5\n7\n30\n");
    spec.algorithm = kelp_c2d::AlgorithmSpec::path(&bin);
    assert_eq!(spec.algorithm.container.entrypoint, "$ALGO");
    let rec = lab.run(spec);
    let log = lab.log(&rec);
    assert_eq!(rec.status, Status::JobFinished, "{log}");
    assert!(log.contains("rust algorithm summed 42"), "{log}");
    assert_eq!(lab.outputs(&rec), vec![("sum.txt".to_string(), b"42".to_vec())]);
}

#[test]
fn network_is_unreachable() {
    let lab = Lab::new();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let code = format!(
        "import socket, sys\ntry:\n    socket.create_connection(('127.0.0.1', {port}), timeout=3)\n    print('CONNECTED')\nexcept OSError as e:\n    print('network denied:', e)\n    sys.exit(3)\n"
    );
    let rec = lab.run(lab.spec("net.py", &code, "x\n"));
    let log = lab.log(&rec);
    assert_eq!(rec.status, Status::AlgorithmFailed, "{log}");
    assert_eq!(rec.exit_code, Some(3), "{log}");
    assert!(log.contains("network denied") && !log.contains("CONNECTED"), "{log}");
    assert!(log.contains("exited with code 3"), "{log}");
    assert!(
        matches!(listener.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "the listener got a connection"
    );
}

#[test]
fn inputs_are_read_only() {
    let lab = Lab::new();
    let code = r#"
import sys, os
errors = []
for path in ['/data/inputs/new.txt', '/data/inputs/data.csv/0', '/data/inputs/algoCustomData.json', '/data/transformations/algorithm']:
    try:
        open(path, 'a').write('tampered')
        print('WROTE', path)
    except OSError as e:
        errors.append(e.strerror)
        print('denied', path, e.strerror)
sys.exit(0 if len(errors) == 4 else 1)
"#;
    let rec = lab.run(lab.spec("w.py", code, "original\n"));
    let log = lab.log(&rec);
    assert_eq!(rec.status, Status::JobFinished, "{log}");
    assert!(!log.contains("WROTE") && log.matches("Read-only file system").count() == 4, "{log}");
    assert_eq!(std::fs::read_to_string(lab.dir.path().join("data.csv")).unwrap(), "original\n");
}

#[test]
fn host_home_and_files_are_invisible() {
    let lab = Lab::new();
    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    let secret = lab.file("host-secret.txt", "top secret");
    let code = format!(
        "import os, sys\nseen = []\nfor p in [{home:?}, '/root', '/home', {s:?}, '/etc/shadow', '/work', '/proc/1/root/root']:\n    try:\n        seen.append((p, os.listdir(p) if os.path.isdir(p) else open(p).read()))\n    except OSError as e:\n        print('hidden', p, e.strerror)\nprint('SEEN', seen)\nsys.exit(3 if seen else 0)\n",
        s = secret.display().to_string()
    );
    let rec = lab.run(lab.spec("home.py", &code, "x\n"));
    let log = lab.log(&rec);
    assert_eq!(rec.status, Status::JobFinished, "{log}");
    assert!(log.contains("SEEN []") && !log.contains("top secret"), "{log}");
    assert!(log.contains(&format!("hidden {home}")), "{log}");
}

#[test]
fn fork_bomb_is_stopped_by_the_process_limit() {
    let lab = Lab::new();
    let code = "import os, time\nwhile True:\n    if os.fork() == 0:\n        time.sleep(20)\n        os._exit(0)\n";
    let t = Instant::now();
    let rec = lab.run(lab.spec("bomb.py", code, "x\n"));
    let log = lab.log(&rec);
    assert_eq!(rec.status, Status::AlgorithmFailed, "{log}");
    assert_eq!(rec.failure.as_ref().map(|f| f.kind), Some(FailKind::Processes), "{rec:?}\n{log}");
    assert!(log.contains("[kelp-c2d] failed: the process limit"), "{log}");
    assert!(t.elapsed() < Duration::from_secs(20), "the bomb ran until the time limit");
    assert!(rec.limits.iter().any(|l| l.starts_with("processes:") && !l.contains("NOT")), "{:?}", rec.limits);
}

#[test]
fn memory_limit_is_enforced() {
    let lab = Lab::new();
    let code = "chunks = []\nwhile True:\n    chunks.append(bytearray(16 << 20))\n";
    let mut spec = lab.spec("mem.py", code, "x\n");
    spec.resources = Resources { cpu: 1, ram: 128 << 20, disk: 16 << 20 };
    let rec = lab.run(spec);
    let log = lab.log(&rec);
    assert_eq!(rec.status, Status::AlgorithmFailed, "{log}");
    assert_eq!(rec.failure.as_ref().map(|f| f.kind), Some(FailKind::Memory), "{log}");
    assert!(
        log.contains("MemoryError") && log.contains("[kelp-c2d] failed: the memory limit of 134217728 bytes"),
        "{log}"
    );
}

#[test]
fn time_limit_kills_the_whole_sandbox() {
    let lab = Lab::new();
    let code = "#!/bin/sh\necho started\nsleep 100 &\nsleep 100\n";
    let mut spec = lab.spec("slow.sh", code, "x\n");
    spec.timeout_secs = 2;
    let id = lab.engine.submit(spec).unwrap();
    let mut sandbox = None;
    let t = Instant::now();
    while sandbox.is_none() && t.elapsed() < Duration::from_secs(10) {
        sandbox = lab.engine.record(&id).unwrap().sandbox_pid;
        std::thread::sleep(SLEEP);
    }
    let sandbox = sandbox.expect("the sandbox started");
    let rec = lab.engine.wait(&id, Duration::from_secs(30)).unwrap();
    let log = lab.log(&rec);
    assert_eq!(rec.status, Status::AlgorithmFailed, "{log}");
    assert_eq!(rec.failure.as_ref().map(|f| f.kind), Some(FailKind::Timeout));
    assert!(
        log.contains("started") && log.contains("[kelp-c2d] killed: the wall-time limit of 2 s was reached"),
        "{log}"
    );
    assert!(rec.elapsed() < 6.0, "{}", rec.elapsed());
    // bubblewrap is gone, and with it the sandbox's pid namespace and its `sleep 100`s.
    assert!(!alive(sandbox), "the sandbox outlived its job");
}

#[test]
fn output_size_limit() {
    let lab = Lab::new();
    // One big file: RLIMIT_FSIZE stops the write.
    let code =
        "f = open('/data/outputs/big.bin', 'wb')\nfor i in range(64):\n    f.write(b'x' * (1 << 20))\n    f.flush()\n";
    let mut spec = lab.spec("big.py", code, "x\n");
    spec.resources.disk = 4 << 20;
    let rec = lab.run(spec);
    let log = lab.log(&rec);
    assert_eq!(rec.status, Status::DiskQuotaExceeded, "{rec:?} {log}");
    assert_eq!(rec.failure.as_ref().map(|f| f.kind), Some(FailKind::OutputSize));
    // Whichever comes first: the per-file limit, or the engine's poll of the total.
    let per_file = log.contains("[kelp-c2d] failed: an output file reached the limit of 4194304 bytes");
    assert!(per_file || log.contains("[kelp-c2d] killed: outputs reached"), "{log}");
    assert_eq!(rec.results.len(), 1, "no outputs.tar past the limit");
    // Many small files: the engine's size poll kills the sandbox.
    let code = "#!/bin/sh\ni=0\nwhile [ $i -lt 200 ]; do head -c 262144 /dev/zero > /data/outputs/f$i; i=$((i+1)); sleep 0.01; done\n";
    let mut spec = lab.spec("many.sh", code, "x\n");
    spec.resources.disk = 4 << 20;
    let rec = lab.run(spec);
    let log = lab.log(&rec);
    assert_eq!(rec.status, Status::DiskQuotaExceeded, "{rec:?} {log}");
    assert!(log.contains("[kelp-c2d] killed: outputs reached"), "{log}");
}

#[test]
fn stop_ends_a_running_job() {
    let lab = Lab::new();
    let mut spec = lab.spec("wait.sh", "echo waiting\nsleep 60\n", "x\n");
    spec.timeout_secs = 120;
    let id = lab.engine.submit(spec).unwrap();
    let t = Instant::now();
    while lab.engine.record(&id).unwrap().status != Status::RunningAlgorithm && t.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(SLEEP);
    }
    let rec = lab.engine.stop(&id).unwrap();
    assert_eq!(rec.status, Status::AlgorithmFailed);
    assert_eq!(rec.failure.as_ref().map(|f| f.kind), Some(FailKind::Stopped));
    assert!(t.elapsed() < Duration::from_secs(15));
    let mut log = String::new();
    std::fs::File::open(lab.engine.result_file(&id, 0).unwrap().1).unwrap().read_to_string(&mut log).unwrap();
    assert!(log.contains("stopped on request"), "{log}");
}

#[test]
fn bad_submissions_are_one_line_errors() {
    let lab = Lab::new();
    let mut spec = lab.spec("a.py", "print(1)", "x");
    spec.datasets[0].path = lab.dir.path().join("missing.csv");
    let e = lab.engine.submit(spec).unwrap_err().to_string();
    assert!(e.starts_with("dataset not found") && !e.contains('\n'), "{e}");
    let mut spec = lab.spec("a.py", "print(1)", "x");
    spec.environment = Some("gpu-cluster".into());
    assert!(lab.engine.submit(spec).unwrap_err().to_string().contains("unknown compute environment"));
    let mut spec = lab.spec("a.py", "print(1)", "x");
    spec.resources.cpu = 10_000;
    assert!(lab.engine.submit(spec).unwrap_err().to_string().starts_with("cpu 10000 exceeds"));
    assert!(lab.engine.record("nope").unwrap_err().to_string().contains("unknown job"));
    assert!(lab.engine.list().unwrap().is_empty(), "nothing was journaled for refused jobs");
}

/// As root without a pids cgroup (forced here), the algorithm runs as uid 65534: the process
/// limit, the read-only inputs, the network ban and normal outputs all still hold. Not root,
/// this is the ordinary user-namespace sandbox.
#[test]
fn without_cgroups_limits_still_hold() {
    let lab = Lab::with(kelp_c2d::EngineConfig { use_cgroups: false, ..Default::default() });
    let bomb = "import os, time\nwhile True:\n    if os.fork() == 0:\n        time.sleep(20)\n        os._exit(0)\n";
    let rec = lab.run(lab.spec("bomb.py", bomb, "x\n"));
    assert_eq!(rec.failure.as_ref().map(|f| f.kind), Some(FailKind::Processes), "{rec:?}\n{}", lab.log(&rec));
    assert!(rec.limits.iter().any(|l| l.starts_with("processes: RLIMIT_NPROC")), "{:?}", rec.limits);
    let code = "import os, json, socket\nd = json.loads(os.environ['DIDS'])[0]\nrows = open(f'/data/inputs/{d}/0').read().split()\n\
denied = []\nfor f in [lambda: open(f'/data/inputs/{d}/0', 'a'), lambda: socket.create_connection(('127.0.0.1', 9), timeout=2)]:\n    try:\n        f()\n    except OSError as e:\n        denied.append(e.strerror)\n\
open('/data/outputs/r.json', 'w').write(json.dumps({'rows': len(rows), 'denied': len(denied), 'uid': os.getuid()}))\n";
    let rec = lab.run(lab.spec("ok.py", code, "1\n2\n3\n"));
    assert_eq!(rec.status, Status::JobFinished, "{}", lab.log(&rec));
    let r: serde_json::Value = serde_json::from_slice(&lab.outputs(&rec)[0].1).unwrap();
    assert_eq!((r["rows"].as_u64(), r["denied"].as_u64()), (Some(3), Some(2)), "{r}");
    let root = std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"));
    if root {
        assert_eq!(r["uid"], 65534);
        // A dataset only root may read cannot be handed to nobody: a clear failure, not a leak.
        let spec = lab.spec("ok.py", code, "1\n");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&spec.datasets[0].path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let rec = lab.run(spec);
        assert_eq!(rec.status, Status::ContainerCreationFailed);
        assert!(lab.log(&rec).contains("is not readable by others"), "{}", lab.log(&rec));
    }
}
