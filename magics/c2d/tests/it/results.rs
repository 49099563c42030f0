//! Snapshots of every `%c2d` subcommand's result, all three renderings (text, HTML, JSON) in one
//! `.snap` per case under tests/it/snapshots/ (insta; job ids, times, machine sizes and temporary
//! paths redacted). A changed rendering fails; `cargo insta review` accepts it. Real engine, real
//! bubblewrap.

use kelp_magic::assert_result_snapshot;
use kelp_magic::testing::Cell;

/// Times (Unix seconds, elapsed seconds) in the JSON and the text.
const TIMES: [(&str, &str); 4] = [
    (r#""(dateCreated|dateStarted|dateFinished|elapsed)": [0-9.]+"#, r#""$1": [TIME]"#),
    (r"\(\d+\.\d s\)", "([SECS] s)"),
    (r" +\d+\.\d s", " [SECS] s"),
    (r"<td>\d+\.\d s</td>", "<td>[SECS] s</td>"),
];

/// What a job just started may be at (queued, provisioning or already running).
const EARLY: [(&str, &str); 4] = [
    (r#""status": (0|1|20|30|40),"#, r#""status": [EARLY],"#),
    (r#""statusText": "[^"]*""#, r#""statusText": "[EARLY]""#),
    (r"\b(0|1|20|30|40) (Job started|Job queued|Configuring volumes|Provisioning data|Running algorithm)\b", "[EARLY]"),
    (r#""dateStarted": null"#, r#""dateStarted": [TIME]"#),
];

const ALGO: &str = "import os\nprint('reef survey', flush=True)\nopen('/data/outputs/count.txt', 'w').write('3\\n')\n";

/// A job's id (full and short), its times, and the sandbox limits this machine can enforce
/// (they differ with cgroups, privileges and tools).
pub(crate) fn job_filters(id: &str) -> Vec<(String, String)> {
    // The limits first: their lines name the job.
    let mut f = vec![
        (r#""limits": \[[^\]]*\]"#.to_string(), r#""limits": [LIMITS]"#.to_string()),
        (kelp_magic::testing::regex_literal(id), "[JOB-ID]".to_string()),
        (format!(r"\b{}\b", kelp_magic::testing::regex_literal(&id[..8])), "[JOB]".to_string()),
    ];
    f.extend(TIMES.iter().map(|(a, b)| (a.to_string(), b.to_string())));
    f
}

fn cell() -> Cell {
    let c = Cell::new(kelp_c2d::magics());
    c.write("reefs.csv", "site,count\nA,3\n");
    c.write("count.py", ALGO);
    c
}

/// `assert_result_snapshot!` with more filters (regex, placeholder), applied first.
pub(crate) fn snap(name: &str, out: &kelp_magic::Output, c: &Cell, filters: Vec<(String, String)>) {
    let mut settings = insta::Settings::clone_current();
    for (a, b) in &filters {
        settings.add_filter(a, b.as_str());
    }
    settings.bind(|| assert_result_snapshot!(name, out, c));
}

#[tokio::test]
async fn a_job_from_start_to_result() {
    let c = cell();
    let list = c.ok("c2d list").await;
    assert_result_snapshot!("c2d_list_empty", &list, c);

    let done = c.ok("c2d start --dataset reefs.csv --algorithm count.py --param depth=10 --timeout 30s --wait").await;
    let id = done.json().unwrap()["jobId"].as_str().unwrap().to_string();
    assert_eq!(done.json().unwrap()["status"], 70, "{done:?}");
    snap("c2d_start_wait", &done, &c, job_filters(&id));
    snap("c2d_status", &c.ok(&format!("c2d status {id}")).await, &c, job_filters(&id));
    snap("c2d_list", &c.ok("c2d list").await, &c, job_filters(&id));
    snap("c2d_logs", &c.ok(&format!("c2d logs {id}")).await, &c, job_filters(&id));
    let followed = c.next().ok(&format!("c2d logs {id} -f")).await;
    snap("c2d_logs_follow", &followed, &c, job_filters(&id));
    snap("c2d_result", &c.ok(&format!("c2d result {id}")).await, &c, job_filters(&id));
    snap("c2d_stop_ended", &c.ok(&format!("c2d stop {id}")).await, &c, job_filters(&id));
}

#[tokio::test]
async fn a_job_started_then_stopped() {
    let c = cell();
    c.write("slow.sh", "echo waiting\nsleep 30\n");
    let started = c.ok("c2d start --dataset reefs.csv --algorithm slow.sh --timeout 60s").await;
    let id = started.json().unwrap()["jobId"].as_str().unwrap().to_string();
    let mut f = job_filters(&id);
    f.extend(EARLY.iter().map(|(a, b)| (a.to_string(), b.to_string())));
    snap("c2d_start", &started, &c, f);
    // Stop it once it runs (its first line is in the log), so the stop is always of a running job.
    for _ in 0..400 {
        let log = c.ok(&format!("c2d logs {id}")).await;
        if log.plain().unwrap_or_default().contains("waiting") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let stopped = c.ok(&format!("c2d stop {id}")).await;
    assert_eq!(stopped.json().unwrap()["failure"]["kind"], "stopped", "{stopped:?}");
    // The log holds what the algorithm printed before the stop, and the stop's line.
    snap("c2d_stop", &stopped, &c, job_filters(&id));
}

#[tokio::test]
async fn the_local_environment() {
    let c = cell();
    let envs = c.ok("c2d envs").await;
    let j = envs.json().unwrap();
    assert_eq!((j["environments"][0]["where"].as_str(), j["environments"][0]["node"].is_null()), (Some("local"), true));
    // Sizes of this machine (CPUs, memory, disk) and the slots in use.
    let sizes = vec![
        (r#""(total|max|inUse|used|free|running)": [0-9.]+"#.to_string(), r#""$1": [N]"#.to_string()),
        (r"\b(cpu|ram|disk) [0-9.]+".to_string(), "$1 [N]".to_string()),
        (r#""(maxJobs|runningJobs|queuedJobs)": \d+"#.to_string(), r#""$1": [N]"#.to_string()),
    ];
    snap("c2d_envs", &envs, &c, sizes);
}
