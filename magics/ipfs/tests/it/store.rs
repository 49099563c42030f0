//! The embedded store: round trips (property test), corruption detection, pins and gc, CAR v1,
//! atomicity of interrupted adds and gets.

use kelp_ipfs::{AddOptions, IpfsError, Store, car, exporter};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;

fn store(dir: &Path) -> Store {
    Store::open(&dir.join("store")).unwrap()
}

fn write_tree(root: &Path, files: &BTreeMap<String, Vec<u8>>) {
    std::fs::create_dir_all(root).unwrap();
    for (rel, bytes) in files {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
}

fn read_tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    fn walk(base: &Path, p: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(p).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                walk(base, &e.path(), out);
            } else {
                let rel = e.path().strip_prefix(base).unwrap().to_string_lossy().into_owned();
                out.insert(rel, std::fs::read(e.path()).unwrap());
            }
        }
    }
    walk(root, root, &mut out);
    out
}

fn tree_strategy() -> impl Strategy<Value = BTreeMap<String, Vec<u8>>> {
    let name = "[a-z][a-z0-9_]{0,6}";
    let path = prop::collection::vec(name, 1..4).prop_map(|parts| parts.join("/"));
    let content = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..300),
        (0usize..3000, any::<u8>()).prop_map(|(n, b)| vec![b; n]),
    ];
    prop::collection::btree_map(path, content, 1..8).prop_filter("no file is also a directory", |m| {
        m.keys().all(|k| !m.keys().any(|o| o.starts_with(&format!("{k}/"))))
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// add -r then get returns identical bytes, for every CID flavour and small chunk sizes
    /// (so that multi-level trees occur).
    #[test]
    fn add_get_round_trip(files in tree_strategy(), chunk in prop_oneof![Just(64usize), Just(1000), Just(262_144)], col in 0usize..3) {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        write_tree(&src, &files);
        let s = store(dir.path());
        let mut o = AddOptions { recursive: true, chunk_size: chunk, max_links: 4, ..AddOptions::default() };
        if col > 0 { o.cid_version = 1; }
        if col == 2 { o.raw_leaves = Some(false); }
        let added = s.add_path(&src, &o).unwrap();
        let out = dir.path().join("out");
        s.get(&added.cid, &out).unwrap();
        prop_assert_eq!(read_tree(&out), files.clone());
        prop_assert_eq!(added.size, files.values().map(|v| v.len() as u64).sum::<u64>());
    }

    /// cat with offset/length equals slicing.
    #[test]
    fn cat_ranges(data in prop::collection::vec(any::<u8>(), 0..5000), off in 0u64..6000, len in prop::option::of(0u64..6000)) {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        let o = AddOptions { chunk_size: 100, max_links: 3, ..AddOptions::default() };
        let added = s.add_bytes(&data, &o).unwrap();
        let mut out = Vec::new();
        s.cat_to(&added.cid, off, len, &mut out, &mut |_| Ok(())).unwrap();
        let start = (off as usize).min(data.len());
        let end = len.map_or(data.len(), |l| (start + l as usize).min(data.len()));
        prop_assert_eq!(out, data[start..end].to_vec());
    }
}

#[test]
fn flipped_byte_in_the_store_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path());
    let data: Vec<u8> = (0..700_000u32).map(|i| (i % 251) as u8).collect();
    let added = s.add_bytes(&data, &AddOptions::default()).unwrap();
    // Flip one byte of a leaf (the second link of the root).
    let root = kelp_ipfs::pb::PbNode::decode(&s.get_block(&added.cid).unwrap()).unwrap();
    let leaf = root.links[1].cid;
    let file = s.block_file(&leaf).unwrap();
    let mut bytes = std::fs::read(&file).unwrap();
    bytes[1000] ^= 0x01;
    std::fs::write(&file, bytes).unwrap();
    let err = s.cat(&added.cid).unwrap_err();
    assert!(matches!(&err, IpfsError::CorruptBlock(c) if *c == leaf.to_string()), "{err}");
    let out = dir.path().join("out.bin");
    assert!(matches!(s.get(&added.cid, &out), Err(IpfsError::CorruptBlock(_))));
    assert!(!out.exists(), "a failed get leaves nothing at the output path");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().map(|e| e.file_name()).collect();
    assert_eq!(leftovers.len(), 1, "only the store remains: {leftovers:?}");
    // Adding the same data again replaces the damaged block.
    s.add_bytes(&data, &AddOptions::default()).unwrap();
    assert_eq!(s.cat(&added.cid).unwrap(), data);
}

#[test]
fn interrupted_add_pins_nothing_and_gc_cleans_up() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path());
    let data = vec![7u8; 3 * 262_144];
    let f = dir.path().join("f.bin");
    std::fs::write(&f, &data).unwrap();
    let mut seen = 0;
    let err = s
        .add_path_with(&f, &AddOptions::default(), &mut |n| {
            seen += n;
            if seen > 262_144 { Err(IpfsError::Cancelled("adding".into())) } else { Ok(()) }
        })
        .unwrap_err();
    assert!(matches!(err, IpfsError::Cancelled(_)));
    assert!(s.pins().unwrap().is_empty());
    let (blocks, _) = s.stats().unwrap();
    assert!(blocks > 0);
    let r = s.gc().unwrap();
    assert_eq!(r.removed_blocks, blocks);
    assert_eq!(s.stats().unwrap().0, 0);
}

#[test]
fn pins_protect_from_gc() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path());
    let a = s.add_bytes(b"kept", &AddOptions::default()).unwrap();
    let b = s.add_bytes(b"dropped", &AddOptions { pin: false, ..AddOptions::default() }).unwrap();
    assert!(s.is_pinned(&a.cid) && !s.is_pinned(&b.cid));
    let r = s.gc().unwrap();
    assert_eq!((r.removed_blocks, r.kept_blocks), (1, 1));
    assert_eq!(s.cat(&a.cid).unwrap(), b"kept");
    assert!(matches!(s.cat(&b.cid), Err(IpfsError::NotFound(_))));
    assert!(s.unpin(&a.cid).unwrap());
    assert!(!s.unpin(&a.cid).unwrap());
    s.gc().unwrap();
    assert!(matches!(s.cat(&a.cid), Err(IpfsError::NotFound(_))));
}

#[test]
fn car_export_import_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("tree");
    let files: BTreeMap<String, Vec<u8>> =
        [("a.txt".to_string(), b"alpha\n".to_vec()), ("sub/big.bin".to_string(), vec![3u8; 600_000])].into();
    write_tree(&src, &files);
    let s1 = Store::open(&dir.path().join("s1")).unwrap();
    let added = s1.add_path(&src, &AddOptions { recursive: true, cid_version: 1, ..AddOptions::default() }).unwrap();
    let mut car_bytes = Vec::new();
    let (blocks, n) = car::export(&s1, &added.cid, &mut car_bytes).unwrap();
    assert_eq!(n as usize, car_bytes.len());
    assert_eq!(car::parse_header(&car_bytes[1..1 + car_bytes[0] as usize]).unwrap(), vec![added.cid]);
    let s2 = Store::open(&dir.path().join("s2")).unwrap();
    let imp = car::import(&s2, &mut &car_bytes[..], true, &mut |_| Ok(())).unwrap();
    assert_eq!((imp.blocks, imp.complete_roots.clone()), (blocks, vec![added.cid]));
    assert!(s2.is_pinned(&added.cid));
    let out = dir.path().join("out");
    s2.get(&added.cid, &out).unwrap();
    assert_eq!(read_tree(&out), files);
    // A tampered CAR is refused.
    let mut bad = car_bytes.clone();
    let last = bad.len() - 1;
    bad[last] ^= 0xff;
    let s3 = Store::open(&dir.path().join("s3")).unwrap();
    assert!(matches!(car::import(&s3, &mut &bad[..], true, &mut |_| Ok(())), Err(IpfsError::CorruptBlock(_))));
    assert!(s3.pins().unwrap().is_empty());
}

#[test]
fn ls_and_stat_of_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("d");
    write_tree(&src, &[("x.txt".to_string(), b"x".to_vec()), ("y/z.txt".to_string(), b"zz".to_vec())].into());
    std::fs::write(src.join(".hidden"), b"h").unwrap();
    let s = store(dir.path());
    let added = s.add_path(&src, &AddOptions { recursive: true, ..AddOptions::default() }).unwrap();
    let names: Vec<_> = exporter::ls(&s, &added.cid).unwrap().into_iter().map(|e| (e.name, e.kind)).collect();
    assert_eq!(names, vec![("x.txt".into(), exporter::Kind::File), ("y".into(), exporter::Kind::Directory)]);
    let st = exporter::stat(&s, &added.cid).unwrap();
    assert_eq!(st.kind, exporter::Kind::Directory);
    assert_eq!(st.cumulative_size, added.tsize);
    let with_hidden = s.add_path(&src, &AddOptions { recursive: true, hidden: true, ..AddOptions::default() }).unwrap();
    assert_eq!(exporter::ls(&s, &with_hidden.cid).unwrap().len(), 3);
}

#[test]
fn hamt_directory_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("many");
    let files: BTreeMap<String, Vec<u8>> =
        (0..300).map(|i| (format!("file-{i:04}.txt"), format!("{i}").into_bytes())).collect();
    write_tree(&src, &files);
    let s = store(dir.path());
    // A tiny threshold forces sharding (with collisions into child shards at 300 entries).
    let o = AddOptions { recursive: true, hamt_threshold: 100, ..AddOptions::default() };
    let added = s.add_path(&src, &o).unwrap();
    let st = exporter::stat(&s, &added.cid).unwrap();
    assert!(st.hamt);
    assert_eq!(exporter::ls(&s, &added.cid).unwrap().len(), 300);
    let out = dir.path().join("out");
    s.get(&added.cid, &out).unwrap();
    assert_eq!(read_tree(&out), files);
    // Below the default threshold the same tree is a basic directory.
    let basic = s.add_path(&src, &AddOptions { recursive: true, ..AddOptions::default() }).unwrap();
    assert!(!exporter::stat(&s, &basic.cid).unwrap().hamt);
}

#[test]
fn bad_inputs_are_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path());
    let e = s.add_path(&dir.path().join("missing.csv"), &AddOptions::default()).unwrap_err();
    assert!(e.to_string().contains("missing.csv") && !e.to_string().contains('\n'), "{e}");
    let e = s.add_path(dir.path(), &AddOptions::default()).unwrap_err();
    assert!(e.to_string().contains("-r"), "{e}");
    let e = kelp_ipfs::parse_cid("Qmnotacid").unwrap_err();
    assert!(e.to_string().contains("not a CID"), "{e}");
    let e = s.cat_str("bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku").unwrap_err();
    assert!(matches!(e, IpfsError::NotFound(_)), "{e}");
    let e = AddOptions { cid_version: 2, ..AddOptions::default() }.validate().unwrap_err();
    assert!(e.to_string().contains("use 0 or 1"));
}

#[test]
fn a_failing_disk_leaves_the_store_consistent() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path());
    let kept = s.add_bytes(b"before the failure", &AddOptions::default()).unwrap();
    // Every block write goes through tmp/: make it unusable, as a full disk would.
    let tmp = dir.path().join("store/tmp");
    std::fs::remove_dir_all(&tmp).unwrap();
    std::fs::write(&tmp, b"not a directory").unwrap();
    let data = vec![9u8; 600_000];
    let e = s.add_bytes(&data, &AddOptions::default()).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("writing block") && msg.contains("disk full") && !msg.contains('\n'), "{msg}");
    assert_eq!(s.pins().unwrap().len(), 1, "the failed add pinned nothing");
    std::fs::remove_file(&tmp).unwrap();
    std::fs::create_dir(&tmp).unwrap();
    s.gc().unwrap();
    assert_eq!(s.cat(&kept.cid).unwrap(), b"before the failure");
    let again = s.add_bytes(&data, &AddOptions::default()).unwrap();
    assert_eq!(s.cat(&again.cid).unwrap(), data);
}

#[test]
fn gc_running_alongside_adds_never_takes_their_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path());
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (s2, stop2) = (s.clone(), stop.clone());
    let gc = std::thread::spawn(move || {
        let mut runs = 0;
        while !stop2.load(std::sync::atomic::Ordering::Relaxed) {
            s2.gc().unwrap();
            runs += 1;
        }
        runs
    });
    let o = AddOptions { chunk_size: 1024, ..AddOptions::default() };
    let mut added = Vec::new();
    for i in 0..30u32 {
        let data: Vec<u8> = (0..20_000u32).map(|j| (j.wrapping_mul(i + 1) % 251) as u8).collect();
        added.push((s.add_bytes(&data, &o).unwrap().cid, data));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(gc.join().unwrap() > 0);
    for (cid, data) in added {
        assert_eq!(s.cat(&cid).unwrap(), data);
    }
}
