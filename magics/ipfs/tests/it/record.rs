//! Provenance records of `%ipfs` results (issue #14): every content-moving subcommand says what
//! it read and wrote; settings record nothing. Through the registry, as the kernel runs it.

use crate::support::cell;
use kelp_magic::{Item, RecordKind, sha256_hex};

#[tokio::test]
async fn content_subcommands_record_reads_and_writes() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("hello.txt"), b"hello ipfs").unwrap();
    let c = cell(dir.path());
    let cid = "QmPnnvFkvSCmPvMdMtSNbXrFWQX5XYc4YkcVU4cujyyH8Z";
    let file = Item::Path { path: "hello.txt".into(), sha256: Some(sha256_hex(b"hello ipfs")) };

    let r = c.run_bound("ipfs add hello.txt", "x").await.unwrap().record.expect("add records");
    assert_eq!(r.kind, RecordKind::Magic);
    assert_eq!(r.magic.as_deref(), Some("%ipfs add hello.txt"));
    assert_eq!(r.binds.as_deref(), Some("x"));
    assert_eq!(r.reads, vec![file.clone()]);
    assert_eq!(r.writes, vec![Item::cid(cid)]);

    let r = c.run_bound(&format!("ipfs cat {cid}"), "x").await.unwrap().record.unwrap();
    assert_eq!((r.reads, r.writes), (vec![Item::cid(cid)], vec![]));

    let r = c.run_bound(&format!("ipfs get {cid} -o copy.txt"), "x").await.unwrap().record.unwrap();
    assert_eq!(r.reads, vec![Item::cid(cid)]);
    assert_eq!(r.writes, vec![Item::Path { path: "copy.txt".into(), sha256: Some(sha256_hex(b"hello ipfs")) }]);

    let r = c.run_bound(&format!("ipfs car export {cid} -o h.car"), "x").await.unwrap().record.unwrap();
    let car = std::fs::read(dir.path().join("h.car")).unwrap();
    assert_eq!(r.writes, vec![Item::Path { path: "h.car".into(), sha256: Some(sha256_hex(&car)) }]);
    let r = c.run_bound("ipfs car import h.car", "x").await.unwrap().record.unwrap();
    assert_eq!(r.reads, vec![Item::Path { path: "h.car".into(), sha256: Some(sha256_hex(&car)) }]);
    assert_eq!(r.writes, vec![Item::cid(cid)]);

    assert!(c.run_bound("ipfs pin ls", "x").await.unwrap().record.is_none(), "listings record nothing");
    assert!(c.run_bound("ipfs config show", "x").await.unwrap().record.is_none(), "settings record nothing");
}
