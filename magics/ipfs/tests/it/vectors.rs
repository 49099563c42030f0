//! The public CID vectors (REFERENCE.md §3.8, shared/cid_vectors.tsv): every column, generated
//! here from the same generator commands. Kubo defaults (CIDv0), `--cid-version 1` (raw leaves
//! implied) and `--cid-version 1 --raw-leaves=false`; the directory with `-r`.

use kelp_ipfs::{AddOptions, Store, cid_of_path};
use std::path::{Path, PathBuf};
use std::process::Command;

/// name, CIDv0, CIDv1, CIDv1 with dag-pb leaves.
const VECTORS: &[(&str, &str, &str, &str)] = &[
    (
        "empty.bin",
        "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH",
        "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku",
        "bafybeif7ztnhq65lumvvtr4ekcwd2ifwgm3awq4zfr3srh462rwyinlb4y",
    ),
    (
        "hello.txt",
        "QmPnnvFkvSCmPvMdMtSNbXrFWQX5XYc4YkcVU4cujyyH8Z",
        "bafkreichphvmdj4uyj3x4bwnmmaor6vdqanqlencshsyd4wwuigbt7jy3i",
        "bafybeiavryjapagdqvas2k3sh525xoak32xdnq2xrf4n5gmcnkauju6b6y",
    ),
    (
        "a_262144.bin",
        "Qma81h2ZqbvJW2EQkiVUZ17aSvNWqAtvUPhh8mQBPU8W7c",
        "bafkreig5hxpioyr5tjvtktdizfb5dcoitrrwklmulz5334eynsxjdjevee",
        "bafybeifpb5vjk22v7ap5axs3yac5abaqrbb6d2csqvujnkn2lhoqucpedm",
    ),
    (
        "a_262145.bin",
        "QmTaxvXcxpzzaatSEEAYr7t3knkJ6DmTVbr8MjJJWLRWpV",
        "bafybeifwp2ckiq7kaefcrxkcalv6bs5x7e7ozrigy4ypvcqwetgnxfb2hi",
        "bafybeibb4ku6grvyud644ynxbnucakihooa3vf32zkcah5bfolmxrarez4",
    ),
    (
        "a_1MiB.bin",
        "QmNecXLe3tMEdoo992NpHrcXwtbvieS1KhNmrv2iE2VBBN",
        "bafybeigak7tvm4bb2et73p52j33zy2v6hgy46nijsjflrqih4keafnvdra",
        "bafybeign22py3jfgilbh4puhvnquaajtkclngmgkovltw2hbsmyowb3yji",
    ),
    (
        "rand5MiB.bin",
        "QmXMpV8Egt3SEmzkbwsVR2d5gZyiFpY499CQhyjJB92MvF",
        "bafybeigvqvwn6szfnog5mg6xbfx73qsb6ahulsf3xyv37zkc2hfwfymtkm",
        "bafybeibfcnhtwpligpq5jrdlhid4tuzbnnqevliplzsuf4k7vxwttzfb5i",
    ),
    (
        "testdir",
        "QmQRiXcmgocXXUZHXdndiE9LSKM45YJnCFsyjjPmg2p8MN",
        "bafybeidx7xmnxeh74bqk563q5m3osfqd4za47fneggxdwemxjxr6cryj6a",
        "bafybeibczml4vt566hqiinza23fwee3ajqo34cw34n3m4agbsjstrmzine",
    ),
];

const BIG256: (&str, &str, &str, &str) = (
    "big256.bin",
    "QmU1jjjdTKSxbiDY3oynnxwUKCz16fFbFkP9bpzLWBZU8P",
    "bafybeihxesyve5euptqp7agfukxwx2kqll3db7cqmpehpm4ope5helqja4",
    "bafybeifacupe3cvoh5uqww54kztslgn4a3iuhndpb2gxbgg3kc3i6r3tq4",
);

fn python(code: &str, out: &Path) {
    let f = std::fs::File::create(out).unwrap();
    let st = Command::new("python3")
        .arg("-c")
        .arg(code)
        .stdout(f)
        .status()
        .expect("python3 is needed to generate rand5MiB.bin");
    assert!(st.success());
}

/// Write the vector files as the generator commands do.
fn generate(dir: &Path) {
    std::fs::write(dir.join("empty.bin"), b"").unwrap();
    std::fs::write(dir.join("hello.txt"), b"hello ipfs").unwrap();
    std::fs::write(dir.join("a_262144.bin"), vec![b'a'; 262_144]).unwrap();
    std::fs::write(dir.join("a_262145.bin"), vec![b'a'; 262_145]).unwrap();
    std::fs::write(dir.join("a_1MiB.bin"), vec![b'a'; 1 << 20]).unwrap();
    python(
        "import random;random.seed(42);import sys;sys.stdout.buffer.write(random.randbytes(5*1024*1024))",
        &dir.join("rand5MiB.bin"),
    );
    std::fs::create_dir_all(dir.join("testdir/sub")).unwrap();
    std::fs::write(dir.join("testdir/a.txt"), b"alpha\n").unwrap();
    std::fs::write(dir.join("testdir/b.txt"), b"bravo\n").unwrap();
    std::fs::write(dir.join("testdir/sub/c.txt"), b"charlie\n").unwrap();
}

fn opts(column: usize) -> AddOptions {
    let mut o = AddOptions { recursive: true, ..AddOptions::default() };
    match column {
        0 => {}
        1 => o.cid_version = 1,
        _ => {
            o.cid_version = 1;
            o.raw_leaves = Some(false);
        }
    }
    o
}

fn check(dir: &Path, v: (&str, &str, &str, &str)) {
    let path: PathBuf = dir.join(v.0);
    for (col, want) in [v.1, v.2, v.3].into_iter().enumerate() {
        let got = cid_of_path(&path, &opts(col)).unwrap().to_string();
        assert_eq!(got, want, "{} column {col}", v.0);
    }
}

#[test]
fn every_public_vector_every_column() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path());
    for v in VECTORS {
        check(dir.path(), *v);
    }
}

#[test]
fn testdir_members_as_cidv1() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path());
    let store = Store::open(&dir.path().join("store")).unwrap();
    let added = store.add_path(&dir.path().join("testdir"), &opts(1)).unwrap();
    let by_path: std::collections::BTreeMap<_, _> =
        added.entries.iter().map(|e| (e.path.as_str(), e.cid.as_str())).collect();
    assert_eq!(by_path["testdir/a.txt"], "bafkreifwvggzz2nc3ekjfch2hx2c2n34hzbhg6x5zwxxctrtycqqbniqma");
    assert_eq!(by_path["testdir/b.txt"], "bafkreic5vdzd33hts6yt6t2vw35yuymtmi4l7yeo3hmqcezjoty35tgelq");
    assert_eq!(by_path["testdir/sub/c.txt"], "bafkreieztuoqjdxjcizhfxm3ogdiavi4qpugpe23i7bgkdtja3ocez2oi4");
    assert_eq!(by_path["testdir/sub"], "bafybeicgsahojwmjjao622kba4crae7emyw2ifikeqs7mktwp34o3d6puu");
    assert_eq!(added.entries.last().unwrap().path, "testdir");
    assert_eq!(added.cid.to_string(), VECTORS[6].2);
}

#[test]
fn stored_vectors_read_back_identically() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path());
    let store = Store::open(&dir.path().join("store")).unwrap();
    for v in &VECTORS[..6] {
        let original = std::fs::read(dir.path().join(v.0)).unwrap();
        for col in 0..3 {
            let added = store.add_path(&dir.path().join(v.0), &opts(col)).unwrap();
            assert_eq!(added.size, original.len() as u64);
            assert_eq!(store.cat(&added.cid).unwrap(), original, "{} column {col}", v.0);
        }
    }
}

/// 256 MiB: slow in debug builds, so run explicitly (the bench also checks it).
#[test]
#[ignore]
fn big256_vector() {
    let dir = tempfile::tempdir().unwrap();
    python(
        "import random,sys;random.seed(42);w=sys.stdout.buffer.write;[w(random.randbytes(4*1024*1024)) for _ in range(64)]",
        &dir.path().join("big256.bin"),
    );
    check(dir.path(), BIG256);
}

/// Kubo's own sharding vectors (ipfs/kubo `test/sharness/t0260-sharding.sh`): 2000 files
/// `file1..file2000` holding `$i\n`; unsharded (threshold 1G), sharded (threshold 1B), and
/// sharded with CIDv1 (raw leaves).
#[test]
fn kubo_hamt_sharding_vectors() {
    let dir = tempfile::tempdir().unwrap();
    let td = dir.path().join("testdata");
    std::fs::create_dir(&td).unwrap();
    for i in 1..=2000 {
        std::fs::write(td.join(format!("file{i}")), format!("{i}\n")).unwrap();
    }
    let base = AddOptions { recursive: true, ..AddOptions::default() };
    let unsharded = "QmavrTrQG4VhoJmantURAYuw3bowq3E2WcvP36NRQDAC1N";
    // Default threshold: 2000 short links stay well under 256 KiB, so no sharding.
    assert_eq!(cid_of_path(&td, &base).unwrap().to_string(), unsharded);
    assert_eq!(
        cid_of_path(&td, &AddOptions { hamt_threshold: 1 << 30, ..base.clone() }).unwrap().to_string(),
        unsharded
    );
    let forced = AddOptions { hamt_threshold: 1, ..base.clone() };
    assert_eq!(cid_of_path(&td, &forced).unwrap().to_string(), "QmSCJD1KYLhVVHqBK3YyXuoEqHt7vggyJhzoFYbT8v1XYL");
    let v1 = AddOptions { cid_version: 1, ..forced };
    assert_eq!(
        cid_of_path(&td, &v1).unwrap().to_string(),
        "bafybeibiemewfzzdyhq2l74wrd6qj2oz42usjlktgnlqv4yfawgouaqn4u"
    );
    // And a sharded directory reads back through the store: file100 resolves to Kubo's CID.
    let store = Store::open(&dir.path().join("store")).unwrap();
    let added = store.add_path(&td, &AddOptions { hamt_threshold: 1, ..base }).unwrap();
    let entries = kelp_ipfs::exporter::ls(&store, &added.cid).unwrap();
    assert_eq!(entries.len(), 2000);
    let f100 = entries.iter().find(|e| e.name == "file100").unwrap();
    assert_eq!(f100.cid, "QmZ3RfWk1u5LEGYLHA633B5TNJy3Du27K6Fny9wcxpowGS");
}
