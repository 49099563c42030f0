//! The local node's `fileInfo` against URL files that point into the node's own network, with the
//! node in its default mode (loopback refused) and in the devnet's mode (loopback allowed), and
//! its per-caller rate limit. The node runs in this process with its real router and fetcher;
//! the asset is put straight into its index (see `fetch_support`), so no chain is needed.

use kelp_ocean_node::fetch::FetchPolicy;

use kelp_ocean_node::testing::{DATA_CSV, file_info, hits, node_with_urls, origin};

#[tokio::test]
async fn file_info_refuses_loopback_private_and_mapped_urls_by_default_without_reaching_them() {
    let (port, secret_hits) = origin().await;
    for (url, class) in [
        (format!("http://127.0.0.1:{port}/secret"), "loopback"),
        (format!("http://localhost:{port}/secret"), "loopback"),
        (format!("http://[::ffff:127.0.0.1]:{port}/secret"), "loopback"),
        (format!("http://[::1]:{port}/secret"), "loopback"),
        (format!("http://2130706433:{port}/secret"), "loopback"),
        (format!("http://0.0.0.0:{port}/secret"), "unspecified"),
        ("http://169.254.169.254/latest/meta-data/".to_string(), "link-local"),
        ("http://[fd00::1]/x".to_string(), "unique-local"),
    ] {
        let (_node, base) = node_with_urls(FetchPolicy::default(), std::slice::from_ref(&url)).await;
        let (status, _, body) = file_info(&base).await;
        assert_eq!(status, 403, "{url}: {body}");
        assert!(
            body.contains(&format!("is a {class} address")) && body.contains("KELP_NODE_ALLOW_LOOPBACK"),
            "{url}: {body}"
        );
        assert!(!body.contains("/secret") && !body.contains("meta-data"), "the path leaked: {body}");
    }
    assert_eq!(hits(&secret_hits), 0, "the node reached the loopback server");
}

#[tokio::test]
async fn file_info_refuses_a_redirect_from_an_allowed_host_to_loopback() {
    let (port, secret_hits) = origin().await;
    // TEST ONLY: files.example stands in for a public host and is served by the loopback origin.
    let policy = || FetchPolicy {
        test_only_unchecked_hosts: vec![("files.example".into(), ([127, 0, 0, 1], 0).into())],
        ..FetchPolicy::default()
    };
    let (_node, base) = node_with_urls(policy(), &[format!("http://files.example:{port}/data.csv")]).await;
    let (status, _, body) = file_info(&base).await;
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v[0]["contentLength"], "8");
    assert_eq!(v[0]["checksum"].as_str().unwrap(), kelp_ocean_wire::ddo::file_checksum(DATA_CSV.as_bytes()));

    let (_node, base) = node_with_urls(policy(), &[format!("http://files.example:{port}/to-secret")]).await;
    let (status, _, body) = file_info(&base).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("host 127.0.0.1 is a loopback address"), "{body}");
    assert_eq!(hits(&secret_hits), 0, "the redirect was followed to the loopback server");
}

#[tokio::test]
async fn the_devnet_mode_fetches_loopback_but_still_refuses_private_addresses() {
    let (port, secret_hits) = origin().await;
    let devnet = || FetchPolicy { allow_loopback: true, ..FetchPolicy::default() };
    let (_node, base) = node_with_urls(devnet(), &[format!("http://127.0.0.1:{port}/secret")]).await;
    let (status, _, body) = file_info(&base).await;
    assert_eq!((status, hits(&secret_hits)), (200, 1), "{body}");
    for url in ["http://10.0.0.1/x", "http://169.254.169.254/latest/meta-data/", "http://[::ffff:192.168.1.1]/x"] {
        let (_node, base) = node_with_urls(devnet(), &[url.to_string()]).await;
        let (status, _, body) = file_info(&base).await;
        assert_eq!(status, 403, "{url}: {body}");
    }
}

#[tokio::test]
async fn file_info_is_rate_limited_per_caller_as_ocean_node_answers() {
    let (port, _) = origin().await;
    let policy = FetchPolicy { allow_loopback: true, file_info_per_minute: 3, ..FetchPolicy::default() };
    let (_node, base) = node_with_urls(policy, &[format!("http://127.0.0.1:{port}/data.csv")]).await;
    for i in 1..=3 {
        let (status, _, body) = file_info(&base).await;
        assert_eq!(status, 200, "request {i}: {body}");
    }
    // Ocean Node v3.1.0's answer (transcript rate_limit_req_4).
    let (status, content_type, body) = file_info(&base).await;
    assert_eq!(status, 429);
    assert_eq!(content_type, "text/html; charset=utf-8");
    assert_eq!(body, "Rate limit exceeded. Try again in 60 seconds.");
}
