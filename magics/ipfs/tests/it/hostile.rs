//! Hostile DAGs (security issue #12): each test here failed on the exporter before it became
//! iterative, depth-bounded, no-follow and streaming — by writing outside `-o`, overflowing the
//! stack (killing the process), holding a whole claimed file in memory, or panicking.

use crate::support::dags;

use crate::support::cell;
use kelp_ipfs::exporter::{self, ReadLimits};
use kelp_ipfs::{IpfsError, Store};
use std::path::Path;

fn store(dir: &Path) -> Store {
    Store::open(&dir.join("store")).unwrap()
}

fn one_line(e: &IpfsError) -> String {
    let s = e.to_string();
    assert!(!s.contains('\n'), "one line: {s}");
    s
}

#[test]
fn symlink_then_file_of_the_same_name_writes_nothing_outside_the_output() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path());
    let outside = dir.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    let victim = outside.join("pwned");
    let root = dags::symlink_then_file(&s, "x", victim.to_str().unwrap());
    let out = dir.path().join("out");
    let e = s.get(&root, &out).unwrap_err();
    assert!(one_line(&e).contains("two entries named \"x\""), "{e}");
    assert!(!victim.exists() && victim.symlink_metadata().is_err(), "nothing written through the link");
    assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);
    assert!(out.symlink_metadata().is_err(), "no output");
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().map(|e| e.file_name()).collect();
    assert_eq!(left.len(), 2, "only the store and `outside` remain: {left:?}");
}

#[test]
fn a_file_over_an_existing_symlink_is_never_opened_through_it() {
    // A name that passes the checks but already exists as a symlink (here: the tree's own) is
    // refused by create_new, so even a check that missed a case cannot write through a link.
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path());
    let victim = dir.path().join("victim");
    let root = dags::symlink_then_file(&s, "y", victim.to_str().unwrap());
    let e = s.get(&root, &dir.path().join("o")).unwrap_err();
    assert!(e.to_string().contains("two entries"), "{e}");
    assert!(victim.symlink_metadata().is_err());
}

#[test]
fn path_like_entry_names_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path());
    let f = dags::put_raw(&s, b"data");
    for bad in ["..", ".", "", "a/b", "/etc/x", "nul\0byte"] {
        let root = dags::put_node(&s, &dags::dir_node(vec![dags::link(f, bad, 4)]));
        let out = dir.path().join("o");
        let e = s.get(&root, &out).unwrap_err();
        assert!(one_line(&e).contains("nothing was written"), "{bad:?}: {e}");
        assert!(out.symlink_metadata().is_err());
    }
}

#[test]
fn a_100000_deep_file_dag_is_a_clear_error_not_a_stack_overflow() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path());
    let root = dags::deep_file(&s, 100_000);
    let e = s.cat(&root).unwrap_err();
    let msg = one_line(&e);
    assert!(msg.contains("deeper than 1024 levels") && msg.contains("KELP_IPFS_MAX_DEPTH"), "{msg}");
    let e = s.get(&root, &dir.path().join("o")).unwrap_err();
    assert!(e.to_string().contains("deeper than"), "{e}");
    assert!(dir.path().join("o").symlink_metadata().is_err());
    // stat reads the root only; ls says it is not a directory.
    assert_eq!(exporter::stat(&s, &root).unwrap().size, 1);
}

#[test]
fn depth_limit_is_configurable_and_an_honest_deep_file_reads() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path());
    let root = dags::deep_file(&s, 2000);
    assert!(s.cat(&root).is_err());
    let deep = s.clone().with_limits(ReadLimits { max_depth: 2000 });
    assert_eq!(deep.cat(&root).unwrap(), b"x");
    let tight = s.clone().with_limits(ReadLimits { max_depth: 1999 });
    assert!(tight.cat(&root).unwrap_err().to_string().contains("deeper than 1999"));
    assert!(ReadLimits::from_env_value(Some("ten")).unwrap_err().to_string().contains("KELP_IPFS_MAX_DEPTH"));
    assert_eq!(ReadLimits::from_env_value(None).unwrap(), ReadLimits::default());
}

#[test]
fn deeply_nested_hamt_shards_are_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path());
    let root = dags::deep_hamt(&s, 100_000);
    let e = exporter::ls(&s, &root).unwrap_err();
    assert!(one_line(&e).contains("nests shards deeper than 8 levels"), "{e}");
    let e = s.get(&root, &dir.path().join("o")).unwrap_err();
    assert!(e.to_string().contains("deeper than"), "{e}");
    // Nesting the hash allows (8 levels at fanout 256) is listed.
    let ok = dags::deep_hamt(&s, 7);
    let names: Vec<_> = exporter::ls(&s, &ok).unwrap().into_iter().map(|e| e.name).collect();
    assert_eq!(names, ["deep.txt"]);
}

#[test]
fn a_hamt_link_name_split_inside_a_character_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path());
    let root = dags::split_name_hamt(&s);
    let e = exporter::ls(&s, &root).unwrap_err();
    assert!(one_line(&e).contains("does not start with a 2-digit hex slot"), "{e}");
}

#[test]
fn a_shard_linked_twice_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path());
    let f = dags::put_raw(&s, b"v");
    let child = dags::put_node(&s, &dags::shard_node(vec![dags::link(f, "01v", 1)]));
    let root = dags::put_node(&s, &dags::shard_node(vec![dags::link(child, "00", 9), dags::link(child, "01", 9)]));
    assert!(exporter::ls(&s, &root).unwrap_err().to_string().contains("twice"));
}

#[test]
fn an_exponential_dag_of_empty_blocks_is_refused() {
    // 64 levels, each linking the level below twice and claiming a byte it never holds:
    // 2^64 visits, no byte, 65 blocks. (Links claiming 0 bytes are skipped unvisited.)
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path());
    let mut c = dags::put_raw(&s, b"");
    for _ in 0..64 {
        c = dags::put_node(&s, &dags::file_node(&[(c, 1), (c, 1)]));
    }
    let e = s.cat(&c).unwrap_err();
    assert!(one_line(&e).contains("blocks in a row that hold no bytes"), "{e}");
}

#[test]
fn link_sizes_that_overflow_do_not_panic_stat() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path());
    let f = dags::put_raw(&s, b"v");
    let root = dags::put_node(&s, &dags::dir_node(vec![dags::link(f, "a", u64::MAX), dags::link(f, "b", u64::MAX)]));
    assert_eq!(exporter::stat(&s, &root).unwrap().cumulative_size, u64::MAX);
}

/// Write the DAG of `root` (in `from`) as a CAR file.
fn car_of(from: &Store, root: &kelp_ipfs::Cid, path: &Path) {
    let mut f = std::fs::File::create(path).unwrap();
    kelp_ipfs::car::export(from, root, &mut f).unwrap();
}

#[tokio::test]
async fn the_magic_imports_a_deep_car_then_cat_and_get_fail_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let src = store(dir.path());
    let root = dags::deep_file(&src, 100_000);
    car_of(&src, &root, &dir.path().join("deep.car"));
    let c = cell(dir.path());
    let imp = c.run("ipfs car import deep.car").await.unwrap();
    assert_eq!(imp.json().unwrap()["complete_roots"][0], root.to_string());
    for line in [format!("ipfs cat {root}"), format!("ipfs get {root} -o deep.out")] {
        let e = c.run(&line).await.unwrap_err().to_string();
        assert!(!e.contains('\n') && e.contains("deeper than 1024 levels"), "{line}: {e}");
    }
    c.env.set("KELP_IPFS_MAX_DEPTH", Some("100000".into()));
    let out = c.run(&format!("ipfs cat {root}")).await.unwrap();
    assert_eq!(out.plain(), Some("x"));
    c.env.set("KELP_IPFS_MAX_DEPTH", Some("lots".into()));
    let e = c.run(&format!("ipfs cat {root}")).await.unwrap_err().to_string();
    assert!(e.contains("KELP_IPFS_MAX_DEPTH=\"lots\" is not valid"), "{e}");
}

/// 4 GiB claimed by 4096 links to one 1 MiB block.
fn claim_4gib(store_dir: &Path) -> (Store, kelp_ipfs::Cid) {
    let s = Store::open(store_dir).unwrap();
    let block: Vec<u8> = (0..1u32 << 20).map(|i| b'a' + (i % 26) as u8).collect();
    let root = dags::repeated_block_file(&s, &block, 4096);
    (s, root)
}

#[tokio::test]
async fn cat_of_a_dag_claiming_4_gib_reads_only_what_it_shows() {
    let dir = tempfile::tempdir().unwrap();
    let (src, root) = claim_4gib(&dir.path().join("store"));
    car_of(&src, &root, &dir.path().join("big.car"));
    assert!(std::fs::metadata(dir.path().join("big.car")).unwrap().len() < 1_300_000);
    let c = cell(dir.path());
    c.run("ipfs car import big.car").await.unwrap();
    let out = c.run(&format!("ipfs cat {root}")).await.unwrap();
    let j = out.json().unwrap();
    assert_eq!(j["length"], 4u64 << 30);
    assert_eq!(j["truncated"], true);
    assert_eq!(j["text"].as_str().unwrap().len(), 1 << 20);
    let part = c.run(&format!("ipfs cat {root} --offset 4294967290 --length 100")).await.unwrap();
    assert_eq!(part.json().unwrap()["length"], 6);
    assert_eq!(part.json().unwrap()["truncated"], false);
}

/// Peak RSS (VmHWM) of a child process that runs `ipfs cat` on the 4 GiB claim: the parent
/// builds the store, the child (this test binary, running only `rss_child`) does the cat.
#[test]
fn cat_of_a_4_gib_claim_peaks_under_64_mib_rss() {
    let dir = tempfile::tempdir().unwrap();
    let (_, root) = claim_4gib(&dir.path().join("home").join("ipfs"));
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "hostile::rss_child", "--ignored", "--nocapture", "--test-threads", "1"])
        .env("KELP_RSS_CHILD_DIR", dir.path())
        .env("KELP_RSS_CHILD_CID", root.to_string())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let line =
        stdout.lines().find_map(|l| l.split_once("KELP_RSS ").map(|(_, v)| v)).unwrap_or_else(|| panic!("{stdout}"));
    let (shown, hwm_kb): (usize, u64) = {
        let mut it = line.split(' ').map(|v| v.parse::<u64>().unwrap());
        (it.next().unwrap() as usize, it.next().unwrap())
    };
    assert_eq!(shown, 1 << 20);
    assert!(hwm_kb < 64 * 1024, "peak RSS {hwm_kb} KiB");
}

#[test]
#[ignore = "run by cat_of_a_4_gib_claim_peaks_under_64_mib_rss in a child process"]
fn rss_child() {
    let (Ok(dir), Ok(cid)) = (std::env::var("KELP_RSS_CHILD_DIR"), std::env::var("KELP_RSS_CHILD_CID")) else {
        return;
    };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let c = cell(Path::new(&dir));
    let out = rt.block_on(c.run(&format!("ipfs cat {cid}"))).unwrap();
    let shown = out.json().unwrap()["text"].as_str().unwrap().len();
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let hwm = status.lines().find_map(|l| l.strip_prefix("VmHWM:")).unwrap();
    let kb: u64 = hwm.trim().trim_end_matches("kB").trim().parse().unwrap();
    println!("KELP_RSS {shown} {kb}");
}
