//! Regression tests of security issue #12 (item 1), with the real bubblewrap: an algorithm
//! plants links in the folders it may write (`/data/logs`, `/data/outputs`) hoping the engine
//! reads, streams, archives or appends through them on the host, and looks for host paths and
//! secrets from inside the sandbox. Nothing of the host may come back, and the engine must write
//! nowhere outside the job.
//!
//! The engine runs in a child test process whose environment holds a planted
//! `KELP_PRIVATE_KEY` (the parent re-runs this binary with it), so `/proc/self/environ` on the
//! host side is a real target holding a real secret.

use crate::common::*;
use kelp_c2d::{EngineConfig, JobRecord, Status};
use std::path::Path;

const KEY: &str = "0x5eC2e7-planted-private-key-9d41b7";
const FILE_SECRET: &str = "FILE-SECRET-3b81e0";
const VICTIM: &str = "victim stays as it was\n";

/// Run the `#[ignore]`d test `name` of this binary in a child process whose environment holds
/// `KELP_PRIVATE_KEY`; it must pass.
fn in_child_with_key(name: &str) {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", &format!("escape::{name}"), "--nocapture", "--test-threads=1"])
        .env("KELP_PRIVATE_KEY", KEY)
        .env("KELP_ESCAPE_CHILD", "1")
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && text.contains("1 passed"), "child test {name} failed:\n{text}");
}

fn is_child() -> bool {
    std::env::var("KELP_ESCAPE_CHILD").is_ok_and(|v| v == "1")
}

/// The host secrets nothing of a job may contain: the planted key, the secret file's content,
/// and the first line of /etc/shadow when this user can read it.
fn secrets() -> Vec<Vec<u8>> {
    let mut s = vec![KEY.as_bytes().to_vec(), FILE_SECRET.as_bytes().to_vec()];
    if let Ok(shadow) = std::fs::read_to_string("/etc/shadow")
        && let Some(first) = shadow.lines().find(|l| !l.trim().is_empty())
    {
        s.push(first.as_bytes().to_vec());
    }
    s
}

fn leaks(bytes: &[u8]) -> Vec<String> {
    secrets()
        .iter()
        .filter(|s| bytes.windows(s.len()).any(|w| w == s.as_slice()))
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect()
}

const PLANT: &str = r#"
import json, os, sys
p = json.load(open('/data/inputs/algoCustomData.json'))
log = '/data/logs/algorithm.log'
if os.path.lexists(log):
    os.remove(log)
os.symlink(p['log_target'], log)
for name, target in [('shadow', '/etc/shadow'), ('environ', '/proc/self/environ'), ('secret', p['secret']),
                     ('victim', p['victim']), ('etc', '/etc')]:
    os.symlink(target, '/data/outputs/' + name)
os.mkfifo('/data/outputs/fifo')
os.makedirs('/data/outputs/ok/deeper')
os.symlink(p['secret'], '/data/outputs/ok/deeper/again')
open('/data/outputs/ok/fine.txt', 'w').write('fine')
print('planted links to', p['log_target'], flush=True)
sys.exit(1)
"#;

/// Run the planting algorithm with `/data/logs/algorithm.log` pointing at `log_target`, and
/// check the job gives back nothing of the host.
fn plant_and_check(lab: &Lab, log_target: &str, secret: &Path, victim: &Path) -> JobRecord {
    let mut spec = lab.spec("plant.py", PLANT, "x\n1\n");
    spec.params.insert("log_target".into(), serde_json::json!(log_target));
    spec.params.insert("secret".into(), serde_json::json!(secret));
    spec.params.insert("victim".into(), serde_json::json!(victim));
    let rec = lab.run(spec);
    let id = rec.job_id.clone();
    // It ran, and failed (exit 1), so the engine appended its failure note to the log.
    assert_eq!(rec.status, Status::AlgorithmFailed, "{rec:?}");
    let result_log = std::fs::read(lab.engine.result_file(&id, 0).unwrap().1).unwrap();
    let text = String::from_utf8_lossy(&result_log);
    assert!(text.contains(&format!("planted links to {log_target}")), "the algorithm's output is missing: {text}");
    assert!(text.contains("exited with code 1"), "the engine's note is missing: {text}");
    assert!(text.contains("left out of outputs.tar"), "{text}");
    assert!(leaks(&result_log).is_empty(), "result log (target {log_target}) leaks {:?}", leaks(&result_log));
    // What `%c2d logs -f` and the node's computeStreamableLogs read.
    let streamed = kelp_c2d::engine::read_from(&lab.engine.log_path(&id).unwrap(), 0);
    assert!(String::from_utf8_lossy(&streamed).contains("planted links"));
    assert!(leaks(&streamed).is_empty(), "streamed log leaks {:?}", leaks(&streamed));
    // What computeResult serves.
    for index in 0..rec.results.len() {
        let (_, bytes) = lab.engine.read_result(&id, index).unwrap();
        assert!(leaks(&bytes).is_empty(), "result {index} leaks {:?}", leaks(&bytes));
    }
    let (_, tar) = lab.engine.result_file(&id, 1).unwrap();
    let raw = std::fs::read(&tar).unwrap();
    assert!(leaks(&raw).is_empty(), "outputs.tar leaks {:?}", leaks(&raw));
    let files = untar(&tar);
    assert_eq!(files, [("ok/fine.txt".to_string(), b"fine".to_vec())], "only regular files are archived");
    let job_dir = lab.engine.dir().join("jobs").join(&id);
    for s in secrets() {
        assert!(tree_contains(&job_dir, &s).is_empty(), "the job folder holds a host secret");
    }
    assert_eq!(std::fs::read_to_string(victim).unwrap(), VICTIM, "the engine wrote through a link");
    rec
}

#[test]
#[ignore = "run by planted_links_give_back_nothing_of_the_host in a child with KELP_PRIVATE_KEY set"]
fn planted_links_child() {
    if !is_child() {
        return;
    }
    assert_eq!(std::env::var("KELP_PRIVATE_KEY").unwrap(), KEY);
    // Both ways the engine may run a job as root: user namespace (+ pids cgroup) and uid 65534.
    for use_cgroups in [true, false] {
        let lab = Lab::with(EngineConfig { use_cgroups, ..EngineConfig::default() });
        let secret = lab.file("secret.txt", FILE_SECRET);
        let victim = lab.file("victim.txt", VICTIM);
        let host_env = format!("/proc/{}/environ", std::process::id());
        for target in [
            "/etc/shadow",
            "/proc/self/environ",
            host_env.as_str(),
            &secret.display().to_string(),
            &victim.display().to_string(),
        ] {
            plant_and_check(&lab, target, &secret, &victim);
        }
    }
}

#[test]
fn planted_links_give_back_nothing_of_the_host() {
    in_child_with_key("planted_links_child");
}

const LOOK: &str = r#"
import ctypes, json, os
found = {}
for p in ['/proc/self/mountinfo', '/proc/self/mounts', '/proc/1/mountinfo', '/proc/1/environ',
          '/proc/self/environ', '/proc/%d/environ' % os.getppid(), '/etc/mtab']:
    try:
        found[p] = open(p, errors='replace').read()
    except OSError as e:
        found[p] = 'unreadable: ' + e.strerror
libc = ctypes.CDLL(None, use_errno=True)
for name, nr in [('statmount', 457), ('listmount', 458)]:
    r = libc.syscall(nr, 0, 0, 0, 0)
    found[name] = ctypes.get_errno() if r == -1 else 0
for f in sorted(os.listdir('/data/ddos')):
    found['ddo ' + f] = open('/data/ddos/' + f).read()
found['environ'] = dict(os.environ)
found['cwd'] = os.getcwd()
json.dump(found, open('/data/outputs/found.json', 'w'))
print(json.dumps(found))
"#;

#[test]
#[ignore = "run by the sandbox_shows_no_host_path_or_secret in a child with KELP_PRIVATE_KEY set"]
fn no_host_path_child() {
    if !is_child() {
        return;
    }
    for use_cgroups in [true, false] {
        let lab = Lab::with(EngineConfig { use_cgroups, ..EngineConfig::default() });
        let rec = lab.run(lab.spec("look.py", LOOK, "x\n1\n"));
        let log = lab.log(&rec);
        assert_eq!(rec.status, Status::JobFinished, "{log}");
        let files = lab.outputs(&rec);
        let found: serde_json::Value = serde_json::from_slice(&files[0].1).unwrap();
        // The mount table is not readable (it would name the host folder behind each bind).
        for p in ["/proc/self/mountinfo", "/proc/1/mountinfo", "/proc/self/mounts", "/proc/1/environ"] {
            assert!(found[p].as_str().unwrap().starts_with("unreadable"), "{p}: {}", found[p]);
        }
        // statmount/listmount tell the same without /proc: denied (ENOSYS).
        assert_eq!(found["statmount"], 38, "{found}");
        assert_eq!(found["listmount"], 38, "{found}");
        // No host path of the engine, the job or the dataset anywhere in what the job saw.
        let all = format!("{found}{log}");
        let host_dirs = [lab.dir.path().display().to_string(), lab.engine.dir().display().to_string()];
        for d in &host_dirs {
            assert!(!all.contains(d.as_str()), "the sandbox saw the host path {d}: {all}");
        }
        assert!(leaks(all.as_bytes()).is_empty(), "the sandbox saw {:?}", leaks(all.as_bytes()));
        assert!(found["environ"].get("KELP_PRIVATE_KEY").is_none());
        assert_eq!(found["environ"]["TRANSFORMATION_DID"], "look.py", "a local algorithm is named by its file name");
        assert!(found["ddo data.csv"].as_str().unwrap().contains("\"source\": \"data.csv\""), "{found}");
    }
}

#[test]
fn sandbox_shows_no_host_path_or_secret() {
    in_child_with_key("no_host_path_child");
}
