//! A 600 MiB answer to the node's `fileInfo` is refused without the node holding it: the node
//! runs in this process (the devnet's mode, loopback allowed, default size cap), the origin
//! generates the bytes lazily from one static 64 KiB buffer, and the test asserts the process's
//! peak resident memory (`VmHWM`) stays under 200 MiB. Alone in its test binary so the peak is
//! this test's.

use axum::body::{Body, Bytes};
use axum::http::header;
use axum::routing::get;
use kelp_ocean::node::fetch::{DEFAULT_MAX_BYTES, FetchPolicy};

mod fetch_support;
use fetch_support::{file_info, node_with_urls};

const CHUNK: usize = 64 * 1024;
const TOTAL: usize = 600 * 1024 * 1024;
static ZEROS: [u8; CHUNK] = [0; CHUNK];

fn body() -> Body {
    Body::from_stream(futures::stream::iter(
        (0..TOTAL / CHUNK).map(|_| Ok::<_, std::io::Error>(Bytes::from_static(&ZEROS))),
    ))
}

/// `/chunked`: 600 MiB with no length; `/announced`: 600 MiB with its Content-Length.
async fn huge_origin() -> u16 {
    let l = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let port = l.local_addr().unwrap().port();
    let app = axum::Router::new()
        .route("/chunked", get(|| async { body() }))
        .route("/announced", get(|| async { ([(header::CONTENT_LENGTH, TOTAL.to_string())], body()) }));
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    port
}

/// Peak resident set of this process, in MiB.
fn peak_rss_mib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() / 1024
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_600_mib_answer_is_refused_and_never_held_in_memory() {
    assert!(DEFAULT_MAX_BYTES < TOTAL as u64, "the default cap must be below the answer");
    let port = huge_origin().await;
    for path in ["chunked", "announced"] {
        let policy = FetchPolicy { allow_loopback: true, ..FetchPolicy::default() };
        let (_node, base) = node_with_urls(policy, &[format!("http://127.0.0.1:{port}/{path}")]).await;
        let (status, _, body) = file_info(&base).await;
        assert_eq!(status, 413, "{path}: {body}");
        assert!(body.contains("larger than this node's limit") && body.contains("KELP_NODE_MAX_FILE_BYTES"), "{body}");
    }
    let peak = peak_rss_mib();
    assert!(peak < 200, "the process peaked at {peak} MiB while the node refused a 600 MiB answer");
}
