//! Snapshots of every `%ipfs` subcommand's result, all three renderings (text, HTML, JSON) in
//! one `.snap` per case under tests/it/snapshots/ (insta; CIDs, peer ids, hashes, times, ports
//! and temporary paths redacted). A changed rendering fails; `cargo insta review` accepts it.
//! Remote targets run against kelp-testkit's fakes of the remote services (named as fakes).

use crate::support::cell;
use kelp_magic::assert_result_snapshot;
use kelp_magic::testing::Cell;
use kelp_testkit::{FakeLighthouse, FakePinningService};

/// Seconds since the epoch in a local pin, and loopback ports of the fakes and the gateway.
const CREATED: (&str, &str) = (r#""created": \d+"#, r#""created": [EPOCH-SECS]"#);
const LOOPBACK: (&str, &str) = (r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]");

fn files() -> (tempfile::TempDir, Cell) {
    let dir = tempfile::tempdir().unwrap();
    let c = cell(dir.path());
    c.write("hello.txt", "hello ipfs\n");
    c.write("bin.dat", [0u8, 159, 146, 150, 255]);
    c.write("tree/a.txt", "alpha\n");
    c.write("tree/sub/b.txt", "bravo\n");
    (dir, c)
}

#[tokio::test]
async fn add_cat_get_ls_stat_gc() {
    let (_d, c) = files();
    let add = c.ok("ipfs add hello.txt").await;
    assert_result_snapshot!("ipfs_add", &add, c);
    let cid = add.json().unwrap()["cid"].as_str().unwrap().to_string();
    let tree = c.ok("ipfs add -r tree --cid-version 1").await;
    assert_result_snapshot!("ipfs_add_recursive", &tree, c);
    let root = tree.json().unwrap()["cid"].as_str().unwrap().to_string();
    let enc = c.ok("ipfs add hello.txt --encrypt --show-key --pin=false").await;
    assert_result_snapshot!("ipfs_add_encrypt", &enc, c);

    assert_result_snapshot!("ipfs_cat", &c.ok(&format!("ipfs cat {cid} --offset 6")).await, c);
    let bin = c.ok("ipfs add bin.dat").await.json().unwrap()["cid"].as_str().unwrap().to_string();
    assert_result_snapshot!("ipfs_cat_binary", &c.ok(&format!("ipfs cat {bin}")).await, c);
    assert_result_snapshot!("ipfs_get", &c.ok(&format!("ipfs get {root} -o copy")).await, c);
    assert_result_snapshot!("ipfs_ls", &c.ok(&format!("ipfs ls {root}")).await, c);
    assert_result_snapshot!("ipfs_stat", &c.ok(&format!("ipfs stat {cid}")).await, c);
    c.ok(&format!("ipfs pin rm {bin}")).await;
    assert_result_snapshot!("ipfs_gc", &c.ok("ipfs gc").await, c);
}

#[tokio::test]
async fn pins_and_cars() {
    let (_d, c) = files();
    let cid = c.ok("ipfs add hello.txt --pin=false").await.json().unwrap()["cid"].as_str().unwrap().to_string();
    assert_result_snapshot!("ipfs_pin_add", &c.ok(&format!("ipfs pin add {cid} --name greeting")).await, c);
    c.ok("ipfs add -r tree").await;
    assert_result_snapshot!("ipfs_pin_ls", &c.ok("ipfs pin ls").await, c, [CREATED]);
    assert_result_snapshot!("ipfs_pin_rm", &c.ok(&format!("ipfs pin rm {cid}")).await, c);
    assert_result_snapshot!("ipfs_pin_rm_not_pinned", &c.ok(&format!("ipfs pin rm {cid}")).await, c);
    assert_result_snapshot!("ipfs_pin_ls_empty", &c.next().with_home(c.dir().join("h2")).ok("ipfs pin ls").await, c);

    let export = c.ok(&format!("ipfs car export {cid} -o hello.car --commp")).await;
    assert_result_snapshot!("ipfs_car_export", &export, c);
    let fresh = c.next().with_home(c.dir().join("fresh"));
    assert_result_snapshot!("ipfs_car_import", &fresh.ok("ipfs car import hello.car").await, c);
}

#[tokio::test]
async fn config_show_and_set() {
    let (_d, c) = files();
    for v in ["KELP_IPFS_NETWORK", "KELP_IPFS_PEERS", "KELP_IPFS_GATEWAYS", "KELP_IPFS_DHT"] {
        c.env(v, None);
    }
    assert_result_snapshot!("ipfs_config_show", &c.ok("ipfs config show").await, c);
    c.ok("ipfs config set gateway http://gw.example").await;
    c.ok("ipfs config set pin.fake.endpoint https://pins.example/api").await;
    let set = c.ok("ipfs config gateways https://a.example,https://b.example").await;
    assert_result_snapshot!("ipfs_config_set", &set, c);
}

#[tokio::test]
async fn serve_until_interrupted() {
    let (_d, c) = files();
    let run = c.clone();
    let task =
        tokio::spawn(async move { run.run("ipfs serve --gateway 127.0.0.1:0 --listen /ip4/127.0.0.1/tcp/0").await });
    // Both announced (gateway, then the Bitswap peer).
    for _ in 0..400 {
        if c.stdout().matches("interrupt to stop").count() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(c.stdout().contains("trustless gateway on http://127.0.0.1:"), "{}", c.stdout());
    assert!(c.stdout().contains("over Bitswap as peer 12D3KooW"), "{}", c.stdout());
    c.ctx.cancel.cancel();
    let out = task.await.unwrap().unwrap();
    let j = out.json().unwrap();
    assert!(j["listen"][0].as_str().unwrap().starts_with("/ip4/127.0.0.1/tcp/"), "{j}");
    let tcp = (r"/ip4/127\.0\.0\.1/tcp/\d+", "/ip4/127.0.0.1/tcp/[PORT]");
    assert_result_snapshot!("ipfs_serve", &out, c, [LOOPBACK, tcp]);
}

const TOKEN: &str = "secret-token-0123456789";

#[tokio::test]
async fn to_a_pinning_service() {
    let fake = FakePinningService::start(TOKEN).await;
    let (_d, c) = files();
    c.env("KELP_PIN_FAKE_ENDPOINT", Some(fake.url.as_str()));
    c.env("KELP_PIN_FAKE_TOKEN", Some(TOKEN));
    let add = c.ok("ipfs add hello.txt --to pin:fake").await;
    assert_result_snapshot!("ipfs_add_to_pin", &add, c);
    let cid = add.json().unwrap()["cid"].as_str().unwrap().to_string();
    let tree = c.ok("ipfs add -r tree --pin=false").await.json().unwrap()["cid"].as_str().unwrap().to_string();
    assert_result_snapshot!("ipfs_pin_add_to_pin", &c.ok(&format!("ipfs pin add {tree} --to pin:fake")).await, c);
    assert_result_snapshot!("ipfs_pin_ls_to_pin", &c.ok("ipfs pin ls --to pin:fake").await, c);
    assert_result_snapshot!("ipfs_pin_rm_to_pin", &c.ok(&format!("ipfs pin rm {cid} --to pin:fake")).await, c);
    assert!(!format!("{add:?}").contains(TOKEN));
}

#[tokio::test]
async fn to_lighthouse() {
    const KEY: &str = "lh-api-key-0123456789abcdef";
    let fake = FakeLighthouse::start(KEY, |_name: &str, bytes: &[u8], cid_version: u8| {
        let opts = kelp_ipfs::AddOptions { cid_version, ..kelp_ipfs::AddOptions::default() };
        kelp_ipfs::cid_of_bytes(bytes, &opts).unwrap().to_string()
    })
    .await;
    let (_d, c) = files();
    c.env("KELP_LIGHTHOUSE_URL", Some(fake.url.as_str()));
    c.env("KELP_LIGHTHOUSE_TOKEN", Some(KEY));
    let out = c.ok("ipfs add hello.txt --to lighthouse").await;
    assert!(!format!("{out:?}").contains(KEY));
    assert_result_snapshot!("ipfs_add_to_lighthouse", &out, c, [LOOPBACK]);
}
