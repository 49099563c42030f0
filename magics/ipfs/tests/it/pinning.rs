//! `--to pin:NAME` against kelp-testkit's `FakePinningService` (a fake of the remote Pinning Service API v1,
//! named as such): add, pin ls/rm, credentials from the session env or the config, never shown;
//! wrong token and unknown service give one clear line.

use crate::support::cell;
use kelp_magic::Output;
use kelp_testkit::FakePinningService;

const TOKEN: &str = "secret-token-0123456789";

fn all_text(o: &Output) -> String {
    serde_json::to_string(&o.data).unwrap()
}

#[tokio::test]
async fn add_list_remove_through_the_pinning_api() {
    let fake = FakePinningService::start(TOKEN).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("hello.txt"), b"hello ipfs").unwrap();
    let c = cell(dir.path());
    c.env.set("KELP_PIN_FAKE_ENDPOINT", Some(fake.url.clone()));
    c.env.set("KELP_PIN_FAKE_TOKEN", Some(TOKEN.into()));

    let out = c.run("ipfs add hello.txt --to pin:fake").await.unwrap();
    let j = out.json().unwrap();
    let cid = "QmPnnvFkvSCmPvMdMtSNbXrFWQX5XYc4YkcVU4cujyyH8Z";
    assert_eq!(
        (j["cid"].as_str(), j["backend"].as_str(), j["status"].as_str()),
        (Some(cid), Some("pin"), Some("queued"))
    );
    assert_eq!(j["requestid"], "fake-req-1");
    assert_eq!(out.value.as_ref().unwrap().expr, format!("String::from(\"{cid}\")"));
    assert_eq!(fake.pinned_cids(), vec![cid.to_string()]);
    assert!(!all_text(&out).contains(TOKEN));
    // Stored locally too (the data must live somewhere the service can fetch it from).
    assert_eq!(c.run(&format!("ipfs cat {cid}")).await.unwrap().plain(), Some("hello ipfs"));

    let ls = c.run("ipfs pin ls --to pin:fake").await.unwrap();
    let pins = ls.json().unwrap()["pins"].as_array().unwrap().clone();
    assert_eq!(pins.len(), 1);
    assert_eq!(
        (pins[0]["cid"].as_str(), pins[0]["status"].as_str(), pins[0]["name"].as_str()),
        (Some(cid), Some("pinned"), Some("hello.txt"))
    );

    let rm = c.run(&format!("ipfs pin rm {cid} --to pin:fake")).await.unwrap();
    assert_eq!(rm.json().unwrap()["removed"], true);
    assert!(fake.pinned_cids().is_empty());
    assert!(fake.seen_auth().iter().all(|a| a == &format!("Bearer {TOKEN}")));
}

#[tokio::test]
async fn credentials_from_config_are_never_shown() {
    let fake = FakePinningService::start(TOKEN).await;
    let dir = tempfile::tempdir().unwrap();
    let c = cell(dir.path());
    c.run(&format!("ipfs config set pin.svc.endpoint {}", fake.url)).await.unwrap();
    let set = c.run(&format!("ipfs config set pin.svc.token {TOKEN}")).await.unwrap();
    assert!(!all_text(&set).contains(TOKEN), "{}", all_text(&set));
    assert_eq!(set.json().unwrap()["pin_services"]["svc"]["token"], "set");
    let show = c.run("ipfs config show").await.unwrap();
    assert!(!all_text(&show).contains(TOKEN));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("home/ipfs/config.json")).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "config with a token is private to the user");
    }
    let cid = "bafkreichphvmdj4uyj3x4bwnmmaor6vdqanqlencshsyd4wwuigbt7jy3i";
    let out = c.run(&format!("ipfs pin add {cid} --name doc --to pin:svc")).await.unwrap();
    assert_eq!(out.json().unwrap()["requestid"], "fake-req-1");
    assert_eq!(fake.pinned_cids(), vec![cid.to_string()]);
}

#[tokio::test]
async fn wrong_token_unknown_service_and_service_down_are_one_line() {
    let fake = FakePinningService::start(TOKEN).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("x.txt"), b"x").unwrap();
    let c = cell(dir.path());
    c.env.set("KELP_PIN_FAKE_ENDPOINT", Some(fake.url.clone()));
    c.env.set("KELP_PIN_FAKE_TOKEN", Some("wrong-token-value".into()));
    let e = c.run("ipfs pin ls --to pin:fake").await.unwrap_err().to_string();
    assert!(
        e.contains("HTTP 401")
            && e.contains("KELP_PIN_FAKE_TOKEN")
            && !e.contains("wrong-token-value")
            && !e.contains('\n'),
        "{e}"
    );

    let e = c.run("ipfs add x.txt --to pin:nosuch").await.unwrap_err().to_string();
    assert!(e.contains("not configured") && e.contains("KELP_PIN_NOSUCH_ENDPOINT"), "{e}");

    c.env.set("KELP_PIN_DOWN_ENDPOINT", Some("http://127.0.0.1:9".into()));
    c.env.set("KELP_PIN_DOWN_TOKEN", Some(TOKEN.into()));
    let e = c.run("ipfs pin ls --to pin:down").await.unwrap_err().to_string();
    assert!(e.contains("not reachable") && !e.contains(TOKEN), "{e}");

    c.env.set("KELP_PIN_NOTOKEN_ENDPOINT", Some(fake.url.clone()));
    let e = c.run("ipfs pin ls --to pin:notoken").await.unwrap_err().to_string();
    assert!(e.contains("has no token"), "{e}");
}
