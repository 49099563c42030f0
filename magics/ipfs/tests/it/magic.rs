//! The `%ipfs` magic end to end through the seam (kelp_magic::testing::Cell: the registry, a recording sink, isolated $KELP_HOME).

use crate::support::cell;
use kelp_magic::MagicError;

#[tokio::test]
async fn add_binds_the_cid_and_documents_json() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("hello.txt"), b"hello ipfs").unwrap();
    let c = cell(dir.path());
    let out = c.ok("ipfs add hello.txt").await;
    let cid = "QmPnnvFkvSCmPvMdMtSNbXrFWQX5XYc4YkcVU4cujyyH8Z";
    assert_eq!(out.value.as_ref().unwrap().expr, format!("String::from(\"{cid}\")"));
    let j = out.json().unwrap();
    assert_eq!(j["cid"], cid);
    assert_eq!(j["size"], 10);
    assert_eq!(j["tsize"], 18);
    assert_eq!(j["pinned"], true);
    assert_eq!(j["backend"], "local");
    assert_eq!(j["gateway_url"], format!("https://ipfs.io/ipfs/{cid}"));
    assert!(out.plain().unwrap().contains(cid));
    assert!(out.data["text/html"].as_str().unwrap().contains(&format!("https://ipfs.io/ipfs/{cid}")));
    assert!(dir.path().join("home/ipfs/pins").join(format!("{cid}.json")).exists());

    let v1 = c.ok("ipfs add hello.txt --cid-version 1").await;
    assert_eq!(v1.json().unwrap()["cid"], "bafkreichphvmdj4uyj3x4bwnmmaor6vdqanqlencshsyd4wwuigbt7jy3i");
    let v1pb = c.ok("ipfs add hello.txt --cid-version 1 --raw-leaves=false").await;
    assert_eq!(v1pb.json().unwrap()["cid"], "bafybeiavryjapagdqvas2k3sh525xoak32xdnq2xrf4n5gmcnkauju6b6y");
    let prof = c.ok("ipfs add hello.txt --profile unixfs-v1-2025").await;
    assert_eq!(prof.json().unwrap()["chunker"], "size-1048576");
    assert_eq!(prof.json().unwrap()["max_links"], 1024);
}

#[tokio::test]
async fn directory_cat_get_ls_stat_pin_car_gc() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("testdir/sub")).unwrap();
    std::fs::write(d.join("testdir/a.txt"), b"alpha\n").unwrap();
    std::fs::write(d.join("testdir/b.txt"), b"bravo\n").unwrap();
    std::fs::write(d.join("testdir/sub/c.txt"), b"charlie\n").unwrap();
    let c = cell(d);
    assert!(c.err("ipfs add testdir").await.contains("-r"));
    let root = "QmQRiXcmgocXXUZHXdndiE9LSKM45YJnCFsyjjPmg2p8MN";
    let out = c.ok("ipfs add -r testdir").await;
    assert_eq!(out.json().unwrap()["cid"], root);
    assert_eq!(out.json().unwrap()["entries"].as_array().unwrap().len(), 5);
    let wrapped = c.ok("ipfs add -r -w testdir").await;
    assert_ne!(wrapped.json().unwrap()["cid"], root);
    assert_eq!(wrapped.json().unwrap()["entries"].as_array().unwrap().last().unwrap()["path"], "");

    let ls = c.ok(&format!("ipfs ls {root}")).await;
    let names: Vec<_> = ls.json().unwrap()["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["a.txt", "b.txt", "sub"]);
    let a_cid = ls.json().unwrap()["entries"][0]["cid"].as_str().unwrap().to_string();
    let cat = c.ok(&format!("ipfs cat {a_cid}")).await;
    assert_eq!(cat.plain(), Some("alpha\n"));
    let part = c.ok(&format!("ipfs cat /ipfs/{a_cid} --offset 1 --length 3")).await;
    assert_eq!(part.json().unwrap()["text"], "lph");
    let st = c.ok(&format!("ipfs stat {root}")).await;
    assert_eq!(st.json().unwrap()["kind"], "directory");
    assert!(c.err(&format!("ipfs cat {root}")).await.contains("directory"));

    let got = c.ok(&format!("ipfs get {root} -o copy")).await;
    assert_eq!(got.value.as_ref().unwrap().ty, "std::path::PathBuf");
    assert_eq!(std::fs::read(d.join("copy/sub/c.txt")).unwrap(), b"charlie\n");
    assert!(c.err(&format!("ipfs get {root} -o copy")).await.contains("already exists"));

    let car = c.ok(&format!("ipfs car export {root} -o t.car")).await;
    assert_eq!(car.json().unwrap()["blocks"], 5);
    let pins = c.ok("ipfs pin ls").await;
    assert_eq!(pins.json().unwrap()["pins"].as_array().unwrap().len(), 2);
    let tree = pins.json().unwrap()["pins"].as_array().unwrap().iter().find(|p| p["cid"] == root).unwrap().clone();
    assert_eq!((tree["kind"].as_str(), tree["size"].as_u64()), (Some("directory"), Some(0)));
    assert_eq!(tree["cumulative_size"], st.json().unwrap()["cumulative_size"]);
    c.ok(&format!("ipfs pin rm {root}")).await;
    let wrapped_cid = wrapped.json().unwrap()["cid"].as_str().unwrap().to_string();
    c.ok(&format!("ipfs pin rm {wrapped_cid}")).await;
    let gc = c.ok("ipfs gc").await;
    assert_eq!(gc.json().unwrap()["kept_blocks"], 0);
    assert!(c.err(&format!("ipfs cat --offline {a_cid}")).await.contains("not in the local store"));
    let imp = c.ok("ipfs car import t.car").await;
    assert_eq!(imp.json().unwrap()["roots"][0], root);
    assert_eq!(imp.json().unwrap()["complete_roots"][0], root);
    assert_eq!(c.ok(&format!("ipfs cat {a_cid}")).await.plain(), Some("alpha\n"));
    let pinned = c.ok(&format!("ipfs pin add {root} --name tree")).await;
    assert_eq!(pinned.json().unwrap()["name"], "tree");
}

#[tokio::test]
async fn config_show_and_set() {
    let dir = tempfile::tempdir().unwrap();
    let c = cell(dir.path());
    let show = c.ok("ipfs config show").await;
    assert_eq!(show.json().unwrap()["backend"], "local");
    let set = c.ok("ipfs config set gateway http://127.0.0.1:8080/").await;
    assert_eq!(set.json().unwrap()["gateway"], "http://127.0.0.1:8080");
    c.ok("ipfs config set backend kubo=http://127.0.0.1:9").await;
    let show = c.ok("ipfs config show").await;
    assert_eq!(
        (show.json().unwrap()["backend"].as_str(), show.json().unwrap()["kubo_url"].as_str()),
        (Some("kubo"), Some("http://127.0.0.1:9"))
    );
    assert!(c.err("ipfs config set colour blue").await.contains("unknown config key"));
    // The DHT switch: saved and shown, a bad value is one line naming it (off by default).
    assert_eq!(show.json().unwrap()["dht"], false);
    assert_eq!(c.ok("ipfs config dht on").await.json().unwrap()["dht"], true);
    let e = c.err("ipfs config dht maybe").await;
    assert!(e.contains("dht \"maybe\" is not valid: use on or off") && !e.contains('\n'), "{e}");
    assert!(c.err("ipfs config set backend ftp").await.contains("not valid"));
}

#[tokio::test]
async fn bad_inputs_give_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("x.txt"), b"x").unwrap();
    let c = cell(dir.path());
    assert!(c.err("ipfs add nope.csv").await.contains("does not exist"));
    assert!(c.err("ipfs cat notacid").await.contains("is not a CID"));
    assert!(c.err("ipfs add x.txt --to ftp").await.contains("unknown backend"));
    assert!(c.err("ipfs add x.txt --chunker rabin").await.contains("size-N"));
    assert!(c.err("ipfs add x.txt --profile nope").await.contains("unixfs-v1-2025"));
    assert!(c.err("ipfs add x.txt --cid-version 3").await.contains("0 or 1"));
    // A port nothing listens on: the daemon is down.
    let e = c.err("ipfs add x.txt --to kubo=http://127.0.0.1:9").await;
    assert!(e.contains("not reachable") && e.contains("127.0.0.1:9"), "{e}");
    assert!(matches!(c.run("ipfs add --help").await, Err(MagicError::Help(h)) if h.contains("--raw-leaves")));
    assert!(matches!(c.run("ipfs add x.txt --bogus").await, Err(MagicError::Usage(_))));
}

#[tokio::test]
async fn interrupted_add_leaves_no_pin() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("big.bin"), vec![1u8; 2 << 20]).unwrap();
    let c = cell(dir.path());
    c.cancel.cancel();
    let e = c.run("ipfs add big.bin").await.unwrap_err();
    assert!(matches!(e, MagicError::Cancelled(_)), "{e}");
    let pins = std::fs::read_dir(dir.path().join("home/ipfs/pins")).unwrap().count();
    assert_eq!(pins, 0);
    let tmp = std::fs::read_dir(dir.path().join("home/ipfs/tmp")).unwrap().count();
    assert_eq!(tmp, 0, "no half-written temp file is left");
}

#[tokio::test]
async fn encrypt_then_decrypt_with_the_stored_or_shared_key() {
    let dir = tempfile::tempdir().unwrap();
    let secret: Vec<u8> = (0..200_000u32).map(|i| (i % 253) as u8).collect();
    std::fs::write(dir.path().join("secret.bin"), &secret).unwrap();
    let c = cell(dir.path());
    let out = c.ok("ipfs add secret.bin --encrypt").await;
    let j = out.json().unwrap().clone();
    assert_eq!(j["encrypted"], true);
    assert!(j.get("key").is_none(), "no key shown unless asked");
    assert!(!out.plain().unwrap().contains("kelp-key-v1:"));
    let cid = j["cid"].as_str().unwrap().to_string();
    // Stored bytes are ciphertext.
    c.ok(&format!("ipfs get {cid} -o raw.bin")).await;
    let raw = std::fs::read(dir.path().join("raw.bin")).unwrap();
    assert!(raw.starts_with(b"KELPENC1") && raw.len() > secret.len());
    assert!(!raw.windows(64).any(|w| w == &secret[1000..1064]));
    c.ok(&format!("ipfs get {cid} -o plain.bin --decrypt")).await;
    assert_eq!(std::fs::read(dir.path().join("plain.bin")).unwrap(), secret);

    // Shared key: another home with the CAR and the share string.
    let shown = c.ok("ipfs add secret.bin --encrypt --show-key").await;
    let share = shown.json().unwrap()["key"].as_str().unwrap().to_string();
    assert!(share.starts_with("kelp-key-v1:") && shown.plain().unwrap().contains(&share));
    let cid2 = shown.json().unwrap()["cid"].as_str().unwrap().to_string();
    assert_ne!(cid2, cid, "a fresh key and nonce each time");
    c.ok(&format!("ipfs car export {cid2} -o s.car")).await;
    let other = cell(dir.path()).with_home(dir.path().join("home2"));
    other.ok("ipfs car import s.car").await;
    let e = other.err(&format!("ipfs get {cid2} -o nokey.bin --decrypt")).await;
    assert!(e.contains("no key") && e.contains("--key-env"), "{e}");
    other.env.set("SHARED_KEY", Some(share));
    other.ok(&format!("ipfs get {cid2} -o shared.bin --decrypt --key-env SHARED_KEY")).await;
    assert_eq!(std::fs::read(dir.path().join("shared.bin")).unwrap(), secret);

    // A wrong key fails in one line and leaves no output.
    other.env.set("WRONG_KEY", Some(format!("kelp-key-v1:{}", "ab".repeat(32))));
    let e = other.err(&format!("ipfs get {cid2} -o wrong.bin --decrypt --key-env WRONG_KEY")).await;
    assert!(e.contains("wrong key"), "{e}");
    assert!(!dir.path().join("wrong.bin").exists());
    assert!(
        std::fs::read_dir(dir.path()).unwrap().flatten().all(|e| !e.file_name().to_string_lossy().contains("partial"))
    );
    assert!(c.err("ipfs add -r . --encrypt").await.contains("not a regular file"));
}

#[tokio::test]
async fn car_export_reports_the_piece_cid_of_the_car() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("d.bin"), vec![42u8; 300_000]).unwrap();
    let c = cell(dir.path());
    let cid = c.ok("ipfs add d.bin --cid-version 1").await.json().unwrap()["cid"].as_str().unwrap().to_string();
    let out = c.ok(&format!("ipfs car export {cid} -o d.car --commp")).await;
    let j = out.json().unwrap();
    let car = std::fs::read(dir.path().join("d.car")).unwrap();
    let piece = kelp_ipfs::commp::commp(&car);
    assert_eq!(j["piece_cid"], piece.cid.to_string());
    assert!(j["piece_cid"].as_str().unwrap().starts_with("baga6ea4seaq"));
    assert_eq!(j["piece_size"], 524_288);
    assert_eq!(j["bytes"], car.len());
}

#[tokio::test]
async fn interrupted_get_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("big.bin"), vec![3u8; 3 << 20]).unwrap();
    let c = cell(dir.path());
    let cid = c.ok("ipfs add big.bin").await.json().unwrap()["cid"].as_str().unwrap().to_string();
    let c2 = cell(dir.path());
    c2.cancel.cancel();
    let e = c2.run(&format!("ipfs get {cid} -o out.bin")).await.unwrap_err();
    assert!(matches!(e, MagicError::Cancelled(_)), "{e}");
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.contains("out.bin")), "{names:?}");
}

#[tokio::test]
async fn pin_ls_gives_each_local_pin_its_size() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("big.bin"), vec![7u8; 300_000]).unwrap();
    std::fs::write(d.join("small.txt"), b"hello ipfs").unwrap();
    let c = cell(d);
    assert_eq!(c.ok("ipfs pin ls").await.plain(), Some("no pins"));
    let big = c.ok("ipfs add big.bin").await.json().unwrap()["cid"].as_str().unwrap().to_string();
    let small = c.ok("ipfs add small.txt --cid-version 1").await.json().unwrap()["cid"].as_str().unwrap().to_string();
    let ls = c.ok("ipfs pin ls").await;
    let pins = ls.json().unwrap()["pins"].as_array().unwrap().clone();
    let of = |cid: &str| pins.iter().find(|p| p["cid"] == cid).unwrap_or_else(|| panic!("{cid} in {pins:?}")).clone();
    let (b, s) = (of(&big), of(&small));
    assert_eq!((b["size"].as_u64(), b["kind"].as_str()), (Some(300_000), Some("file")));
    // Two 256 KiB leaves plus the root node: the DAG is bigger than the file.
    assert!(b["cumulative_size"].as_u64().unwrap() > 300_000, "{b}");
    assert_eq!((s["size"].as_u64(), s["cumulative_size"].as_u64()), (Some(10), Some(10)));
    assert!(b["created"].as_u64().is_some(), "the pin record's fields stay");
    let text = ls.plain().unwrap();
    assert!(text.contains(&format!("{big}  300000 bytes")) && text.contains(&format!("{small}  10 bytes")), "{text}");

    // A pin whose root block is gone: listed, size unknown (null), never fetched.
    let store = kelp_ipfs::Store::open(&d.join("home/ipfs")).unwrap();
    std::fs::remove_file(store.block_file(&small.parse().unwrap()).unwrap()).unwrap();
    let ls = c.ok("ipfs pin ls --offline").await;
    let gone = ls.json().unwrap()["pins"].as_array().unwrap().iter().find(|p| p["cid"] == small).unwrap().clone();
    assert!(gone["size"].is_null() && gone["cumulative_size"].is_null() && gone["kind"].is_null(), "{gone}");
    assert!(ls.plain().unwrap().lines().any(|l| l == small), "{:?}", ls.plain());
}
