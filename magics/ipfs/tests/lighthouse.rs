//! `--to lighthouse` (Filecoin onramp, Kubo-style add with a Bearer API key) against
//! `fake_lighthouse`, a fake of the remote service following its published API.

mod support {
    pub mod fake_lighthouse;
}

use kelp_magic::{Config, MagicCall, MagicContext, MagicError, Output, RecordingSink};
use support::fake_lighthouse::FakeLighthouse;

const KEY: &str = "lh-api-key-0123456789abcdef";

async fn run(c: &MagicContext, line: &str) -> Result<Output, MagicError> {
    kelp_ipfs::magics().pop().unwrap().run(MagicCall::from_line(line, None).unwrap(), c).await
}

#[tokio::test]
async fn upload_to_lighthouse_reports_the_same_cid() {
    let fake = FakeLighthouse::start(KEY).await;
    let dir = tempfile::tempdir().unwrap();
    let data: Vec<u8> = (0..700_000u32).map(|i| (i % 241) as u8).collect();
    std::fs::write(dir.path().join("data.bin"), &data).unwrap();
    let c = MagicContext::new(dir.path(), Config::at(dir.path().join("home")), RecordingSink::new());
    c.env.set("KELP_LIGHTHOUSE_URL", Some(fake.url.clone()));
    c.env.set("KELP_LIGHTHOUSE_TOKEN", Some(KEY.into()));
    let out = run(&c, "ipfs add data.bin --cid-version 1 --to lighthouse").await.unwrap();
    let j = out.json().unwrap();
    let local =
        kelp_ipfs::cid_of_bytes(&data, &kelp_ipfs::AddOptions { cid_version: 1, ..Default::default() }).unwrap();
    assert_eq!(j["cid"], local.to_string());
    assert_eq!((j["backend"].as_str(), j["matches_local"].as_bool()), (Some("lighthouse"), Some(true)));
    assert_eq!(fake.uploads(), vec![("data.bin".to_string(), data)]);
    assert!(!serde_json::to_string(&out.data).unwrap().contains(KEY));

    c.env.set("KELP_LIGHTHOUSE_TOKEN", Some("not-the-key".into()));
    let e = run(&c, "ipfs add data.bin --to lighthouse").await.unwrap_err().to_string();
    assert!(e.contains("Lighthouse") && e.contains("401") && !e.contains("not-the-key") && !e.contains('\n'), "{e}");
    c.env.set("KELP_LIGHTHOUSE_TOKEN", None);
    let e = run(&c, "ipfs add data.bin --to lighthouse").await.unwrap_err().to_string();
    assert!(e.contains("KELP_LIGHTHOUSE_TOKEN"), "{e}");
    let e = run(&c, "ipfs cat bafkreichphvmdj4uyj3x4bwnmmaor6vdqanqlencshsyd4wwuigbt7jy3i --to lighthouse")
        .await
        .unwrap_err();
    assert!(e.to_string().contains("add only"), "{e}");
}
