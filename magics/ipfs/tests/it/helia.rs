//! kelp against Helia, all on loopback (ignored by default; install/test.d/30-ipfs.sh runs them
//! with the npm packages install/setup.d/30-ipfs.sh puts in install/.tools/helia):
//! - kelp fetches, verified, from a trustless gateway made of Helia's own data
//!   (tests/helia/gateway.mjs: a 64 MiB seeded file and a 1200-entry HAMT directory);
//! - a lying Helia gateway listed first is named once and skipped; dead gateways, an unknown
//!   CID, a block over 2 MiB and a malformed CAR each give one clear error line;
//! - an interrupted fetch leaves only whole, verified blocks and a second one resumes (the
//!   gateway counts the requests);
//! - @helia/verified-fetch reads (and verifies) what kelp added from `kelp ipfs serve`'s gateway.

use crate::support::helia_scripts;
use crate::support::{cell, sha_hex};
use helia_scripts::script_dir;
use kelp_ipfs::fetch::{FetchEvent, FetchReport, Gateways, Scope};
use kelp_ipfs::gateway::GatewayServer;
use kelp_ipfs::{AddOptions, Cid, IpfsError, Store};
use kelp_magic::CancelToken;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::path::Path;
use std::process::{Child, Command};

/// A running tests/helia/gateway.mjs.
struct HeliaGateway {
    child: Child,
    info: Value,
    url: String,
    _dir: tempfile::TempDir,
}

impl HeliaGateway {
    fn start(env: &[(&str, &str)]) -> HeliaGateway {
        let (child, info, dir) = helia_scripts::start("gateway.mjs", env);
        let url = format!("http://127.0.0.1:{}", info["port"]);
        HeliaGateway { child, info, url, _dir: dir }
    }

    fn cid(&self, key: &str) -> Cid {
        self.info[key].as_str().unwrap().parse().unwrap()
    }

    /// (raw block requests, CAR requests) served so far.
    async fn requests(&self) -> (u64, u64) {
        let s: Value = reqwest::get(format!("{}/_stats", self.url)).await.unwrap().json().await.unwrap();
        (s["raw"].as_u64().unwrap(), s["car"].as_u64().unwrap())
    }
}

impl Drop for HeliaGateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn fetch_with(
    g: &Gateways,
    s: &Store,
    c: &Cid,
    cancel: &CancelToken,
    mut stop_after: Option<u64>,
) -> (Result<FetchReport, IpfsError>, Vec<String>) {
    let mut warnings = Vec::new();
    let r = g
        .fetch(s, c, Scope::All, cancel, &mut |e| match e {
            FetchEvent::Warning(w) => warnings.push(w),
            FetchEvent::Block(_) => {
                if let Some(n) = stop_after.as_mut() {
                    *n = n.saturating_sub(1);
                    if *n == 0 {
                        cancel.cancel();
                    }
                }
            }
        })
        .await;
    (r, warnings)
}

fn blocks_in_dag(s: &Store, c: &Cid) -> u64 {
    let mut n = 0;
    s.walk(c, |_, _| {
        n += 1;
        Ok(())
    })
    .unwrap();
    n
}

#[tokio::test]
#[ignore = "needs the Helia npm packages (install/setup.d/30-ipfs.sh)"]
async fn kelp_gets_a_64_mib_file_and_a_hamt_directory_from_a_helia_gateway() {
    let gw = HeliaGateway::start(&[("SEED", "kelp-64"), ("FILE_MB", "64"), ("DIR_ENTRIES", "1200")]);
    let dir = tempfile::tempdir().unwrap();
    let c = cell(dir.path());
    c.env.set("KELP_IPFS_GATEWAYS", Some(gw.url.clone()));
    let (file, tree) = (gw.cid("file_cid"), gw.cid("dir_cid"));
    c.ok(&format!("ipfs get {file} -o big.bin")).await;
    let got = std::fs::read(dir.path().join("big.bin")).unwrap();
    assert_eq!(got.len() as u64, gw.info["file_size"].as_u64().unwrap());
    assert_eq!(sha_hex(&got), gw.info["file_sha256"].as_str().unwrap());
    // One streamed CAR, no block asked for again.
    let store = Store::open(&dir.path().join("home/ipfs")).unwrap();
    assert_eq!(gw.requests().await, (0, 1));
    assert_eq!(blocks_in_dag(&store, &file), 65);
    c.ok(&format!("ipfs get {tree} -o tree")).await;
    assert!(kelp_ipfs::exporter::stat(&store, &tree).unwrap().hamt, "Helia sharded the directory");
    assert_eq!(gw.requests().await, (0, 2));
    let names = std::fs::read_dir(dir.path().join("tree")).unwrap().count();
    assert_eq!(names, 1200);
    for i in 0..1200 {
        let p = dir.path().join(format!("tree/entry-{i:05}.txt"));
        assert_eq!(std::fs::read_to_string(&p).unwrap(), format!("entry {i} of kelp-64\n"), "{}", p.display());
    }
}

#[tokio::test]
#[ignore = "needs the Helia npm packages (install/setup.d/30-ipfs.sh)"]
async fn a_lying_helia_gateway_is_named_once_and_the_honest_one_is_used() {
    let env = [("SEED", "liar"), ("FILE_MB", "4"), ("DIR_ENTRIES", "10")];
    let liar = HeliaGateway::start(&[env[0], env[1], env[2], ("LIE", "1")]);
    let honest = HeliaGateway::start(&env);
    let file = liar.cid("file_cid");
    assert_eq!(file, honest.cid("file_cid"));
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(dir.path()).unwrap();
    let g = Gateways::new(vec![liar.url.clone(), honest.url.clone()]).unwrap();
    let (r, warnings) = fetch_with(&g, &s, &file, &CancelToken::new(), None).await;
    r.unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains(&liar.url) && warnings[0].contains("do not match"), "{warnings:?}");
    assert_eq!(sha_hex(&s.cat(&file).unwrap()), honest.info["file_sha256"].as_str().unwrap());
    // Block by block (no CARs): its altered block is caught the same way.
    let s = Store::open(&dir.path().join("raw")).unwrap();
    let (r, warnings) = fetch_with(&g.clone().with_car(false), &s, &file, &CancelToken::new(), None).await;
    r.unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains(&liar.url) && warnings[0].contains("do not match"), "{warnings:?}");
    assert_eq!(sha_hex(&s.cat(&file).unwrap()), honest.info["file_sha256"].as_str().unwrap());
}

#[tokio::test]
#[ignore = "needs the Helia npm packages (install/setup.d/30-ipfs.sh)"]
async fn an_interrupted_fetch_leaves_whole_blocks_and_the_next_one_resumes() {
    let gw = HeliaGateway::start(&[("SEED", "resume"), ("FILE_MB", "32"), ("DIR_ENTRIES", "10")]);
    let file = gw.cid("file_cid");
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(dir.path()).unwrap();
    let g = Gateways::new(vec![gw.url.clone()]).unwrap();
    let (r, _) = fetch_with(&g, &s, &file, &CancelToken::new(), Some(10)).await;
    assert!(matches!(r, Err(IpfsError::Cancelled(_))), "{r:?}");
    let (first, cars) = gw.requests().await;
    assert_eq!((first, cars), (0, 1), "the first fetch streams a CAR");
    // Consistent: nothing half written, every stored block hashes to its name.
    assert_eq!(std::fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
    let mut held = 0;
    for sub in std::fs::read_dir(dir.path().join("blocks")).unwrap() {
        for f in std::fs::read_dir(sub.unwrap().path()).unwrap() {
            let p = f.unwrap().path();
            assert_eq!(sha_hex(&std::fs::read(&p).unwrap()), p.file_name().unwrap().to_str().unwrap());
            held += 1;
        }
    }
    assert!(held >= 10, "{held} blocks held");
    let (r, _) = fetch_with(&g, &s, &file, &CancelToken::new(), None).await;
    let r = r.unwrap();
    let total = blocks_in_dag(&s, &file);
    assert_eq!(r.held_blocks + r.fetched_blocks, total);
    assert!(r.held_blocks >= 10, "{r:?}");
    assert_eq!(gw.requests().await, (r.fetched_blocks, 1), "only the missing blocks were requested");
    assert!(r.fetched_blocks < total);
    assert_eq!(sha_hex(&s.cat(&file).unwrap()), gw.info["file_sha256"].as_str().unwrap());
}

#[tokio::test]
#[ignore = "needs the Helia npm packages (install/setup.d/30-ipfs.sh)"]
async fn unknown_cids_big_blocks_silent_gateways_and_malformed_cars_are_one_line_errors() {
    let gw = HeliaGateway::start(&[("SEED", "bad"), ("FILE_MB", "1"), ("DIR_ENTRIES", "10"), ("BIG", "1")]);
    let mangler = HeliaGateway::start(&[("SEED", "bad"), ("FILE_MB", "4"), ("DIR_ENTRIES", "10"), ("MANGLE_CAR", "1")]);
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(dir.path()).unwrap();
    let g = Gateways::new(vec![gw.url.clone()]).unwrap();
    let one_line = |r: Result<FetchReport, IpfsError>| {
        let e = r.unwrap_err().to_string();
        assert!(!e.contains('\n'), "{e}");
        e
    };
    let unknown = kelp_ipfs::cid_of_bytes(b"no one holds this", &AddOptions::default()).unwrap();
    let e = one_line(fetch_with(&g, &s, &unknown, &CancelToken::new(), None).await.0);
    assert!(e.contains(&format!("{} (not found)", gw.url)) && e.contains(&unknown.to_string()), "{e}");
    // Over 2 MiB: refused in the CAR, and block by block.
    let (r, w) = fetch_with(&g, &s, &gw.cid("big_cid"), &CancelToken::new(), None).await;
    assert!(w.len() == 1 && w[0].contains("more than 2 MiB are refused"), "{w:?}");
    assert!(one_line(r).contains("more than 2 MiB"));
    let e = one_line(fetch_with(&g.clone().with_car(false), &s, &gw.cid("big_cid"), &CancelToken::new(), None).await.0);
    assert!(e.contains(&format!("{} (sent more than 2 MiB: refused)", gw.url)), "{e}");
    assert!(!s.has(&gw.cid("big_cid")));
    // A gateway that accepts and never answers: the wait is bounded by the request timeout.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_url = format!("http://{}", silent.local_addr().unwrap());
    let g = Gateways::new(vec![silent_url.clone()]).unwrap().with_timeout(std::time::Duration::from_secs(1));
    let e = one_line(fetch_with(&g, &s, &unknown, &CancelToken::new(), None).await.0);
    assert!(e.contains(&format!("{silent_url} (no answer within 1 s)")), "{e}");
    // Helia's CAR, cut short and garbled by the gateway: one warning line naming it, the rest
    // from the next gateway.
    let file = mangler.cid("file_cid");
    let other = HeliaGateway::start(&[("SEED", "bad"), ("FILE_MB", "4"), ("DIR_ENTRIES", "10")]);
    let g = Gateways::new(vec![mangler.url.clone(), other.url.clone()]).unwrap();
    let (r, w) = fetch_with(&g, &s, &file, &CancelToken::new(), None).await;
    r.unwrap();
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].contains(&mangler.url) && w[0].contains("malformed CAR") && !w[0].contains('\n'), "{w:?}");
    assert_eq!(sha_hex(&s.cat(&file).unwrap()), other.info["file_sha256"].as_str().unwrap());
}

#[tokio::test]
#[ignore = "needs the Helia npm packages (install/setup.d/30-ipfs.sh)"]
async fn helia_verified_fetch_reads_what_kelp_added_from_kelp_ipfs_serve() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(&dir.path().join("store")).unwrap();
    let mut data = Vec::new();
    for i in 0u32..(5 << 15) {
        data.extend_from_slice(&Sha256::digest(i.to_le_bytes())[..32]);
    }
    let file = s.add_bytes(&data, &AddOptions::default()).unwrap().cid;
    let tree = dir.path().join("tree");
    std::fs::create_dir_all(tree.join("sub")).unwrap();
    std::fs::write(tree.join("a.txt"), b"alpha\n").unwrap();
    std::fs::write(tree.join("sub/b.bin"), &data[..700_000]).unwrap();
    let opts = AddOptions { recursive: true, ..AddOptions::profile("unixfs-v1-2025").unwrap() };
    let dcid = s.add_path(&tree, &opts).unwrap().cid;
    let server = GatewayServer::start(s, "127.0.0.1:0".parse().unwrap(), false).await.unwrap();
    let want = [
        (format!("ipfs://{file}"), sha_hex(&data)),
        (format!("ipfs://{dcid}/a.txt"), sha_hex(b"alpha\n")),
        (format!("ipfs://{dcid}/sub/b.bin"), sha_hex(&data[..700_000])),
    ];
    let paths = serde_json::to_string(&want.iter().map(|w| &w.0).collect::<Vec<_>>()).unwrap();
    let sd = script_dir();
    let url = server.url();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("node").arg("verified.mjs").current_dir(sd.path()).env("GATEWAY", url).env("PATHS", paths).output()
    })
    .await
    .unwrap()
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "verified.mjs failed: {stdout} {}", String::from_utf8_lossy(&out.stderr));
    let got: Value = serde_json::from_str(stdout.lines().last().unwrap_or("")).unwrap();
    for (u, sha) in &want {
        assert_eq!(got[u]["status"], 200, "{u}: {got}");
        assert_eq!(got[u]["sha256"], sha.as_str(), "{u}");
    }
    server.stop().await;
}

/// Byte `o` of gateway.mjs's file for `seed`: sha256("seed:n") blocks, concatenated.
fn helia_bytes(seed: &str, from: u64, len: u64) -> Vec<u8> {
    (from..from + len).map(|o| Sha256::digest(format!("{seed}:{}", o / 32))[(o % 32) as usize]).collect()
}

fn blocks_held(store_dir: &Path) -> usize {
    std::fs::read_dir(store_dir.join("blocks"))
        .unwrap()
        .map(|d| std::fs::read_dir(d.unwrap().path()).unwrap().count())
        .sum()
}

#[tokio::test]
#[ignore = "needs the Helia npm packages (install/setup.d/30-ipfs.sh)"]
async fn cat_of_a_range_fetches_only_the_blocks_that_hold_it() {
    let gw = HeliaGateway::start(&[("SEED", "range"), ("FILE_MB", "8"), ("DIR_ENTRIES", "10")]);
    let file = gw.cid("file_cid");
    let dir = tempfile::tempdir().unwrap();
    // %ipfs cat --offset/--length: one CAR request, read only until the range's blocks are in
    // (Helia's gateway ignores entity-bytes and sends the whole DAG).
    let c = cell(dir.path());
    c.env.set("KELP_IPFS_GATEWAYS", Some(gw.url.clone()));
    let out = c.ok(&format!("ipfs cat {file} --offset 3000000 --length 16")).await;
    assert_eq!(out.json().unwrap()["length"], 16);
    assert_eq!(gw.requests().await, (0, 1));
    assert_eq!(blocks_held(&dir.path().join("home/ipfs")), 2, "the root and the leaf holding the range");
    // Block by block the same: root + one 1 MiB leaf; the bytes are Helia's.
    let s = Store::open(&dir.path().join("raw")).unwrap();
    let g = Gateways::new(vec![gw.url.clone()]).unwrap().with_car(false);
    let scope = Scope::Bytes { from: 5_000_000, to: Some(5_000_099) };
    let r = g.fetch(&s, &file, scope, &CancelToken::new(), &mut |_| {}).await.unwrap();
    assert_eq!(r.fetched_blocks, 2);
    assert_eq!(gw.requests().await, (2, 1));
    let mut got = Vec::new();
    s.cat_to(&file, 5_000_000, Some(100), &mut got, &mut |_| Ok(())).unwrap();
    assert_eq!(got, helia_bytes("range", 5_000_000, 100));
}
