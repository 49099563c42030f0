//! Bench (figures, not a test): submit → result time of trivial local C2D jobs in the real
//! bubblewrap sandbox. Run: `cargo run -p kelp-c2d --example c2d_bench [N]`.

use kelp_c2d::{AlgorithmSpec, DatasetInput, Engine, JobSpec, Status};
use std::time::{Duration, Instant};

fn main() {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(20);
    let dir = tempfile::tempdir().expect("temp dir");
    let engine = Engine::open(dir.path().join("c2d")).expect("engine");
    let data = dir.path().join("data.csv");
    std::fs::write(&data, "a,b\n1,2\n").expect("data");
    let sh = dir.path().join("algo.sh");
    std::fs::write(&sh, "wc -l /data/inputs/data.csv/0 > /data/outputs/count.txt\n").expect("algo");
    let py = dir.path().join("algo.py");
    std::fs::write(&py, "import json\njson.dump({'ok': True}, open('/data/outputs/r.json', 'w'))\n").expect("algo");
    println!("kelp-c2d bench: {n} jobs each, submit → result (outputs.tar ready), local bubblewrap engine");
    for (label, algo) in [("shell script", &sh), ("python3 script", &py)] {
        let mut times = vec![];
        for _ in 0..n {
            let t = Instant::now();
            let spec = JobSpec::new(vec![DatasetInput::path(&data)], AlgorithmSpec::path(algo));
            let id = engine.submit(spec).expect("submit");
            let rec = engine.wait(&id, Duration::from_secs(60)).expect("wait");
            assert_eq!(rec.status, Status::JobFinished, "{rec:?}");
            engine.result_file(&id, 1).expect("outputs.tar");
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(f64::total_cmp);
        let median = times[times.len() / 2];
        println!(
            "  {label:<15} min {:7.1} ms   median {median:7.1} ms   max {:7.1} ms",
            times[0],
            times[times.len() - 1]
        );
    }
}
