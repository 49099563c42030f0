//! kelp's Ocean client against a replay of a real Ocean Node v3.1.0 (common/replay.rs):
//! the answers are the ones a real node gave, and every request kelp sends is checked against
//! the request the real client sent (route, query keys, JSON key set and value types, content
//! type, signature message). Flows that need a chain (orders) are tested on their node side:
//! initialize (provider fee that `startOrder` takes) and download.

use crate::common;

use alloy::primitives::{Address, Signature, U256, address};
use common::replay::{Replay, record};
use kelp_c2d::Status;
use kelp_ocean::compute::{self, client::ComputeClient};
use kelp_ocean::magics::ocean::asset_rows;
use kelp_ocean::provider::{NodeClient, wire};
use kelp_ocean::signer::LocalKeySigner;
use kelp_ocean_wire::fees;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const FREE: &str = "did:op:5596a837c68a80a781220447646381af05f82d7062e47727da68c6409caecc8d";
const PRICED: &str = "did:op:1b1e94cca5b84473bc2e4b47bd5c8c8d64acb43e0ae32e610a89854d867db87d";
const BUSYBOX_ALGO: &str = "did:op:96a23d174e2f39f35a6b06a45d1e1f2c605f6a4543c896c5ea6cf178d6e10306";
const URL_DATASET: &str = "did:op:eaedd7f9942ce2bced50808c7e3784ca3b0cc8d559def48d7683558d8f47518c";
const ENV: &str = "0x0fdb8cfbf3acbe2f82588f761fcc3bc23be64d0d29809b72f550b2c61c59bdbf-0x92b6af9733b6cc7b51dea25c0343d77cb71a365e7d3ce340d4889a799c11fd1b";
/// The free url job, as `freeCompute` answered it (`<engine hash>-<id>`).
const JOB: &str = "0x0fdb8cfbf3acbe2f82588f761fcc3bc23be64d0d29809b72f550b2c61c59bdbf-77456278f92db9a82d4cf833621b513e90fc1bb686c28054f5796a59e8591d26";
/// The node's own key (anvil #9): provider fees are signed by it.
const NODE_KEY: Address = address!("a0Ee7A142d267C1f36714E4a8F75612F20a79720");
const PUBLISHER: Address = address!("70997970C51812dc3A010C7d01b50e0d17dc79C8");
const OCEAN: Address = address!("e7f1725E7734CE288F8367e1Bb143E90bb3F0512");

/// anvil #2, the consumer of the recordings.
fn consumer() -> LocalKeySigner {
    LocalKeySigner::dev_account(2, "http://127.0.0.1:1", 8996).unwrap()
}

/// A nonce answer for any address (`{"nonce":"0"}`, a string, as the node sends it).
const NONCE: (&str, &[&str]) = ("nonce_fresh_address", &["userAddress"]);

fn sha256_hex(b: &[u8]) -> String {
    alloy::hex::encode(Sha256::digest(b))
}

fn one_line(e: &impl std::fmt::Display) -> String {
    let e = e.to_string();
    assert!(!e.contains('\n'), "more than one line: {e}");
    e
}

#[tokio::test]
async fn root_lists_chain_ids_as_strings_and_the_provider() {
    let r = Replay::start(&["kelp_publish_root"]).await;
    assert_eq!(NodeClient::new(&r.url).check(8996).await.unwrap(), NODE_KEY);
    r.assert_clean(true);
    let r = Replay::start(&["kelp_publish_root"]).await;
    let e = one_line(&NodeClient::new(&r.url).check(1).await.unwrap_err());
    assert!(e.contains("but not 1") && e.contains("8996"), "{e}");
}

#[tokio::test]
async fn show_reads_the_indexed_ddo_its_owner_and_prices() {
    let r = Replay::start(&[
        "kelp_publish_poll_ddo_not_yet_indexed",
        "kelp_publish_poll_ddo_indexed",
        "ddo_found_fixed_price",
        "ddo_unknown_did",
        "ddo_bad_did",
    ])
    .await;
    let node = NodeClient::new(&r.url);
    // Polling: first "DDO not found" (404 text), then the DDO.
    let ddo = node.wait_ddo(FREE, std::time::Duration::from_secs(30)).await.unwrap();
    assert_eq!(ddo["id"], FREE);
    // Ocean Node has no top-level `nft`: the owner is in indexedMetadata.
    assert!(ddo["nft"].is_null());
    assert_eq!(wire::owner(&ddo), Some(PUBLISHER));
    assert_eq!(
        wire::prices(&ddo),
        vec![
            json!({"serviceId": "0", "type": "dispenser", "price": "0", "token": ddo["services"][0]["datatokenAddress"]})
        ]
    );
    let priced = node.ddo(PRICED).await.unwrap().unwrap();
    assert_eq!(wire::prices(&priced)[0]["type"], "fixedrate");
    assert_eq!(wire::prices(&priced)[0]["price"], "1.0");
    let zero = format!("did:op:{}", "0".repeat(64));
    assert!(node.ddo(&zero).await.unwrap().is_none());
    let e = one_line(&node.ddo("not-a-did").await.unwrap_err());
    assert!(e.starts_with(&format!("Ocean node {}: HTTP 400", r.url)), "{e}");
    r.assert_clean(true);
}

#[tokio::test]
async fn get_free_asset_node_side_initialize_and_download() {
    let r = Replay::start_ignoring(
        &["nonce_fresh_address", "kelp_get_initialize_free", "kelp_get_download_free_ipfs"],
        &[NONCE],
    )
    .await;
    let node = NodeClient::new(&r.url);
    let me = consumer();
    // initialize: nonce "0" (a string), providerFee with amount "0" and v/validUntil numbers.
    let init = node.initialize(FREE, "0", me.account()).await.unwrap();
    assert_eq!(init.nonce, 0);
    assert_eq!(init.datatoken, address!("e082b26cef079a095147f35c9647ec97c2401b83"));
    assert_eq!(init.compute_address, Some(me.account()));
    let fee = &init.provider_fee;
    assert_eq!((fee.provider_fee_address, fee.provider_fee_token, fee.v, fee.valid_until), (NODE_KEY, OCEAN, 27, 0));
    let data: Value = serde_json::from_slice(&alloy::hex::decode(&fee.provider_data).unwrap()).unwrap();
    assert_eq!(data, json!({"dt": "0xe082b26cef079a095147f35c9647ec97c2401b83", "id": "0"}));
    // What startOrder takes: the tuple whose hash the node signed.
    let c = fee.to_contract().unwrap();
    let hash =
        fees::fee_hash(&c.providerData, c.providerFeeAddress, c.providerFeeToken, c.providerFeeAmount, c.validUntil);
    let sig = Signature::new(U256::from_be_bytes(c.r.0), U256::from_be_bytes(c.s.0), c.v == 28);
    assert_eq!(sig.recover_address_from_msg(hash.as_slice()).unwrap(), NODE_KEY);
    // download on the recorded order: nonce 1 signed "download" — byte-equal to the recording.
    let rec = record("kelp_get_download_free_ipfs");
    let tx = rec.request["query"]["transferTxId"].as_str().unwrap().parse().unwrap();
    let (bytes, cid) = node.download(&me, FREE, "0", tx, 0).await.unwrap();
    assert_eq!(sha256_hex(&bytes), rec.response["body"]["sha256"].as_str().unwrap());
    assert_eq!(cid, None, "Ocean Node sends no CID header");
    // The node keys nonces by the exact address text: the nonce asked for is the signer's.
    let got = r.got();
    let asked = got.iter().find(|g| g.path == "/api/services/nonce").unwrap();
    let sent = got.iter().find(|g| g.path == "/api/services/download").unwrap();
    assert_eq!(asked.query["userAddress"], sent.query["consumerAddress"]);
    assert_eq!(sent.query["consumerAddress"], json!(me.account().to_checksum(None)));
    r.assert_clean(true);
}

#[tokio::test]
async fn get_fixed_price_asset_node_side() {
    let r = Replay::start_ignoring(
        &["nonce_fresh_address", "kelp_get_initialize_fixed_price", "kelp_get_download_fixed_price_url"],
        &[NONCE],
    )
    .await;
    let node = NodeClient::new(&r.url);
    let me = consumer();
    let init = node.initialize(PRICED, "0", me.account()).await.unwrap();
    // The price is not in initialize; the fee is the node's (0 OCEAN); the nonce "1" a string.
    assert_eq!((init.nonce, init.provider_fee.provider_fee_amount.as_str()), (1, "0"));
    let rec = record("kelp_get_download_fixed_price_url");
    let tx = rec.request["query"]["transferTxId"].as_str().unwrap().parse().unwrap();
    let (bytes, _) = node.download(&me, PRICED, "0", tx, 0).await.unwrap();
    assert_eq!(bytes, b"priced,file\n42,43\n");
    r.assert_clean(true);
}

#[tokio::test]
async fn node_errors_are_one_line() {
    let r = Replay::start_ignoring(
        &["initialize_unknown_did", "nonce_fresh_address", "download_used_nonce"],
        &[NONCE, ("initialize_unknown_did", &["consumerAddress"]), ("download_used_nonce", &["consumerAddress"])],
    )
    .await;
    let node = NodeClient::new(&r.url);
    let me = consumer();
    let q = record("initialize_unknown_did").request["query"].clone();
    let e = one_line(&node.initialize(q["documentId"].as_str().unwrap(), "0", me.account()).await.unwrap_err());
    assert!(e.ends_with("HTTP 500: Asset provided is either null, either undefined null"), "{e}");
    let q = record("download_used_nonce").request["query"].clone();
    let tx = q["transferTxId"].as_str().unwrap().parse().unwrap();
    let e = one_line(&node.download(&me, q["documentId"].as_str().unwrap(), "0", tx, 0).await.unwrap_err());
    assert!(e.contains("HTTP 401") && e.contains("is not a valid nonce"), "{e}");
}

#[tokio::test]
async fn assets_query_in_the_nodes_syntax_and_its_typesense_answer() {
    let r = Replay::start(&["kelp_assets_query_all"]).await;
    let node = NodeClient::new(&r.url);
    let found = node.query(&wire::bool_query(&[])).await.unwrap();
    assert_eq!(found.len(), 3, "the three DDOs of op_ddo_v4.1.0");
    let mine = asset_rows(&found, Some(PUBLISHER), None);
    assert_eq!(mine.len(), 3);
    assert!(mine.iter().all(|a| a.owner == Some(PUBLISHER)), "{mine:?}");
    let priced: Vec<_> = mine.iter().filter(|a| a.did.as_deref() == Some(PRICED)).collect();
    assert_eq!(priced[0].prices[0].price, "1.0");
    // Order counts as the real node counted them (the free and the priced asset were each
    // ordered once).
    let orders: Vec<(String, u64)> = mine.iter().map(|a| (a.did.clone().unwrap(), a.orders)).collect();
    assert!(orders.contains(&(FREE.to_string(), 1)) && orders.contains(&(PRICED.to_string(), 1)), "{orders:?}");
    assert_eq!(orders.iter().map(|o| o.1).sum::<u64>(), 2, "{orders:?}");
    assert!(asset_rows(&found, Some(consumer().account()), None).is_empty());
    let reef = asset_rows(&found, None, Some("TEMPERATURES"));
    assert_eq!(reef.len(), 1);
    assert_eq!(reef[0].did.as_deref(), Some(FREE));
    r.assert_clean(true);

    // The bodies kelp sent before (no `query.bool`) get Ocean Node's 500, as one line.
    let r = Replay::start(&["query_kelp_empty_body"]).await;
    let e = one_line(&NodeClient::new(&r.url).query(&json!({})).await.unwrap_err());
    assert!(e.ends_with("HTTP 500: Internal Server Error"), "{e}");
}

#[tokio::test]
async fn file_info_on_the_services_route_and_zero_length_refused() {
    let r = Replay::start(&["kelp_publish_trust_fileinfo", "fileinfo_did_service_url_checksum_flag"]).await;
    let node = NodeClient::new(&r.url);
    // The answer has no content type; contentLength is a string.
    let sums = node.file_checksums(BUSYBOX_ALGO, "0").await.unwrap();
    assert_eq!(sums, vec!["ec63360a6f96202963ffa3bf8c32541ee71be793ad2a6676e36a7b45da24231f".to_string()]);
    let info = node.file_info(PRICED, "0").await.unwrap();
    assert_eq!((info[0].content_length, info[0].name.as_str(), info[0].kind.as_str()), (Some(18), "priced.csv", "url"));
    assert_eq!(info[0].checksum.as_deref(), Some(sha256_hex(b"priced,file\n42,43\n").as_str()));
    r.assert_clean(true);

    // The gateway down: valid:true, contentLength "0", sha256 of nothing — refused in one line.
    // (The node ignores the checksum flag, which that script did not send.)
    let r = Replay::start_ignoring(
        &["fileinfo_did_service_gateway_down"],
        &[("fileinfo_did_service_gateway_down", &["checksum"])],
    )
    .await;
    let e = one_line(&NodeClient::new(&r.url).file_checksums(FREE, "0").await.unwrap_err());
    assert!(e.contains("0 bytes") && e.contains(FREE) && e.contains("unreachable"), "{e}");
    assert!(r.problems().iter().all(|p| p.contains("body.checksum")), "{:?}", r.problems());
}

#[tokio::test]
async fn c2d_envs_and_initialize_compute_with_payment() {
    let r = Replay::start(&["kelp_c2d_envs", "kelp_c2d_initialize_compute_payment_added"]).await;
    let c = ComputeClient::new(&r.url);
    let envs = c.environments(8996).await.unwrap();
    assert_eq!(envs.len(), 1);
    assert_eq!(envs[0]["id"], ENV);
    // payment: chainId a number, token the environment's feeToken as it spells it.
    let payment = compute::payment(&envs[0], 8996, Address::ZERO);
    assert_eq!(payment, json!({"chainId": 8996, "token": "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"}));
    let body = compute::initialize_body(&[(URL_DATASET, "0")], (BUSYBOX_ALGO, "0"), ENV, payment, consumer().account());
    let e = one_line(&c.initialize(&body).await.unwrap_err());
    assert_eq!(e, format!("Ocean node {}: Cannot handle payments on chainId: 8996", r.url));
    // The body matched the recorded one exactly (payment included).
    r.assert_clean(true);
    // An environment without a fee for the chain: the network's OCEAN.
    assert_eq!(compute::payment(&json!({"fees": {}}), 8996, OCEAN)["token"], json!(OCEAN.to_checksum(None)));
}

#[tokio::test]
async fn c2d_status_of_a_prefixed_job_id() {
    let r = Replay::start(&["free_compute_url_status_71"]).await;
    let job = ComputeClient::new(&r.url).status(consumer().account(), JOB).await.unwrap();
    let state = compute::state_of(&job).unwrap();
    assert_eq!(state.status, Status::from_code(71).unwrap());
    assert_eq!(state.finished, Some(1_796_395_063.662));
    // In kelp's numbering (0 = algorithm.log, 1 = outputs.tar: what `%c2d result` and `%c2d logs`
    // read), not the node's (image.log first): a real node's job used to unpack image.log as
    // the log and configuration.log as the tar ("This does not look like a tar archive").
    let names: Vec<(&str, usize)> = state.results.iter().map(|f| (f.filename.as_str(), f.index)).collect();
    assert_eq!(names, [("algorithm.log", 0), ("outputs.tar", 1), ("image.log", 2), ("configuration.log", 3)]);
    assert_eq!(
        (state.results[1].kind.as_str(), state.results[1].index, state.results[1].filesize),
        ("output", 1, 2560)
    );
    // computeResult is asked with the node's own index.
    let (file, node_index) = compute::results::node_index(job["results"].as_array().unwrap(), 1).unwrap();
    assert_eq!((file.filename.as_str(), node_index), ("outputs.tar", 3));
    assert_eq!(compute::results::node_index(job["results"].as_array().unwrap(), 0).unwrap().1, 2);
    r.assert_clean(true);
}

/// The recorded job's algorithm.log as text (the node sends it in Docker's frames).
const ALGORITHM_LOG: &str = "algorithm started\n/data/inputs:\nalgoCustomData.json\nreefs.csv\n\
    /data/inputs/reefs.csv 4 lines\n/data/inputs/algoCustomData.json 0 lines\ndone\n";

#[tokio::test]
async fn c2d_a_job_whose_data_provisioning_failed_has_no_outputs_tar() {
    // Status 31 (every IPFS dataset on a real node): image.log, configuration.log, algorithm.log
    // and no outputs.tar. Nothing is numbered 1, so `%c2d result` does not untar image.log.
    let r = Replay::start(&["compute_status_finished"]).await;
    let job = record("compute_status_finished").request["query"]["jobId"].as_str().unwrap().to_string();
    let v = ComputeClient::new(&r.url).status(consumer().account(), &job).await.unwrap();
    let state = compute::state_of(&v).unwrap();
    assert_eq!(state.status, Status::from_code(31).unwrap());
    let names: Vec<(&str, usize)> = state.results.iter().map(|f| (f.filename.as_str(), f.index)).collect();
    assert_eq!(names, [("algorithm.log", 0), ("image.log", 2), ("configuration.log", 3)]);
    assert!(compute::results::node_index(v["results"].as_array().unwrap(), 1).is_none());
    r.assert_clean(true);
}

#[tokio::test]
async fn c2d_result_logs_and_stop_are_signed_as_the_node_checks() {
    let me = consumer();
    let dir = tempfile::tempdir().unwrap();
    let r = Replay::start_ignoring(
        &[
            "nonce_fresh_address",
            "free_compute_url_result_algorithmLog",
            "nonce_fresh_address",
            "free_compute_url_streamable_logs",
            "nonce_fresh_address",
            "compute_stop_running_job",
        ],
        &[NONCE],
    )
    .await;
    let c = ComputeClient::new(&r.url);
    let dest = dir.path().join("algorithm.log");
    let n = c.result(&me, JOB, 2, &dest).await.unwrap();
    let bytes = std::fs::read(&dest).unwrap();
    assert_eq!(
        (n, sha256_hex(&bytes).as_str()),
        (195, record("free_compute_url_result_algorithmLog").response["body"]["sha256"].as_str().unwrap())
    );
    // The node keeps Docker's multiplexed frames; kelp keeps the text (as `%c2d result` does).
    assert_eq!(String::from_utf8(compute::results::plain(&bytes)).unwrap(), ALGORITHM_LOG);
    let mut log = String::new();
    assert!(c.stream_logs(&me, JOB, &mut |s| log.push_str(s)).await.unwrap());
    // Streamed without the 8-byte frame headers a real node sends before each piece.
    assert_eq!(log, ALGORITHM_LOG);
    let stopped = record("compute_stop_running_job").request["query"]["jobId"].as_str().unwrap().to_string();
    c.stop(&me, &stopped).await.unwrap();
    r.assert_clean(true);

    // Not running: 404 "Job not found or not running" means "no stream", not an error.
    let r = Replay::start_ignoring(&["nonce_fresh_address", "compute_streamable_logs_running"], &[NONCE]).await;
    let failed = record("compute_streamable_logs_running").request["query"]["jobId"].as_str().unwrap().to_string();
    assert!(!ComputeClient::new(&r.url).stream_logs(&me, &failed, &mut |_| {}).await.unwrap());
    r.assert_clean(true);
}

#[tokio::test]
async fn the_replay_catches_a_request_shaped_unlike_the_real_clients() {
    // The route kelp used to post fileInfo to: the node's Express 404 page, and no record.
    let r = Replay::start(&["fileinfo_old_path"]).await;
    let http = reqwest::Client::new();
    let a = http
        .post(format!("{}/api/fileInfo", r.url))
        .json(&json!({"did": FREE, "serviceId": "0", "checksum": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(a.status(), 404);
    assert_eq!(wire::error_text(&a.text().await.unwrap()), "Cannot POST /api/fileInfo");
    // initializeCompute without payment (kelp's old body) matches no live record with payment.
    let r = Replay::start(&["kelp_c2d_initialize_compute_payment_added"]).await;
    let mut body =
        compute::initialize_body(&[(URL_DATASET, "0")], (BUSYBOX_ALGO, "0"), ENV, json!(null), consumer().account());
    body.as_object_mut().unwrap().remove("payment");
    assert!(ComputeClient::new(&r.url).initialize(&body).await.is_err());
    assert_eq!(r.problems().len(), 1, "{:?}", r.problems());
    // A nonce sent as a number where the real client sent a string is a shape problem.
    let r =
        Replay::start_ignoring(&["free_compute_url_start_ok"], &[("free_compute_url_start_ok", &["consumerAddress"])])
            .await;
    let mut sent = record("free_compute_url_start_ok").request["body"].clone();
    sent["nonce"] = json!(21);
    http.post(format!("{}/api/services/freeCompute", r.url)).json(&sent).send().await.unwrap();
    assert!(r.problems().iter().any(|p| p.contains("body.nonce: sent a number")), "{:?}", r.problems());
}

/// On the devnet, `$KELP_OCEAN_NODE_URL` replaces the local node (a real Ocean Node indexing the
/// devnet's chain, as in the recordings): the magics ask it — here, the replay — and an
/// unusable value is refused in one line, never ignored.
#[tokio::test]
async fn devnet_magics_use_kelp_ocean_node_url() {
    let home = tempfile::tempdir().unwrap();
    let _cleanup = common::Cleanup(kelp_ocean::devnet::DevnetPaths::new(home.path().join("ocean")));
    let port = kelp_ocean::devnet::process::free_port().unwrap();
    let r = Replay::start(&["kelp_assets_query_all", "kelp_assets_query_all", "ddo_found"]).await;
    let ctx = common::devnet_cell(home.path(), port);
    ctx.env("KELP_OCEAN_NODE_URL", Some(&r.url));
    // anvil #1 published the three recorded assets.
    let mine = ctx.run("ocean assets --mine --account 1").await.unwrap();
    let rows = mine.json().unwrap()["assets"].as_array().unwrap().clone();
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert!(rows.iter().all(|a| a["owner"] == json!(PUBLISHER)), "{rows:?}");
    let priced = ctx.run("ocean assets --text priced").await.unwrap();
    let rows = priced.json().unwrap()["assets"].as_array().unwrap().clone();
    assert_eq!((rows.len(), &rows[0]["did"], &rows[0]["prices"][0]["price"]), (1, &json!(PRICED), &json!("1.0")));
    let shown = ctx.run(&format!("ocean show {FREE}")).await.unwrap();
    assert_eq!(shown.json().unwrap()["metadata"]["name"], "Reef temperatures (recorded)");
    r.assert_clean(true);

    ctx.env.set("KELP_OCEAN_NODE_URL", Some("127.0.0.1:8000".into()));
    let e = one_line(&ctx.run(&format!("ocean show {FREE}")).await.unwrap_err());
    assert!(e.contains("$KELP_OCEAN_NODE_URL=`127.0.0.1:8000` is not an http(s) URL"), "{e}");
}
