//! Provenance records of `%c2d` (issue #14): a real sandboxed job through the seam; `start`
//! records its dataset and algorithm with their sha256 and the job, `result` the job and each
//! output file with its sha256 (not the log).

use kelp_magic::{Config, Item, MagicCall, MagicContext, RecordingSink, sha256_hex};

#[tokio::test]
async fn start_and_result_record_inputs_job_and_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = MagicContext::new(dir.path(), Config::at(dir.path().join("home")), RecordingSink::new());
    let magic = kelp_c2d::magics().into_iter().next().unwrap();
    let algo = "import json, os\nd = json.loads(os.environ['DIDS'])[0]\nn = open(f'/data/inputs/{d}/0').read().split()\nprint('sum')\nopen('/data/outputs/sum.txt', 'w').write(str(sum(map(int, n))))\n";
    std::fs::write(dir.path().join("nums.txt"), "1\n2\n3\n").unwrap();
    std::fs::write(dir.path().join("sum.py"), algo).unwrap();
    let run = |line: String| {
        let (m, c) = (magic.clone(), ctx.clone());
        async move { m.run(MagicCall::from_line(&line, None).unwrap(), &c).await.unwrap_or_else(|e| panic!("{line}: {e}")) }
    };
    let out = run("c2d start --dataset nums.txt --algorithm sum.py --timeout 30s --wait".into()).await;
    let job = out.json().unwrap()["jobId"].as_str().unwrap().to_string();
    let r = out.record.expect("start records");
    assert_eq!(
        r.reads,
        vec![
            Item::Path { path: "nums.txt".into(), sha256: Some(sha256_hex(b"1\n2\n3\n")) },
            Item::Path { path: "sum.py".into(), sha256: Some(sha256_hex(algo.as_bytes())) },
        ]
    );
    assert_eq!(r.writes, vec![Item::C2dJob { job_id: job.clone(), result_cids: vec![] }]);
    assert_eq!(r.uncheckable, None, "a local job can be re-run");

    let r = run(format!("c2d result {job} -o res")).await.record.expect("result records");
    assert_eq!(r.reads, vec![Item::C2dJob { job_id: job.clone(), result_cids: vec![] }]);
    assert_eq!(r.writes, vec![Item::Path { path: "res/sum.txt".into(), sha256: Some(sha256_hex(b"6")) }]);

    assert!(run(format!("c2d status {job}")).await.record.is_none(), "status records nothing");
}
