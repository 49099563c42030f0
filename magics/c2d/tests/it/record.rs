//! Provenance records of `%c2d` (issue #14): a real sandboxed job through the seam; `start`
//! records its dataset and algorithm with their sha256 and the job, `result` the job and each
//! output file with its sha256 (not the log).

use kelp_magic::testing::Cell;
use kelp_magic::{Item, sha256_hex};

#[tokio::test]
async fn start_and_result_record_inputs_job_and_outputs() {
    let c = Cell::new(kelp_c2d::magics());
    let algo = "import json, os\nd = json.loads(os.environ['DIDS'])[0]\nn = open(f'/data/inputs/{d}/0').read().split()\nprint('sum')\nopen('/data/outputs/sum.txt', 'w').write(str(sum(map(int, n))))\n";
    c.write("nums.txt", "1\n2\n3\n");
    c.write("sum.py", algo);
    let out = c.ok("c2d start --dataset nums.txt --algorithm sum.py --timeout 30s --wait").await;
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

    let r = c.ok(&format!("c2d result {job} -o res")).await.record.expect("result records");
    assert_eq!(r.reads, vec![Item::C2dJob { job_id: job.clone(), result_cids: vec![] }]);
    assert_eq!(r.writes, vec![Item::Path { path: "res/sum.txt".into(), sha256: Some(sha256_hex(b"6")) }]);

    assert!(c.ok(&format!("c2d status {job}")).await.record.is_none(), "status records nothing");
}
