//! CIDs printed by Kubo in its own test suite (ipfs/kubo `test/sharness/t0040-add-and-cat.sh`),
//! reproduced from the same inputs: small files, the chunker, directories in every CID/leaf
//! flavour (including `--raw-leaves` with CIDv0, which keeps the directory at CIDv0).

use kelp_ipfs::{AddOptions, Cid, Store, cid_of_bytes, cid_of_path};
use std::path::Path;

fn write(root: &Path, files: &[(&str, &str)]) {
    for (rel, text) in files {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

#[test]
fn small_files() {
    let o = AddOptions::default();
    for (text, cid) in [
        ("Hello Worlds!\n", "QmVr26fY1tKyspEJBniVhqxQeEjhF78XerGiqWAwraVLQH"),
        ("Helloo Worlds!\n", "Qmf35k66MZNW2GijohUmXQEWKZU4cCGTCwK6idfnt152wJ"),
        ("IPFS\n", "QmdFyxZXsFiP4csgfM5uPu99AvFiKH62CSPDw5TP92nr7w"),
        ("Hello Venus!\n", "QmU5kp3BH3B8tnWUU2Pikdb2maksBNkb92FHRr56hyghh4"),
        ("Hello Jupiter!\n", "QmUnvPcBctVTAcJpigv6KMqDvmDewksPWrNVoy1E1WP5fh"),
        ("Hello Neptune!\nHello Pluton!", "QmZDhWpi8NvKrekaYYhxKCdNVGWsFFe1CREnAjP1QbPaB3"),
    ] {
        assert_eq!(cid_of_bytes(text.as_bytes(), &o).unwrap().to_string(), cid, "{text:?}");
    }
    // A chunker larger than the file changes nothing.
    let size64 = AddOptions { chunk_size: 64, ..AddOptions::default() };
    assert_eq!(
        cid_of_bytes(b"Hello Worlds!\n", &size64).unwrap().to_string(),
        "QmVr26fY1tKyspEJBniVhqxQeEjhF78XerGiqWAwraVLQH"
    );
    // `--cid-base=base32` prints the CIDv0 as CIDv1 dag-pb in base32.
    let v0 = cid_of_bytes(b"base32 test\n", &o).unwrap();
    let b32 = Cid::new_v1(0x70, *v0.hash()).to_string();
    assert_eq!(b32, "bafybeibyosqxljd2eptb4ebbtvk7pb4aoxzqa6ttdsflty6rsslz5y6i34");
}

#[test]
fn directories_in_every_flavour() {
    let dir = tempfile::tempdir().unwrap();
    let planets = dir.path().join("planets");
    write(&planets, &[("mars.txt", "Hello Mars!\n"), ("venus.txt", "Hello Venus!\n")]);
    let base = AddOptions { recursive: true, ..AddOptions::default() };
    let cases = [
        (
            base.clone(),
            "QmWSgS32xQEcXMeqd3YPJLrNBLSdsfYCep2U7CFkyrjXwY",
            "QmPrrHqJzto9m7SyiRzarwkqPcCSsKR2EB1AyqJfe8L8tN",
            "QmU5kp3BH3B8tnWUU2Pikdb2maksBNkb92FHRr56hyghh4",
        ),
        (
            AddOptions { raw_leaves: Some(true), ..base.clone() },
            "QmfWfQfKCY5Ukv9peBbxM5vqWM9BzmqUSXvdCgjT2wsiBT",
            "bafkreibmlvvgdyihetgocpof6xk64kjjzdeq2e4c7hqs3krdheosk4tgj4",
            "bafkreihfsphazrk2ilejpekyltjeh5k4yvwgjuwg26ueafohqioeo3sdca",
        ),
        (
            AddOptions { cid_version: 1, ..base.clone() },
            "bafybeih7e5dmkyk25up5vxug4q3hrg2fxbzf23dfrac2fns5h7z4aa7ioi",
            "bafkreibmlvvgdyihetgocpof6xk64kjjzdeq2e4c7hqs3krdheosk4tgj4",
            "bafkreihfsphazrk2ilejpekyltjeh5k4yvwgjuwg26ueafohqioeo3sdca",
        ),
        (
            AddOptions { cid_version: 1, raw_leaves: Some(false), ..base.clone() },
            "bafybeif5tuep5ap2d7zyhbktucey75aoacxufgt6i3v4gebmixyipnyp7y",
            "bafybeiawta2ntdmsy24aro35w3homzl4ak7svr3si7l7gesvq4erglyye4",
            "bafybeicvkvhs2fr75ynebtdjqpgm4g2fc63abqbmysupwpmcjl4gx7mzrm",
        ),
    ];
    let store = Store::open(&dir.path().join("store")).unwrap();
    for (o, root, mars, venus) in cases {
        let added = store.add_path(&planets, &o).unwrap();
        let by_path: std::collections::BTreeMap<_, _> =
            added.entries.iter().map(|e| (e.path.clone(), e.cid.clone())).collect();
        assert_eq!(added.cid.to_string(), root, "{o:?}");
        assert_eq!(by_path["planets/mars.txt"], mars);
        assert_eq!(by_path["planets/venus.txt"], venus);
        assert!(store.cat(&added.cid).is_err(), "a directory is not cat-able");
    }
}

#[test]
fn nested_directories() {
    let dir = tempfile::tempdir().unwrap();
    let moons = dir.path().join("moons");
    write(
        &moons,
        &[
            ("jupiter/europa.txt", "Hello Europa!\n"),
            ("saturn/titan.txt", "Hello Titan!\n"),
            ("mercury.txt", "hey youre no moon!\n"),
        ],
    );
    let store = Store::open(&dir.path().join("store")).unwrap();
    let added =
        store.add_path(&moons, &AddOptions { recursive: true, only_hash: true, ..AddOptions::default() }).unwrap();
    let by_path: std::collections::BTreeMap<_, _> =
        added.entries.iter().map(|e| (e.path.as_str(), e.cid.as_str())).collect();
    assert_eq!(by_path["moons"], "QmVKvomp91nMih5j6hYBA8KjbiaYvEetU2Q7KvtZkLe9nQ");
    assert_eq!(by_path["moons/jupiter"], "QmS5mZddhFPLWFX3w6FzAy9QxyYkaxvUpsWCtZ3r7jub9J");
    assert_eq!(by_path["moons/saturn"], "QmaMagZT4rTE7Nonw8KGSK4oe1bh533yhZrCo1HihSG8FK");
    assert_eq!(by_path["moons/jupiter/europa.txt"], "Qmbjg7zWdqdMaK2BucPncJQDxiALExph5k3NkQv5RHpccu");
    assert_eq!(by_path["moons/saturn/titan.txt"], "QmZzppb9WHn552rmRqpPfgU5FEiHH6gDwi3MrB9cTdPwdb");
    assert_eq!(by_path["moons/mercury.txt"], "QmUJjVtnN8YEeYcS8VmUeWffTWhnMQAkk5DzZdKnPhqUdK");
    assert!(store.pins().unwrap().is_empty(), "--only-hash stores and pins nothing");
    assert_eq!(store.stats().unwrap().0, 0);

    let cur = dir.path().join("test_current_dir");
    write(&cur, &[("hey", "Hey\n"), ("hello/world", "World\n")]);
    let o = AddOptions { recursive: true, ..AddOptions::default() };
    assert_eq!(cid_of_path(&cur, &o).unwrap().to_string(), "QmZQWnfcqJ6hNkkPvrY9Q5X39GP3jUnUbAV4AbmbbR3Cb1");
}
