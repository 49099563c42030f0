//! A small stable-Rust mutation fuzzer for kelp-ipfs's decoders (no nightly, so no cargo-fuzz).
//!
//! Targets: `car` (the CAR v1 reader: header + sections into a store), `pb` (DAG-PB and UnixFS
//! decoding, which must round-trip through encoding), `hamt` (listing a HAMT shard), and
//! `exporter` (stat, ls, cat and get of a root block over a store of seed DAGs; `get` must
//! write nothing but its output). Each starts from the committed corpus in `fuzz/corpus/<target>`
//! plus seeds generated here (honest DAGs from the importer and the hostile ones of
//! tests/support/dags.rs), mutates with a seeded RNG (bit flips, interesting bytes,
//! truncation, splicing, inserted/duplicated/deleted runs, varint length edits) and runs each
//! input under `catch_unwind`. A panic fails the test with the seed and the path of a reproducer
//! file (`$KELP_FUZZ_OUT`, default `$TMPDIR/kelp-fuzz`).
//!
//! `cargo test -p kelp-ipfs --test it fuzz::` replays the corpus and seeds once (no mutation);
//! `KELP_FUZZ_SECS=20 cargo test -p kelp-ipfs --test it -- fuzz:: --ignored` fuzzes every target for
//! that many seconds each (`KELP_FUZZ_SEED` repeats a run; `KELP_FUZZ_REPLAY=FILE` with one
//! target re-runs a reproducer). `KELP_FUZZ_WRITE_CORPUS=1` rewrites the committed corpus from
//! the generators (`fuzz_write_corpus`).

use crate::support::dags;

use kelp_ipfs::exporter;
use kelp_ipfs::pb::{PbNode, UnixFsData};
use kelp_ipfs::{AddOptions, Cid, IpfsError, Store};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

const TARGETS: [&str; 4] = ["car", "pb", "hamt", "exporter"];

/// splitmix64: small, seedable, the same on every platform.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { (self.next() % n as u64) as usize }
    }
}

fn mutate(rng: &mut Rng, input: &[u8], corpus: &[Vec<u8>]) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let len = v.len();
        match rng.below(8) {
            0 if len > 0 => {
                let i = rng.below(len);
                v[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                v[i] = [0, 1, 0x7f, 0x80, 0xff, 0x20, 0x0a, 0x12][rng.below(8)];
            }
            2 => v.truncate(rng.below(len + 1)),
            3 => {
                let other = &corpus[rng.below(corpus.len())];
                let cut = rng.below(len + 1);
                let from = rng.below(other.len() + 1);
                v.truncate(cut);
                v.extend_from_slice(&other[from..]);
            }
            4 => {
                let at = rng.below(len + 1);
                let n = 1 + rng.below(16);
                let bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                v.splice(at..at, bytes);
            }
            5 if len > 0 => {
                let a = rng.below(len);
                let b = (a + 1 + rng.below(64)).min(len);
                let chunk = v[a..b].to_vec();
                let at = rng.below(len + 1);
                v.splice(at..at, chunk);
            }
            6 if len > 0 => {
                let a = rng.below(len);
                let b = (a + 1 + rng.below(32)).min(len);
                v.drain(a..b);
            }
            _ if len > 0 => {
                // A length field: replace one byte by a varint that is huge, zero or one off.
                let i = rng.below(len);
                let edit: &[u8] = match rng.below(4) {
                    0 => &[0xff, 0xff, 0xff, 0xff, 0x0f],
                    1 => &[0],
                    2 => &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
                    _ => &[],
                };
                if edit.is_empty() {
                    v[i] = v[i].wrapping_add(1);
                } else {
                    v.splice(i..i + 1, edit.iter().copied());
                }
            }
            _ => v.push(rng.next() as u8),
        }
    }
    v
}

/// The stores and seeds the targets run against.
struct Harness {
    dir: tempfile::TempDir,
    /// Holds every seed DAG, so mutated roots link to real blocks.
    seeds: Store,
    /// Receives CAR imports.
    cars: Store,
    roots: Vec<(&'static str, Cid)>,
    corpus: Vec<(String, Vec<Vec<u8>>)>,
    runs: u64,
}

fn put_block(store: &Store, block: &[u8]) -> Cid {
    let c = dags::cid_for(0x70, block);
    store.put(&c, block).unwrap();
    c
}

/// Honest and hostile DAGs in `store`: (name, root).
fn seed_dags(store: &Store, work: &Path) -> Vec<(&'static str, Cid)> {
    let tree = work.join("tree");
    std::fs::create_dir_all(tree.join("sub")).unwrap();
    for i in 0..24 {
        std::fs::write(tree.join(format!("f{i}.txt")), format!("file {i}\n").repeat(i + 1)).unwrap();
    }
    std::fs::write(tree.join("sub/é.txt"), b"accent").unwrap();
    let mut opts = AddOptions { recursive: true, chunk_size: 64, max_links: 4, ..AddOptions::default() };
    let dir = store.add_path(&tree, &opts).unwrap().cid;
    opts.hamt_threshold = 1;
    opts.hamt_fanout = 16;
    let hamt16 = store.add_path(&tree, &opts).unwrap().cid;
    opts.hamt_fanout = 256;
    opts.cid_version = 1;
    let hamt256 = store.add_path(&tree, &opts).unwrap().cid;
    let file = store.add_bytes(&b"kelp fuzz seed ".repeat(40), &opts).unwrap().cid;
    vec![
        ("dir", dir),
        ("hamt16", hamt16),
        ("hamt256", hamt256),
        ("file", file),
        ("deep_file", dags::deep_file(store, 40)),
        ("deep_hamt", dags::deep_hamt(store, 12)),
        ("symlink_then_file", dags::symlink_then_file(store, "x", "/tmp/kelp-fuzz-victim")),
        ("split_name_hamt", dags::split_name_hamt(store)),
        ("repeated_block", dags::repeated_block_file(store, &[7u8; 512], 64)),
    ]
}

/// The committed corpus of `target` (sorted by file name).
fn committed(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus").join(target);
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(&dir).map(|d| d.flatten().map(|e| e.path()).collect()).unwrap_or_default();
    files.sort();
    files.into_iter().map(|p| std::fs::read(p).unwrap()).collect()
}

/// Generated seeds per target: (target, [(name, bytes)]).
/// Named inputs of one target.
type Seeds = Vec<(String, Vec<u8>)>;

fn generated(seeds: &Store, roots: &[(&'static str, Cid)]) -> Vec<(&'static str, Seeds)> {
    let mut car = Vec::new();
    let mut blocks = Vec::new();
    for (name, root) in roots {
        let mut bytes = Vec::new();
        if kelp_ipfs::car::export(seeds, root, &mut bytes).is_ok() && bytes.len() < 64 << 10 {
            car.push((format!("{name}.car"), bytes));
        }
        blocks.push((format!("{name}.block"), seeds.get_block(root).unwrap()));
    }
    let shards = blocks.iter().filter(|(n, _)| n.contains("hamt")).cloned().collect();
    vec![("car", car), ("pb", blocks.clone()), ("hamt", shards), ("exporter", blocks)]
}

impl Harness {
    fn new() -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let seeds = Store::open(&dir.path().join("seeds")).unwrap();
        let cars = Store::open(&dir.path().join("cars")).unwrap();
        let roots = seed_dags(&seeds, dir.path());
        let corpus = generated(&seeds, &roots)
            .into_iter()
            .map(|(t, g)| {
                let mut all = committed(t);
                all.extend(g.into_iter().map(|(_, b)| b));
                (t.to_string(), all)
            })
            .collect();
        Harness { dir, seeds, cars, roots, corpus, runs: 0 }
    }

    fn corpus(&self, target: &str) -> &[Vec<u8>] {
        &self.corpus.iter().find(|(t, _)| t == target).expect("a target").1
    }

    /// One input through one target; errors are fine, panics are findings.
    fn run(&mut self, target: &str, input: &[u8]) {
        self.runs += 1;
        match target {
            "car" => self.car(input),
            "pb" => pb(input),
            "hamt" => {
                let c = put_block(&self.seeds, input);
                let _ = exporter::ls(&self.seeds, &c);
            }
            _ => self.exporter(input),
        }
    }

    fn car(&self, input: &[u8]) {
        let _ = kelp_ipfs::car::parse_header(input);
        let mut budget = 0u64;
        let mut observe = |n: u64| -> Result<(), IpfsError> {
            budget += n;
            if budget > 64 << 20 { Err(IpfsError::Cancelled("fuzz budget".into())) } else { Ok(()) }
        };
        let _ = kelp_ipfs::car::import(&self.cars, &mut &input[..], input.len().is_multiple_of(2), &mut observe);
    }

    fn exporter(&mut self, input: &[u8]) {
        let c = put_block(&self.seeds, input);
        let _ = exporter::stat(&self.seeds, &c);
        let _ = exporter::ls(&self.seeds, &c);
        // Bounded work: at most 1 MiB out and 100,000 blocks visited per call.
        let mut visits = 0u32;
        let mut observe = |_| -> Result<(), IpfsError> {
            visits += 1;
            if visits > 100_000 { Err(IpfsError::Cancelled("fuzz budget".into())) } else { Ok(()) }
        };
        let _ = exporter::read_file(&self.seeds, &c, 0, Some(1 << 20), &mut std::io::sink(), &mut observe);
        let out_dir = self.dir.path().join("get");
        std::fs::create_dir_all(&out_dir).unwrap();
        let out = out_dir.join(format!("out{}", self.runs));
        let mut visits = 0u32;
        let mut observe = |_| -> Result<(), IpfsError> {
            visits += 1;
            if visits > 100_000 { Err(IpfsError::Cancelled("fuzz budget".into())) } else { Ok(()) }
        };
        let got = exporter::get(&self.seeds, &c, &out, &mut observe);
        let names: Vec<_> = std::fs::read_dir(&out_dir).unwrap().flatten().map(|e| e.file_name()).collect();
        let expected = usize::from(got.is_ok());
        assert_eq!(names.len(), expected, "get left {names:?} next to its output ({got:?})");
        assert!(std::fs::symlink_metadata("/tmp/kelp-fuzz-victim").is_err(), "get wrote through a symlink");
        let meta = out.symlink_metadata();
        let _ = if meta.as_ref().is_ok_and(|m| m.is_dir()) {
            std::fs::remove_dir_all(&out)
        } else {
            std::fs::remove_file(&out)
        };
    }
}

fn pb(input: &[u8]) {
    if let Ok(n) = PbNode::decode(input) {
        let again = PbNode::decode(&n.encode()).expect("an encoded node decodes");
        assert_eq!(again, n, "DAG-PB round trip");
        let _ = n.unixfs();
    }
    if let Ok(d) = UnixFsData::decode(input) {
        assert_eq!(UnixFsData::decode(&d.encode()).expect("encoded data decodes"), d, "UnixFS round trip");
    }
}

fn crash_dir() -> PathBuf {
    std::env::var_os("KELP_FUZZ_OUT").map(PathBuf::from).unwrap_or_else(|| std::env::temp_dir().join("kelp-fuzz"))
}

/// Run `input` through `target`; on a panic write the reproducer and fail with the seed.
fn guarded(h: &mut Harness, target: &str, input: &[u8], seed: u64, iter: u64) {
    guard(target, input, seed, iter, || h.run(target, input));
}

fn guard(target: &str, input: &[u8], seed: u64, iter: u64, f: impl FnOnce()) {
    report_into(&crash_dir(), target, input, seed, iter, f);
}

/// Run `f`; if it panics, write `input` into `dir` and panic with the seed and the file.
fn report_into(dir: &Path, target: &str, input: &[u8], seed: u64, iter: u64, f: impl FnOnce()) {
    if catch_unwind(AssertUnwindSafe(f)).is_err() {
        std::fs::create_dir_all(dir).unwrap();
        let path = dir.join(format!("{target}-seed{seed}-iter{iter}.bin"));
        std::fs::write(&path, input).unwrap();
        panic!(
            "fuzz target {target} panicked (KELP_FUZZ_SEED={seed}, iteration {iter}); reproducer: {} \
             (replay: KELP_FUZZ_REPLAY={} cargo test -p kelp-ipfs --test it fuzz::fuzz_{target} -- --ignored)",
            path.display(),
            path.display()
        );
    }
}

fn fuzz(target: &str) {
    let mut h = Harness::new();
    if let Ok(file) = std::env::var("KELP_FUZZ_REPLAY") {
        let input = std::fs::read(&file).unwrap();
        guarded(&mut h, target, &input, 0, 0);
        return;
    }
    let secs: f64 = std::env::var("KELP_FUZZ_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(3.0);
    let seed: u64 = std::env::var("KELP_FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(1)
    });
    eprintln!("fuzz {target}: KELP_FUZZ_SEED={seed} for {secs} s");
    let mut rng = Rng(seed);
    let corpus = h.corpus(target).to_vec();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs_f64(secs);
    let mut iter = 0u64;
    while std::time::Instant::now() < deadline {
        let base = &corpus[rng.below(corpus.len())];
        let input = mutate(&mut rng, base, &corpus);
        guarded(&mut h, target, &input, seed, iter);
        iter += 1;
    }
    eprintln!("fuzz {target}: {iter} inputs, no panic");
    assert!(iter > 0, "the fuzzer ran no input in {secs} s");
}

#[test]
fn corpus_and_seeds_replay_without_panics() {
    let mut h = Harness::new();
    for target in TARGETS {
        let corpus = h.corpus(target).to_vec();
        assert!(corpus.len() >= 4, "{target} has a corpus");
        for (i, input) in corpus.iter().enumerate() {
            guarded(&mut h, target, input, 0, i as u64);
        }
    }
    // The honest seeds still read back whole after all that.
    for (name, root) in &h.roots[..3] {
        let names: Vec<_> = exporter::ls(&h.seeds, root).unwrap().into_iter().map(|e| e.name).collect();
        assert!(names.contains(&"sub".to_string()) && names.len() == 25, "{name}: {names:?}");
    }
}

#[test]
fn a_panic_is_reported_with_its_seed_and_a_reproducer() {
    let out = tempfile::tempdir().unwrap();
    let path = out.path().join("selftest-seed42-iter7.bin");
    let err = catch_unwind(AssertUnwindSafe(|| {
        let dir = out.path().to_path_buf();
        report_into(&dir, "selftest", b"\x00crash", 42, 7, || panic!("planted"));
    }))
    .unwrap_err();
    let msg = err.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(msg.contains("KELP_FUZZ_SEED=42") && msg.contains(&path.display().to_string()), "{msg}");
    assert_eq!(std::fs::read(&path).unwrap(), b"\x00crash");
}

#[test]
#[ignore = "fuzzing: KELP_FUZZ_SECS seconds (install/test.d/30-ipfs.sh)"]
fn fuzz_car() {
    fuzz("car");
}

#[test]
#[ignore = "fuzzing: KELP_FUZZ_SECS seconds (install/test.d/30-ipfs.sh)"]
fn fuzz_pb() {
    fuzz("pb");
}

#[test]
#[ignore = "fuzzing: KELP_FUZZ_SECS seconds (install/test.d/30-ipfs.sh)"]
fn fuzz_hamt() {
    fuzz("hamt");
}

#[test]
#[ignore = "fuzzing: KELP_FUZZ_SECS seconds (install/test.d/30-ipfs.sh)"]
fn fuzz_exporter() {
    fuzz("exporter");
}

/// Rewrite fuzz/corpus/<target>/ from the generators (run when they change).
#[test]
#[ignore = "writes the committed corpus: KELP_FUZZ_WRITE_CORPUS=1"]
fn fuzz_write_corpus() {
    if std::env::var_os("KELP_FUZZ_WRITE_CORPUS").is_none() {
        return;
    }
    let h = Harness::new();
    for (target, files) in generated(&h.seeds, &h.roots) {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus").join(target);
        std::fs::create_dir_all(&dir).unwrap();
        for (name, bytes) in files {
            std::fs::write(dir.join(name), bytes).unwrap();
        }
    }
}
