//! `--to lighthouse` (Filecoin onramp, Kubo-style add with a Bearer API key) against
//! kelp-testkit's `FakeLighthouse`, a fake of the remote service following its published API.

use crate::support::cell;
use kelp_testkit::FakeLighthouse;

const KEY: &str = "lh-api-key-0123456789abcdef";

/// The CID Lighthouse's Kubo node gives one uploaded file (Kubo's defaults for the version).
fn kubo_cid(_name: &str, bytes: &[u8], cid_version: u8) -> String {
    let opts = kelp_ipfs::AddOptions { cid_version, ..kelp_ipfs::AddOptions::default() };
    kelp_ipfs::cid_of_bytes(bytes, &opts).unwrap().to_string()
}

#[tokio::test]
async fn upload_to_lighthouse_reports_the_same_cid() {
    let fake = FakeLighthouse::start(KEY, kubo_cid).await;
    let dir = tempfile::tempdir().unwrap();
    let data: Vec<u8> = (0..700_000u32).map(|i| (i % 241) as u8).collect();
    std::fs::write(dir.path().join("data.bin"), &data).unwrap();
    let c = cell(dir.path());
    c.env.set("KELP_LIGHTHOUSE_URL", Some(fake.url.clone()));
    c.env.set("KELP_LIGHTHOUSE_TOKEN", Some(KEY.into()));
    let out = c.run("ipfs add data.bin --cid-version 1 --to lighthouse").await.unwrap();
    let j = out.json().unwrap();
    let local =
        kelp_ipfs::cid_of_bytes(&data, &kelp_ipfs::AddOptions { cid_version: 1, ..Default::default() }).unwrap();
    assert_eq!(j["cid"], local.to_string());
    assert_eq!((j["backend"].as_str(), j["matches_local"].as_bool()), (Some("lighthouse"), Some(true)));
    assert_eq!(fake.uploads(), vec![("data.bin".to_string(), data)]);
    assert!(!serde_json::to_string(&out.data).unwrap().contains(KEY));

    c.env.set("KELP_LIGHTHOUSE_TOKEN", Some("not-the-key".into()));
    let e = c.run("ipfs add data.bin --to lighthouse").await.unwrap_err().to_string();
    assert!(e.contains("Lighthouse") && e.contains("401") && !e.contains("not-the-key") && !e.contains('\n'), "{e}");
    c.env.set("KELP_LIGHTHOUSE_TOKEN", None);
    let e = c.run("ipfs add data.bin --to lighthouse").await.unwrap_err().to_string();
    assert!(e.contains("KELP_LIGHTHOUSE_TOKEN"), "{e}");
    let e = c
        .run("ipfs cat bafkreichphvmdj4uyj3x4bwnmmaor6vdqanqlencshsyd4wwuigbt7jy3i --to lighthouse")
        .await
        .unwrap_err();
    assert!(e.to_string().contains("add only"), "{e}");
}
