//! A 600 MiB answer to the node's `fileInfo` is refused without the node holding it: the node
//! runs in this process (the devnet's mode, loopback allowed, default size cap), the origin
//! generates the bytes lazily, and the test asserts the process's peak resident memory
//! (`VmHWM`) stays under 200 MiB. Alone in its test binary (not in tests/it) so the peak is this test's.

use kelp_ocean_node::fetch::{DEFAULT_MAX_BYTES, FetchPolicy};

use kelp_ocean_node::testing::{HUGE, file_info, node_with_urls, origin, peak_rss_mib};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_600_mib_answer_is_refused_and_never_held_in_memory() {
    assert!(DEFAULT_MAX_BYTES < HUGE as u64, "the default cap must be below the answer");
    let (port, _) = origin().await;
    for path in ["huge", "huge-announced"] {
        let policy = FetchPolicy { allow_loopback: true, ..FetchPolicy::default() };
        let (_node, base) = node_with_urls(policy, &[format!("http://127.0.0.1:{port}/{path}")]).await;
        let (status, _, body) = file_info(&base).await;
        assert_eq!(status, 413, "{path}: {body}");
        assert!(body.contains("larger than this node's limit") && body.contains("KELP_NODE_MAX_FILE_BYTES"), "{body}");
    }
    let peak = peak_rss_mib("self");
    assert!(peak < 200, "the process peaked at {peak} MiB while the node refused a 600 MiB answer");
}
