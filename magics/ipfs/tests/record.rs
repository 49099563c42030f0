//! Provenance records of `%ipfs` results (issue #14): every content-moving subcommand says what
//! it read and wrote; settings record nothing. Through the registry, as the kernel runs it.

use kelp_magic::{Config, Item, MagicCall, MagicContext, Output, RecordKind, RecordingSink, Registry, sha256_hex};
use std::path::Path;

fn ctx(dir: &Path) -> MagicContext {
    MagicContext::new(dir, Config::at(dir.join("home")), RecordingSink::new())
}

async fn ok(c: &MagicContext, line: &str) -> Output {
    let mut reg = Registry::new();
    for m in kelp_ipfs::magics() {
        reg.register(m);
    }
    let mut call = MagicCall::from_line(line, None).unwrap();
    call.bind = Some("x".into());
    reg.run(call, false, c).await.unwrap_or_else(|e| panic!("{line}: {e}"))
}

#[tokio::test]
async fn content_subcommands_record_reads_and_writes() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("hello.txt"), b"hello ipfs").unwrap();
    let c = ctx(dir.path());
    let cid = "QmPnnvFkvSCmPvMdMtSNbXrFWQX5XYc4YkcVU4cujyyH8Z";
    let file = Item::Path { path: "hello.txt".into(), sha256: Some(sha256_hex(b"hello ipfs")) };

    let r = ok(&c, "ipfs add hello.txt").await.record.expect("add records");
    assert_eq!(r.kind, RecordKind::Magic);
    assert_eq!(r.magic.as_deref(), Some("%ipfs add hello.txt"));
    assert_eq!(r.binds.as_deref(), Some("x"));
    assert_eq!(r.reads, vec![file.clone()]);
    assert_eq!(r.writes, vec![Item::cid(cid)]);

    let r = ok(&c, &format!("ipfs cat {cid}")).await.record.unwrap();
    assert_eq!((r.reads, r.writes), (vec![Item::cid(cid)], vec![]));

    let r = ok(&c, &format!("ipfs get {cid} -o copy.txt")).await.record.unwrap();
    assert_eq!(r.reads, vec![Item::cid(cid)]);
    assert_eq!(r.writes, vec![Item::Path { path: "copy.txt".into(), sha256: Some(sha256_hex(b"hello ipfs")) }]);

    let r = ok(&c, &format!("ipfs car export {cid} -o h.car")).await.record.unwrap();
    let car = std::fs::read(dir.path().join("h.car")).unwrap();
    assert_eq!(r.writes, vec![Item::Path { path: "h.car".into(), sha256: Some(sha256_hex(&car)) }]);
    let r = ok(&c, "ipfs car import h.car").await.record.unwrap();
    assert_eq!(r.reads, vec![Item::Path { path: "h.car".into(), sha256: Some(sha256_hex(&car)) }]);
    assert_eq!(r.writes, vec![Item::cid(cid)]);

    assert!(ok(&c, "ipfs pin ls").await.record.is_none(), "listings record nothing");
    assert!(ok(&c, "ipfs config show").await.record.is_none(), "settings record nothing");
}
