//! Interop with a REAL js-ipfs 0.66.1 daemon (Kubo RPC), started and stopped here on a free
//! loopback port with a temporary IPFS_PATH (REFERENCE.md §2.1; tests/support/jsipfs_daemon.rs).
//!
//! Ignored in a plain `cargo test`; `install/test.d/30-ipfs.sh` runs it with `--ignored` after
//! `install/setup.d/30-ipfs.sh` installed js-ipfs. A missing js-ipfs is a test failure, never a skip.

use crate::support::cell;
use crate::support::jsipfs_daemon;
use jsipfs_daemon::start_daemon;
use kelp_ipfs::kubo::Kubo;
use kelp_ipfs::{AddOptions, Store, car, cid_of_path};
use std::path::Path;
use std::process::Command;

fn generate(dir: &Path) {
    std::fs::write(dir.join("hello.txt"), b"hello ipfs").unwrap();
    std::fs::write(dir.join("a_262145.bin"), vec![b'a'; 262_145]).unwrap();
    let f = std::fs::File::create(dir.join("rand5MiB.bin")).unwrap();
    let st = Command::new("python3")
        .arg("-c")
        .arg("import random;random.seed(42);import sys;sys.stdout.buffer.write(random.randbytes(5*1024*1024))")
        .stdout(f)
        .status()
        .unwrap();
    assert!(st.success());
    std::fs::create_dir_all(dir.join("testdir/sub")).unwrap();
    std::fs::write(dir.join("testdir/a.txt"), b"alpha\n").unwrap();
    std::fs::write(dir.join("testdir/b.txt"), b"bravo\n").unwrap();
    std::fs::write(dir.join("testdir/sub/c.txt"), b"charlie\n").unwrap();
}

fn columns() -> Vec<AddOptions> {
    let base = AddOptions { recursive: true, ..AddOptions::default() };
    vec![
        base.clone(),
        AddOptions { cid_version: 1, ..base.clone() },
        AddOptions { cid_version: 1, raw_leaves: Some(false), ..base.clone() },
        AddOptions { chunk_size: 1000, ..base.clone() },
        // unixfs-v1-2025: 1 MiB chunks (1024 links only matter above 1 GiB).
        AddOptions { recursive: true, ..AddOptions::profile("unixfs-v1-2025").unwrap() },
    ]
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the js-ipfs daemon; run by install/test.d/30-ipfs.sh with --ignored"]
async fn kelp_and_a_real_jsipfs_daemon_agree() {
    let daemon = start_daemon(false);
    let kubo = Kubo::new(&daemon.url).unwrap();
    assert_eq!(kubo.version().await.unwrap(), "0.18.1");
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path());

    // 1. The daemon reports the same CID as kelp's local import, for every flavour; cat via
    //    the daemon returns the same bytes.
    for name in ["hello.txt", "a_262145.bin", "rand5MiB.bin", "testdir"] {
        let path = dir.path().join(name);
        for o in columns() {
            let local = cid_of_path(&path, &o).unwrap().to_string();
            let lines = kubo.add_path(&path, &o).await.unwrap();
            assert_eq!(lines.last().unwrap().hash, local, "{name} {o:?}");
            if path.is_file() {
                assert_eq!(kubo.cat(&local, 0, None).await.unwrap(), std::fs::read(&path).unwrap(), "{name}");
            }
        }
    }

    // 1a. --wrap-with-directory, for a file and a directory.
    for name in ["hello.txt", "testdir"] {
        let o = AddOptions { recursive: true, wrap_with_directory: true, ..AddOptions::default() };
        let path = dir.path().join(name);
        let local = cid_of_path(&path, &o).unwrap().to_string();
        let lines = kubo.add_path(&path, &o).await.unwrap();
        assert_eq!(lines.last().unwrap().hash, local, "{name} -w");
    }

    // 1b. A 1001-entry directory: below Kubo's 256 KiB link estimate it stays a basic
    //     directory (js-ipfs 0.66's HTTP add does not shard it either), and both agree.
    let many = dir.path().join("many");
    std::fs::create_dir_all(&many).unwrap();
    for i in 0..1001 {
        std::fs::write(many.join(format!("entry-{i:04}.txt")), format!("{i}\n")).unwrap();
    }
    for o in &columns()[..2] {
        let local = cid_of_path(&many, o).unwrap().to_string();
        let lines = kubo.add_path(&many, o).await.unwrap();
        assert_eq!(lines.len(), 1002, "one line per file, then the directory");
        assert_eq!(lines.last().unwrap().hash, local, "1001-entry directory {o:?}");
    }

    // 2. Added into kelp's store, moved as a CAR: the daemon imports it and serves the bytes.
    let store = Store::open(&dir.path().join("store")).unwrap();
    let big = dir.path().join("rand5MiB.bin");
    let added = store.add_path(&big, &AddOptions { cid_version: 1, ..AddOptions::default() }).unwrap();
    let car_path = dir.path().join("r.car");
    car::export(&store, &added.cid, &mut std::fs::File::create(&car_path).unwrap()).unwrap();
    let roots = kubo.dag_import(&car_path).await.unwrap();
    assert_eq!(roots, vec![added.cid.to_string()]);
    assert_eq!(
        kubo.cat(&added.cid.to_string(), 1000, Some(50)).await.unwrap(),
        std::fs::read(&big).unwrap()[1000..1050]
    );
    let pins = kubo.pin_ls(Some(&added.cid.to_string())).await.unwrap();
    assert_eq!(pins.first().map(|p| p.0.as_str()), Some(added.cid.to_string().as_str()));

    // 3. Through the magic: add --to kubo, then get --to kubo into a fresh store (dag/export,
    //    verified on import) returns identical bytes.
    let home = tempfile::tempdir().unwrap();
    let c = cell(dir.path()).with_home(home.path());
    let out = c.ok(&format!("ipfs add -r testdir --to kubo={}", daemon.url)).await;
    let j = out.json().unwrap();
    assert_eq!(j["cid"], "QmQRiXcmgocXXUZHXdndiE9LSKM45YJnCFsyjjPmg2p8MN");
    assert_eq!(j["matches_local"], true);
    // The renderings of the Kubo-node results (snapshots beside tests/it/results.rs's).
    let port = (r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]");
    kelp_magic::assert_result_snapshot!("ipfs_add_to_kubo", &out, c, [port]);
    let pins = c.ok(&format!("ipfs pin ls --to kubo={}", daemon.url)).await;
    assert!(
        pins.json().unwrap()["pins"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["cid"] == j["cid"] && p["type"] == "recursive")
    );
    let out = c.ok(&format!("ipfs get {} -o fetched --to kubo={}", j["cid"].as_str().unwrap(), daemon.url)).await;
    assert_eq!(out.json().unwrap()["kind"], "directory");
    assert_eq!(std::fs::read(dir.path().join("fetched/sub/c.txt")).unwrap(), b"charlie\n");
    let cat = c.ok(&format!("ipfs cat {} --to kubo={}", added.cid, daemon.url)).await;
    assert_eq!(cat.json().unwrap()["length"], 5 * 1024 * 1024);

    // 4. Daemon down: one clear line.
    let url = daemon.url.clone();
    drop(daemon);
    let e = c.err(&format!("ipfs cat {} --to kubo={url}", added.cid)).await;
    assert!(e.contains("not reachable"), "{e}");
}
