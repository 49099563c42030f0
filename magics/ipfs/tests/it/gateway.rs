//! kelp's trustless gateway (`kelp ipfs serve --gateway`, [`GatewayServer`]) and kelp's verified
//! fetch against it, all on loopback: one store serves, another fetches. Liars and unreachable
//! gateways are real HTTP servers (axum) that answer wrongly or not at all.

use crate::support::cell;
use kelp_ipfs::fetch::{FetchEvent, Gateways, Scope};
use kelp_ipfs::gateway::GatewayServer;
use kelp_ipfs::{AddOptions, Cid, IpfsError, Store};
use kelp_magic::CancelToken;
use sha2::{Digest, Sha256};
use std::path::Path;

/// `n` bytes that never repeat a chunk: sha256(seed, counter) blocks.
fn bytes(n: usize, seed: u8) -> Vec<u8> {
    let mut out = Vec::with_capacity(n + 32);
    let mut i = 0u64;
    while out.len() < n {
        out.extend_from_slice(&Sha256::digest([&[seed][..], &i.to_le_bytes()].concat()));
        i += 1;
    }
    out.truncate(n);
    out
}

fn store(dir: &Path, name: &str) -> Store {
    Store::open(&dir.join(name)).unwrap()
}

/// A served store holding a 3 MiB file (13 blocks) and a 3-entry directory.
async fn served(dir: &Path) -> (GatewayServer, Cid, Cid, Vec<u8>) {
    let s = store(dir, "served");
    let data = bytes(3 << 20, 1);
    let file = s.add_bytes(&data, &AddOptions::default()).unwrap().cid;
    let tree = dir.join("tree");
    std::fs::create_dir_all(tree.join("sub")).unwrap();
    std::fs::write(tree.join("a.txt"), b"alpha\n").unwrap();
    std::fs::write(tree.join("sub/b.bin"), bytes(300_000, 2)).unwrap();
    let opts = AddOptions { recursive: true, ..AddOptions::default() };
    let dcid = s.add_path(&tree, &opts).unwrap().cid;
    let gw = GatewayServer::start(s, "127.0.0.1:0".parse().unwrap(), false).await.unwrap();
    (gw, file, dcid, data)
}

async fn fetch(
    g: &Gateways,
    s: &Store,
    c: &Cid,
    scope: Scope,
) -> (Result<kelp_ipfs::fetch::FetchReport, IpfsError>, Vec<String>) {
    let mut warnings = Vec::new();
    let r = g
        .fetch(s, c, scope, &CancelToken::new(), &mut |e| {
            if let FetchEvent::Warning(w) = e {
                warnings.push(w)
            }
        })
        .await;
    (r, warnings)
}

#[tokio::test]
async fn serves_raw_blocks_and_cars_per_the_spec() {
    let dir = tempfile::tempdir().unwrap();
    let (gw, file, _, data) = served(dir.path()).await;
    let http = reqwest::Client::new();
    let url = format!("{}/ipfs/{file}", gw.url());
    let r = http.get(format!("{url}?format=raw")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let h = r.headers().clone();
    assert_eq!(h["content-type"], "application/vnd.ipld.raw");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["cache-control"], "public, max-age=29030400, immutable");
    assert_eq!(h["etag"], format!("\"{file}.raw\""));
    let block = r.bytes().await.unwrap();
    assert_eq!(kelp_ipfs::importer::sha256_multihash(&block), *file.hash());
    // Accept header instead of ?format; HEAD gives the headers and no body.
    let r = http.get(&url).header("accept", "application/vnd.ipld.raw").send().await.unwrap();
    assert_eq!(r.bytes().await.unwrap(), block);
    let r = http.head(format!("{url}?format=raw")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["etag"], format!("\"{file}.raw\""));
    assert!(r.bytes().await.unwrap().is_empty());
    // A CAR of everything imports into an empty store and reads back the same bytes.
    let r = http.get(format!("{url}?format=car&dag-scope=all")).send().await.unwrap();
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("application/vnd.ipld.car; version=1"));
    let car = r.bytes().await.unwrap();
    let other = store(dir.path(), "other");
    let imp = kelp_ipfs::car::import(&other, &mut &car[..], false, &mut |_| Ok(())).unwrap();
    assert_eq!(imp.complete_roots, vec![file]);
    assert_eq!(other.cat(&file).unwrap(), data);
    // dag-scope=block: the root alone.
    let car = http.get(format!("{url}?format=car&dag-scope=block")).send().await.unwrap().bytes().await.unwrap();
    let one = store(dir.path(), "one");
    assert_eq!(kelp_ipfs::car::import(&one, &mut &car[..], false, &mut |_| Ok(())).unwrap().blocks, 1);
    // Errors: bad CID 400, missing 404, no format 406, bad scope 400.
    let missing = kelp_ipfs::cid_of_bytes(b"nobody has this", &AddOptions::default()).unwrap();
    let status = |u: String| {
        let http = http.clone();
        async move { http.get(u).send().await.unwrap().status().as_u16() }
    };
    assert_eq!(status(format!("{}/ipfs/not-a-cid?format=raw", gw.url())).await, 400);
    assert_eq!(status(format!("{}/ipfs/{missing}?format=raw", gw.url())).await, 404);
    assert_eq!(status(url.clone()).await, 406);
    assert_eq!(status(format!("{url}?format=car&dag-scope=nope")).await, 400);
    gw.stop().await;
}

#[tokio::test]
async fn non_loopback_binds_are_refused_without_allow_remote() {
    let dir = tempfile::tempdir().unwrap();
    let e = GatewayServer::start(store(dir.path(), "s"), "0.0.0.0:0".parse().unwrap(), false).await.unwrap_err();
    let e = e.to_string();
    assert!(e.contains("0.0.0.0") && e.contains("--allow-remote") && !e.contains('\n'), "{e}");
}

#[tokio::test]
async fn fetch_from_a_kelp_gateway_file_and_directory_entity_and_block_scopes() {
    let dir = tempfile::tempdir().unwrap();
    let (gw, file, dcid, data) = served(dir.path()).await;
    let g = Gateways::new(vec![gw.url()]).unwrap();
    let local = store(dir.path(), "local");
    let (r, w) = fetch(&g, &local, &dcid, Scope::Block).await;
    assert_eq!((r.unwrap().fetched_blocks, w.len()), (1, 0));
    let (r, _) = fetch(&g, &local, &dcid, Scope::Entity).await;
    // Root held; a.txt and sub/ root blocks fetched, not sub/b.bin.
    assert_eq!(r.unwrap().fetched_blocks, 2);
    assert_eq!(kelp_ipfs::exporter::ls(&local, &dcid).unwrap().len(), 2);
    let (r, _) = fetch(&g, &local, &dcid, Scope::All).await;
    let r = r.unwrap();
    assert!(r.fetched_blocks >= 2 && r.held_blocks == 3, "{r:?}");
    local.get(&dcid, &dir.path().join("out")).unwrap();
    assert_eq!(std::fs::read(dir.path().join("out/sub/b.bin")).unwrap(), bytes(300_000, 2));
    let (r, _) = fetch(&g, &local, &file, Scope::All).await;
    assert_eq!(r.unwrap().fetched_blocks, 13);
    assert_eq!(Sha256::digest(local.cat(&file).unwrap()), Sha256::digest(&data));
    // All held now: nothing is fetched again, and offline works.
    let (r, _) = fetch(&g.clone().offline(true), &local, &file, Scope::All).await;
    assert_eq!(r.unwrap().fetched_blocks, 0);
}

/// A gateway that answers every block request with the same wrong bytes.
async fn liar() -> (String, tokio::task::JoinHandle<()>) {
    let app = axum::Router::new().route("/ipfs/{cid}", axum::routing::get(|| async { b"not the block".to_vec() }));
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    (url, tokio::spawn(async move { axum::serve(l, app).await.unwrap() }))
}

#[tokio::test]
async fn a_lying_gateway_is_named_once_and_skipped_and_dead_ones_are_named_in_one_error() {
    let dir = tempfile::tempdir().unwrap();
    let (gw, file, _, data) = served(dir.path()).await;
    let (liar_url, _t) = liar().await;
    let g = Gateways::new(vec![liar_url.clone(), gw.url()]).unwrap();
    let local = store(dir.path(), "local");
    // Its "CAR" is garbage: one warning, and the honest gateway's CAR is used.
    let (r, w) = fetch(&g, &local, &file, Scope::All).await;
    assert_eq!(r.unwrap().fetched_blocks, 13);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].contains(&liar_url) && w[0].contains("malformed CAR"), "{w:?}");
    assert_eq!(local.cat(&file).unwrap(), data);
    // Block by block, its blocks do not hash to their CIDs: one warning.
    let raw_only = store(dir.path(), "raw");
    let (r, w) = fetch(&g.clone().with_car(false), &raw_only, &file, Scope::All).await;
    assert_eq!(r.unwrap().fetched_blocks, 13);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].contains(&liar_url) && w[0].contains("do not match"), "{w:?}");
    assert_eq!(raw_only.cat(&file).unwrap(), data);
    // Only the liar, and a closed port: one error line naming both and why.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let g = Gateways::new(vec![liar_url.clone(), closed.clone()]).unwrap();
    let empty = store(dir.path(), "empty");
    let (r, _) = fetch(&g, &empty, &file, Scope::All).await;
    let e = r.unwrap_err().to_string();
    assert!(e.contains(&liar_url) && e.contains(&closed) && e.contains("unreachable") && !e.contains('\n'), "{e}");
    // A CID no gateway has.
    let missing = kelp_ipfs::cid_of_bytes(b"nobody has this", &AddOptions::default()).unwrap();
    let (r, _) = fetch(&Gateways::new(vec![gw.url()]).unwrap(), &empty, &missing, Scope::All).await;
    let e = r.unwrap_err().to_string();
    assert!(e.contains(&format!("{} (not found)", gw.url())), "{e}");
}

#[tokio::test]
async fn magic_reads_through_gateways_and_offline_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let (gw, file, dcid, data) = served(dir.path()).await;
    let c = cell(dir.path());
    c.env.set("KELP_IPFS_GATEWAYS", Some(gw.url()));
    let e = c.run(&format!("ipfs stat --offline {file}")).await.unwrap_err().to_string();
    assert!(e.contains("offline") && !e.contains('\n'), "{e}");
    let st = c.run(&format!("ipfs stat {file}")).await.unwrap();
    assert_eq!(st.json().unwrap()["size"], data.len());
    c.run(&format!("ipfs get {dcid} -o got")).await.unwrap();
    assert_eq!(std::fs::read(dir.path().join("got/a.txt")).unwrap(), b"alpha\n");
    // The config sets the gateways too; the environment wins over it.
    let set = c.run("ipfs config gateways http://127.0.0.1:9,http://127.0.0.1:10").await.unwrap();
    assert_eq!(set.json().unwrap()["gateways"][1], "http://127.0.0.1:10");
    c.run(&format!("ipfs cat {file} --length 5")).await.unwrap();
    c.env.set("KELP_IPFS_GATEWAYS", None);
    let other = kelp_ipfs::cid_of_bytes(b"elsewhere", &AddOptions::default()).unwrap();
    let e = c.run(&format!("ipfs cat {other}")).await.unwrap_err().to_string();
    assert!(e.contains("http://127.0.0.1:9 (unreachable)") && e.contains("http://127.0.0.1:10"), "{e}");
    let e = c.run("ipfs config gateways ftp://x").await.unwrap_err().to_string();
    assert!(e.contains("ftp://x"), "{e}");
}

#[tokio::test]
async fn byte_ranges_fetch_and_serve_only_the_blocks_they_need() {
    let dir = tempfile::tempdir().unwrap();
    let (gw, file, _, data) = served(dir.path()).await;
    // Served: root + the one leaf holding bytes 1_000_000..=1_000_099 (leaves are 256 KiB).
    let url = format!("{}/ipfs/{file}?format=car&dag-scope=entity&entity-bytes=1000000:1000099", gw.url());
    let r = reqwest::get(&url).await.unwrap();
    assert_eq!(r.headers()["etag"], format!("\"{file}.car.entity.1000000:1000099\""));
    let car = r.bytes().await.unwrap();
    let one = store(dir.path(), "one");
    assert_eq!(kelp_ipfs::car::import(&one, &mut &car[..], false, &mut |_| Ok(())).unwrap().blocks, 2);
    let bad = format!("{}/ipfs/{file}?format=car&dag-scope=entity&entity-bytes=9:1", gw.url());
    assert_eq!(reqwest::get(&bad).await.unwrap().status(), 400);
    // Fetched, as a CAR and block by block: the same two blocks, and the range reads back.
    for car in [true, false] {
        let local = store(dir.path(), if car { "car" } else { "raw" });
        let g = Gateways::new(vec![gw.url()]).unwrap().with_car(car);
        let scope = Scope::Bytes { from: 1_000_000, to: Some(1_000_099) };
        let (r, _) = fetch(&g, &local, &file, scope).await;
        assert_eq!(r.unwrap().fetched_blocks, 2, "car: {car}");
        let mut out = Vec::new();
        local.cat_to(&file, 1_000_000, Some(100), &mut out, &mut |_| Ok(())).unwrap();
        assert_eq!(out, &data[1_000_000..1_000_100]);
        // Reading past the range needs blocks that were not fetched.
        assert!(local.cat_to(&file, 0, Some(10), &mut Vec::new(), &mut |_| Ok(())).is_err());
    }
}

#[tokio::test]
async fn ls_of_a_held_directory_lists_even_when_its_entries_cannot_be_fetched() {
    let dir = tempfile::tempdir().unwrap();
    // A CIDv1 directory: its two small files are raw blocks, listed from their links alone.
    let tree = dir.path().join("tree");
    std::fs::create_dir_all(&tree).unwrap();
    std::fs::write(tree.join("a.txt"), b"alpha\n").unwrap();
    std::fs::write(tree.join("b.txt"), b"beta\n").unwrap();
    let served = store(dir.path(), "served");
    let opts = AddOptions { recursive: true, cid_version: 1, ..AddOptions::default() };
    let dcid = served.add_path(&tree, &opts).unwrap().cid;
    let gw = GatewayServer::start(served, "127.0.0.1:0".parse().unwrap(), false).await.unwrap();
    let c = cell(dir.path());
    let sink = c.sink.clone();
    // Only the directory's own block is held; then the gateways are unreachable.
    let local = Store::open(&dir.path().join("home/ipfs")).unwrap();
    let g = Gateways::new(vec![gw.url()]).unwrap();
    assert_eq!(fetch(&g, &local, &dcid, Scope::Block).await.0.unwrap().fetched_blocks, 1);
    gw.stop().await;
    c.env.set("KELP_IPFS_GATEWAYS", Some("http://127.0.0.1:9".into()));
    let out = c.run(&format!("ipfs ls {dcid}")).await.unwrap();
    assert_eq!(out.json().unwrap()["entries"].as_array().unwrap().len(), 2);
    let warned = sink.events().iter().any(
        |e| matches!(e, kelp_magic::SinkEvent::Stream(_, t) if t.starts_with("warning:") && t.contains("127.0.0.1:9")),
    );
    assert!(warned, "{:?}", sink.events());
}

#[tokio::test]
async fn a_delegated_router_names_the_gateway_that_holds_a_cid() {
    let dir = tempfile::tempdir().unwrap();
    let (gw, file, _, data) = served(dir.path()).await;
    // A Routing V1 endpoint (IPIP-337) naming kelp's gateway, and a bitswap-only peer it ignores.
    let port = gw.addr().port();
    let answer = serde_json::json!({"Providers": [
        {"Schema": "peer", "ID": "12D3KooWA", "Addrs": ["/ip4/127.0.0.1/tcp/4001"], "Protocols": ["transport-bitswap"]},
        {"Schema": "peer", "ID": "12D3KooWB", "Addrs": [format!("/ip4/127.0.0.1/tcp/{port}/http")], "Protocols": ["transport-ipfs-gateway-http"]},
    ]});
    let want = format!("/routing/v1/providers/{file}");
    let app = axum::Router::new().route(
        "/routing/v1/providers/{cid}",
        axum::routing::get(move |axum::extract::Path(c): axum::extract::Path<String>| {
            let (answer, ok) = (answer.clone(), format!("/routing/v1/providers/{c}") == want);
            async move {
                if ok {
                    (axum::http::StatusCode::OK, axum::Json(answer))
                } else {
                    (axum::http::StatusCode::NOT_FOUND, axum::Json(serde_json::json!({})))
                }
            }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let router = format!("http://{}", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    // No gateway configured: everything comes through the one the router names.
    let g = Gateways::new(vec![]).unwrap().with_routers(vec![router.clone()]).unwrap();
    let local = store(dir.path(), "local");
    let (r, w) = fetch(&g, &local, &file, Scope::All).await;
    assert_eq!((r.unwrap().fetched_blocks, w.len()), (13, 0));
    assert_eq!(local.cat(&file).unwrap(), data);
    // A CID the router knows no provider for: one error line.
    let missing = kelp_ipfs::cid_of_bytes(b"nobody has this", &AddOptions::default()).unwrap();
    let e = fetch(&g, &local, &missing, Scope::All).await.0.unwrap_err().to_string();
    assert!(e.contains("no gateway") && !e.contains('\n'), "{e}");
    // KELP_IPFS_ROUTERS is read with the gateways.
    let env = |k: &str| (k == kelp_ipfs::fetch::ROUTERS_ENV).then(|| "ftp://nope".to_string());
    assert!(Gateways::from_env(env, &[]).unwrap_err().to_string().contains("ftp://nope"));
}

/// A gateway in front of `upstream` that waits `delay` before answering each request (the
/// answer itself is upstream's, status, type and body).
async fn slow(upstream: String, delay: std::time::Duration) -> (String, tokio::task::JoinHandle<()>) {
    use axum::http::{HeaderMap, StatusCode, Uri, header};
    let app = axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap| {
        let upstream = upstream.clone();
        async move {
            tokio::time::sleep(delay).await;
            let mut req = reqwest::Client::new().get(format!("{upstream}{uri}"));
            if let Some(a) = headers.get(header::ACCEPT) {
                req = req.header(header::ACCEPT, a.as_bytes());
            }
            let r = req.send().await.unwrap();
            let status = StatusCode::from_u16(r.status().as_u16()).unwrap();
            let ty = r.headers().get(header::CONTENT_TYPE).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
            (status, [(header::CONTENT_TYPE, ty)], r.bytes().await.unwrap())
        }
    });
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    (url, tokio::spawn(async move { axum::serve(l, app).await.unwrap() }))
}

/// A gateway that accepts connections and never answers; counts the connections.
async fn silent() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    let n = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = n.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = l.accept().await {
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            held.push(s);
        }
    });
    (url, n)
}

#[tokio::test]
async fn a_silent_gateway_is_dropped_for_a_slow_one_and_the_get_shows_progress() {
    let dir = tempfile::tempdir().unwrap();
    let (gw, file, _, data) = served(dir.path()).await;
    let (silent_url, connections) = silent().await;
    let (slow_url, _t) = slow(gw.url(), std::time::Duration::from_millis(700)).await;
    let c = cell(dir.path());
    let sink = c.sink.clone();
    c.env.set("KELP_IPFS_GATEWAYS", Some(format!("{silent_url},{slow_url}")));
    c.env.set("KELP_IPFS_GATEWAY_TIMEOUT", Some("1".into()));
    c.run(&format!("ipfs get {file} -o got.bin")).await.unwrap();
    assert_eq!(std::fs::read(dir.path().join("got.bin")).unwrap(), data);
    // The silent one was asked once (its CAR), timed out, and was not asked again.
    assert_eq!(connections.load(std::sync::atomic::Ordering::SeqCst), 1);
    // The fetch outlived the progress delay: a bar labelled with the CID, then its final line.
    let events = sink.events();
    let shown = events.iter().find_map(|e| match e {
        kelp_magic::SinkEvent::Display(o, Some(id)) if o.plain().is_some_and(|t| t.contains("fetching")) => {
            Some((o.plain().unwrap().to_string(), id.clone()))
        }
        _ => None,
    });
    let (label, id) = shown.unwrap_or_else(|| panic!("no progress display in {events:?}"));
    assert!(label.contains(&format!("fetching {file} from gateways (verified)")), "{label}");
    let last = events.iter().rev().find_map(|e| match e {
        kelp_magic::SinkEvent::Update(o, i) if *i == id => o.plain().map(str::to_string),
        _ => None,
    });
    let last = last.expect("the bar was updated");
    assert!(last.starts_with("fetched 13 blocks ("), "{last}");
    assert!(last.ends_with(&format!("of {file}, every one verified")), "{last}");
}
