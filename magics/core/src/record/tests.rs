use super::*;
use serde_json::json;

fn schema_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/schema/kelp-record.schema.json")
}

/// The committed schema is the one the types give (KELP_UPDATE_SCHEMA=1 rewrites it).
#[test]
fn committed_schema_matches_the_types() {
    let mut schema = serde_json::to_value(schemars::schema_for!(Record)).unwrap();
    schema["$id"] = json!("https://example.invalid/kelp/kelp-record.schema.json");
    schema["title"] = json!("kelp provenance record (metadata.kelp of a Jupyter output)");
    let text = serde_json::to_string_pretty(&schema).unwrap() + "\n";
    if std::env::var_os("KELP_UPDATE_SCHEMA").is_some() {
        std::fs::write(schema_path(), &text).unwrap();
    }
    let committed = std::fs::read_to_string(schema_path()).expect("docs/schema/kelp-record.schema.json");
    assert_eq!(committed, text, "schema out of date: run with KELP_UPDATE_SCHEMA=1 and commit it");
}

#[test]
fn json_shape_of_every_item() {
    let r = Record::magic()
        .with_call("%", "ipfs", "add data.csv", None)
        .read(Item::Path { path: "data.csv".into(), sha256: Some("ab".into()) })
        .read(Item::url("https://u:p@h.example/x?token=abc&x=1", None))
        .wrote(Item::cid("bafy"))
        .wrote(Item::did("did:op:1"))
        .wrote(Item::Tx { hash: "0x1".into(), chain_id: 8996 })
        .wrote(Item::C2dJob { job_id: "j".into(), result_cids: vec!["bafr".into()] });
    let j = r.to_json();
    assert_eq!(j["format"], 1);
    assert_eq!(j["kind"], "magic");
    assert_eq!(j["magic"], "%ipfs add data.csv");
    assert_eq!(j["reads"][0], json!({"type": "path", "path": "data.csv", "sha256": "ab"}));
    assert_eq!(j["reads"][1], json!({"type": "url", "url": "https://h.example/x?token=REDACTED&x=1"}));
    assert_eq!(j["writes"][2], json!({"type": "tx", "hash": "0x1", "chain_id": 8996}));
    assert_eq!(j["writes"][3], json!({"type": "c2d_job", "job_id": "j", "result_cids": ["bafr"]}));
    let back: Record = serde_json::from_value(j).unwrap();
    assert_eq!(back, r);
    // unknown fields are refused, so a typo cannot pass as a record
    assert!(serde_json::from_value::<Record>(json!({"format": 1, "kelp": "0", "kind": "rust", "x": 1})).is_err());
}

#[test]
fn file_items_hash_and_relativise() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("a.txt"), b"abc").unwrap();
    let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    assert_eq!(Item::file(d.path(), Path::new("a.txt")), Item::Path { path: "a.txt".into(), sha256: Some(abc.into()) });
    assert_eq!(
        Item::file(d.path(), &d.path().join("a.txt")),
        Item::Path { path: "a.txt".into(), sha256: Some(abc.into()) }
    );
    assert_eq!(Item::file(d.path(), Path::new("/")), Item::Path { path: "/".into(), sha256: None });
    assert_eq!(sha256_hex(b"abc"), abc);
}

#[test]
fn secrets_never_recorded() {
    assert_eq!(redact("http://alice:hunter2@node:5001/api"), "http://node:5001/api");
    assert_eq!(redact("https://x/y?api_key=s3&sig=t&page=2#f"), "https://x/y?api_key=REDACTED&sig=REDACTED&page=2#f");
    assert_eq!(redact("data.csv"), "data.csv");
    // API keys in the path, as RPC providers put them; CIDs and ordinary paths stay.
    assert_eq!(
        redact("https://mainnet.infura.io/v3/0123456789abcdef0123456789abcdef"),
        "https://mainnet.infura.io/v3/REDACTED"
    );
    assert_eq!(
        redact("https://eth-mainnet.g.alchemy.com/v2/Ab_cD-1234567890xyzW"),
        "https://eth-mainnet.g.alchemy.com/v2/REDACTED"
    );
    assert_eq!(redact("https://rpc.example/x/00112233445566778899aabbccddeeff"), "https://rpc.example/x/REDACTED");
    let cid = "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi";
    assert_eq!(redact(&format!("https://gw.example/ipfs/{cid}/a.csv")), format!("https://gw.example/ipfs/{cid}/a.csv"));
    assert_eq!(redact("https://api.example/v2/items"), "https://api.example/v2/items");
    let r = Record::magic().with_call("%", "ipfs", "add x --to kubo=http://u:s3cr3t@h:5001", None);
    assert!(!r.magic.unwrap().contains("s3cr3t"));
}

#[test]
fn rust_record_hashes_source() {
    let r = Record::rust("abc");
    assert_eq!(r.kind, RecordKind::Rust);
    assert_eq!(r.source_sha256.as_deref(), Some("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    let c = Record::magic().with_call("%%", "file", "x.txt", Some("abc"));
    assert_eq!(c.magic.as_deref(), Some("%%file x.txt"));
    assert_eq!(c.source_sha256, r.source_sha256);
}

#[test]
fn source_words_become_items() {
    let d = tempfile::tempdir().unwrap();
    let v0 = "QmPnnvFkvSCmPvMdMtSNbXrFWQX5XYc4YkcVU4cujyyH8Z";
    let v1 = "bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq";
    assert_eq!(source_item(d.path(), v0), Item::cid(v0));
    assert_eq!(source_item(d.path(), &format!("/ipfs/{v1}")), Item::cid(v1));
    assert_eq!(source_item(d.path(), "did:op:ab"), Item::did("did:op:ab"));
    assert_eq!(source_item(d.path(), "https://x/y"), Item::url("https://x/y", None));
    assert_eq!(source_item(d.path(), "algo.py"), Item::Path { path: "algo.py".into(), sha256: None });
}

#[tokio::test]
async fn recorded_wrapper_attaches_the_family_record() {
    use crate::{Config, MagicContext, RecordingSink};
    struct Echo;
    #[async_trait::async_trait]
    impl Magic for Echo {
        fn name(&self) -> &'static str {
            "echo"
        }
        fn summary(&self) -> &'static str {
            "echo"
        }
        fn command(&self) -> clap::Command {
            clap::Command::new("echo").arg(clap::Arg::new("cid"))
        }
        async fn run(&self, call: MagicCall, _: &MagicContext) -> crate::Result<Output> {
            Ok(Output::text(call.line.clone()))
        }
    }
    fn make(call: &MagicCall, _: &MagicContext, out: &Output) -> Option<Record> {
        Some(Record::magic().read(Item::cid(out.plain()?)).read(Item::cid(&call.args[0])))
    }
    let m = Recorded::new(Arc::new(Echo), make);
    let ctx = MagicContext::new("/", Config::at("/h"), RecordingSink::new());
    let out = m.run(MagicCall::from_line("echo Qm1", None).unwrap(), &ctx).await.unwrap();
    assert_eq!(out.record.unwrap().reads, vec![Item::cid("Qm1")]);
    assert_eq!(m.name(), "echo");
}
